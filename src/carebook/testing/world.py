"""A small clinic built through the public API, for tests of use cases.

``make_world()`` returns a :class:`World`: one organisation with one location in
Europe/London, one practitioner working 09:00-17:00 on weekdays, one 30-minute service,
two patients (``alice`` and ``bob``), a ManualClock at Monday 2025-03-03 08:00 UTC and a
recording notifier. Appointments are booked for Tuesday (``at(10)`` is 10:00 that day).
Host applications may use it in their own tests the same way.
"""

from __future__ import annotations

import uuid
from typing import Any

import attrs
import pendulum
import pluggy

import carebook
from carebook import (
    Actor,
    Carebook,
    CarebookConfig,
    Event,
    Interval,
    Money,
)
from carebook.builtin.clocks import ManualClock
from carebook.builtin.notifiers import RecordingNotifier
from carebook.builtin.publishers import InProcessPublisher
from carebook.domain.notifications import Notification
from carebook.ports import Notifier, PaymentGateway
from carebook.scheduling import (
    Appointment,
    AvailabilityQuery,
    BookAppointment,
    HoldSlot,
    Location,
    Organisation,
    Patient,
    Practitioner,
    Service,
    WeeklyHours,
    WorkingPlan,
)

__all__ = ["DAY", "T0", "World", "add_practitioner", "at", "make_world"]

T0 = pendulum.datetime(2025, 3, 3, 8, 0, tz="UTC")
"""Monday 08:00 UTC; Europe/London is on UTC until the end of March."""
DAY = pendulum.datetime(2025, 3, 4, tz="UTC")
"""Tuesday: the day appointments are booked for."""


def at(hour: int, minute: int = 0) -> pendulum.DateTime:
    return DAY.add(hours=hour, minutes=minute)


@attrs.define
class World:
    cb: Carebook
    clock: ManualClock
    org: Organisation
    loc: Location
    pr: Practitioner
    svc: Service
    patients: list[Patient]

    @property
    def alice(self) -> Patient:
        return self.patients[0]

    @property
    def bob(self) -> Patient:
        return self.patients[1]

    @property
    def staff(self) -> Actor:
        return Actor.staff(self.loc.id)

    def new_patient(self, contact_ref: str | None = None) -> Patient:
        patient = self.cb.admin.register_patient(
            Actor.admin(),
            organisation_id=self.org.id,
            contact_ref=contact_ref or f"tel:{uuid.uuid4().hex}",
        )
        self.patients.append(patient)
        return patient

    def command(
        self,
        patient: Patient,
        start: pendulum.DateTime,
        *,
        key: str | None = None,
        services: tuple[Service, ...] | None = None,
        practitioner: Practitioner | None = None,
        hold_id: carebook.AppointmentId | None = None,
    ) -> BookAppointment:
        return BookAppointment(
            location_id=self.loc.id,
            practitioner_id=(practitioner or self.pr).id,
            patient_id=patient.id,
            service_ids=tuple(s.id for s in (services or (self.svc,))),
            start=start,
            idempotency_key=key or uuid.uuid4().hex,
            hold_id=hold_id,
        )

    def book(
        self,
        patient: Patient,
        start: pendulum.DateTime,
        *,
        actor: Actor | None = None,
        correlation_id: str | None = None,
        **kwargs: Any,
    ) -> Appointment:
        return self.cb.booking.book(
            actor or Actor.patient(patient.id),
            self.command(patient, start, **kwargs),
            correlation_id=correlation_id,
        )

    def hold_command(self, patient: Patient, start: pendulum.DateTime) -> HoldSlot:
        return HoldSlot(
            location_id=self.loc.id,
            practitioner_id=self.pr.id,
            patient_id=patient.id,
            service_ids=(self.svc.id,),
            start=start,
        )

    def hold(self, patient: Patient, start: pendulum.DateTime) -> Appointment:
        return self.cb.booking.hold(Actor.patient(patient.id), self.hold_command(patient, start))

    def appointments(self) -> list[Appointment]:
        """Every appointment of every patient, as stored."""
        return [
            a
            for p in self.patients
            for a in self.cb.queries.patient_appointments(Actor.system(), p.id)
        ]

    def starts(self, patient: Patient | None = None) -> list[pendulum.DateTime]:
        """Offered starts on DAY for the default service and practitioner."""
        query = AvailabilityQuery(
            service_ids=(self.svc.id,),
            window=Interval(DAY, DAY.add(days=1)),
            practitioner_ids={self.pr.id},
            patient_id=patient.id if patient else None,
        )
        return [
            s.start for s in self.cb.booking.search_availability(Actor.system(), self.org.id, query)
        ]

    @property
    def sent(self) -> list[Notification]:
        notifier = self.cb.notifiers.get("recording") or self.cb.notifiers["first"]
        assert isinstance(notifier, RecordingNotifier)
        return notifier.sent

    def snapshot(self) -> tuple[list[Appointment], list[Event], list[Notification]]:
        return self.appointments(), self.cb.events.pending(1000), list(self.sent)

    def record_events(self) -> list[Event]:
        """Subscribe to the in-process publisher; returns the list it fills."""
        seen: list[Event] = []
        publisher = self.cb.publisher
        assert isinstance(publisher, InProcessPublisher)
        publisher.subscribe(seen.append)
        return seen


def make_world(
    *,
    dispatch: str = "inline",
    plugin_manager: pluggy.PluginManager | None = None,
    notifiers: dict[str, Notifier] | None = None,
    payment_gateway: PaymentGateway | None = None,
    name: str = "carebook",
    **policy: Any,
) -> World:
    clock = ManualClock(T0)
    cb = carebook.bootstrap(
        CarebookConfig(notifiers=("recording",), dispatch=dispatch, name=name),
        clock=clock,
        plugin_manager=plugin_manager,
        notifiers=notifiers,
        payment_gateway=payment_gateway,
    )
    admin = Actor.admin()
    org = cb.admin.create_organisation(admin, name="Northside Clinics", **policy)
    loc = cb.admin.add_location(
        admin,
        organisation_id=org.id,
        name="High Street",
        timezone="Europe/London",
        opening_hours=WeeklyHours.every_day("08:00-18:00"),
    )
    pr = add_practitioner(cb, org, loc, "Dr Grey")
    svc = cb.admin.add_service(
        admin,
        organisation_id=org.id,
        name="Consultation",
        duration=30,
        price=Money(5000, "GBP"),
        practitioner_ids={pr.id},
    )
    world = World(cb, clock, org, loc, pr, svc, [])
    world.new_patient()
    world.new_patient()
    return world


def add_practitioner(cb: Carebook, org: Organisation, loc: Location, name: str) -> Practitioner:
    return cb.admin.add_practitioner(
        Actor.admin(),
        organisation_id=org.id,
        name=name,
        plans=[WorkingPlan(location_id=loc.id, hours=WeeklyHours.every_day("09:00-17:00"))],
    )
