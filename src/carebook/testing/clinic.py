"""The clinic builder of carebook's tests: a Carebook on a manual clock, and its clinic set
up through ``cb.admin``, one call per row.

Every clinic in :mod:`carebook.testing` (:mod:`~carebook.testing.world`,
:mod:`~carebook.testing.saga_world`, :mod:`~carebook.testing.walkin_world`,
:mod:`~carebook.testing.scenarios`) is built with it, and so are the tests' own clinics::

    cb, clock = open_carebook(CarebookConfig(notifiers=()), start=T0)
    clinic = ClinicBuilder.create(cb, "Northside Clinics", min_notice=0)
    loc = clinic.location("High Street")
    dr_grey = clinic.practitioner("Dr Grey", loc)
    consultation = clinic.service("Consultation", practitioners=[dr_grey])
    alice, bob = clinic.patients(2)

Defaults: locations in Europe/London open 08:00-18:00 every day, practitioners working
09:00-17:00 every day, a 30-minute service at GBP 50.00. Hours are a :class:`WeeklyHours`
or one wall-clock range for every day (``"09:00-17:00"``). Host applications may use it
in their own tests the same way. :mod:`carebook.testing.builders` builds domain values
without a Carebook, for the contract suites.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs
import pendulum

from carebook import Actor, Carebook, CarebookConfig, Money, bootstrap
from carebook.builtin.clocks import ManualClock
from carebook.scheduling import (
    Location,
    Organisation,
    Patient,
    Practitioner,
    Resource,
    Service,
    WeeklyHours,
    WorkingPlan,
)

__all__ = ["ADMIN", "ClinicBuilder", "Hours", "every_day", "open_carebook"]

ADMIN = Actor.admin()
"""The actor the builder sets the clinic up as."""

Hours = WeeklyHours | str
"""Weekly hours, or one wall-clock range (``"09:00-17:00"``) for every day."""


def every_day(hours: Hours) -> WeeklyHours:
    """``hours`` as :class:`WeeklyHours`: a string is one range on every day."""
    return WeeklyHours.every_day(hours) if isinstance(hours, str) else hours


def open_carebook(
    config: CarebookConfig | None = None, *, start: pendulum.DateTime, **overrides: Any
) -> tuple[Carebook, ManualClock]:
    """``bootstrap(config, clock=ManualClock(start), **overrides)``, and that clock.

    ``overrides`` are bootstrap's (``storage``, ``notifiers``, ``plugin_manager``,
    ``payment_gateway``, ...)."""
    clock = ManualClock(start)
    return bootstrap(config, clock=clock, **overrides), clock


@attrs.frozen
class ClinicBuilder:
    """Adds one organisation's rows through ``cb.admin``, as :data:`ADMIN`."""

    cb: Carebook
    org: Organisation

    @classmethod
    def create(cls, cb: Carebook, name: str, **policy: Any) -> ClinicBuilder:
        """Create the organisation ``name`` with booking ``policy`` (``min_notice=0``, ...)."""
        return cls(cb, cb.admin.create_organisation(ADMIN, name=name, **policy))

    def location(
        self,
        name: str = "Main",
        *,
        timezone: str = "Europe/London",
        hours: Hours = "08:00-18:00",
        **fields: Any,
    ) -> Location:
        """A location open ``hours`` (local wall-clock time)."""
        return self.cb.admin.add_location(
            ADMIN,
            organisation_id=self.org.id,
            name=name,
            timezone=timezone,
            opening_hours=every_day(hours),
            **fields,
        )

    def practitioner(
        self,
        name: str,
        *locations: Location,
        hours: Hours = "09:00-17:00",
        breaks: Hours | None = None,
    ) -> Practitioner:
        """A practitioner with the same working plan (``hours``, ``breaks``) at each of
        ``locations``."""
        plans = [
            WorkingPlan(
                location_id=loc.id,
                hours=every_day(hours),
                **({} if breaks is None else {"breaks": every_day(breaks)}),
            )
            for loc in locations
        ]
        return self.cb.admin.add_practitioner(
            ADMIN, organisation_id=self.org.id, name=name, plans=plans
        )

    def service(
        self,
        name: str = "Consultation",
        *,
        practitioners: Iterable[Practitioner],
        duration: int = 30,
        price: Money | None = None,
        **fields: Any,
    ) -> Service:
        """A service the ``practitioners`` offer (GBP 50.00 unless ``price``)."""
        return self.cb.admin.add_service(
            ADMIN,
            organisation_id=self.org.id,
            name=name,
            duration=duration,
            price=price or Money(5000, "GBP"),
            practitioner_ids={p.id for p in practitioners},
            **fields,
        )

    def resource(self, location: Location, name: str, *, category: str = "room") -> Resource:
        """A resource of ``category`` at ``location``."""
        return self.cb.admin.add_resource(
            ADMIN, location_id=location.id, name=name, category=category
        )

    def patient(self, **fields: Any) -> Patient:
        """A registered patient (``kind``, ``contact_ref``, ... as given)."""
        return self.cb.admin.register_patient(ADMIN, organisation_id=self.org.id, **fields)

    def patients(self, count: int, **fields: Any) -> list[Patient]:
        """``count`` patients, each registered with ``fields``."""
        return [self.patient(**fields) for _ in range(count)]
