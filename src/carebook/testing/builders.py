"""Small builders of valid domain objects, for contract suites and other tests.

Every builder returns a value that passes the domain's own validation, with fresh
random ids unless ``id=`` is given. Defaults describe an ordinary clinic: open and
staffed 08:00-18:00 every day in Europe/Berlin, a 30 minute consultation at EUR 50.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import pendulum
from attrs import frozen

from carebook.domain.events import EVENT_TYPES, Event
from carebook.domain.ids import (
    AppointmentId,
    EventId,
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ResourceId,
    SagaId,
    ServiceId,
)
from carebook.domain.instants import require_aware
from carebook.domain.money import Money
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.calendar import (
    Location,
    Organisation,
    Patient,
    PatientKind,
    Practitioner,
    Resource,
    ResourceKind,
    Service,
    TimeRange,
    WeeklyHours,
    WorkingPlan,
)
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.ports import UnitOfWork

__all__ = [
    "SmallClinic",
    "appointment",
    "event_of_type",
    "location",
    "one_event_of_each_type",
    "organisation",
    "patient",
    "practitioner",
    "resource",
    "service",
    "small_clinic",
]

Hours = Iterable[TimeRange | str]


def organisation(
    *,
    name: str = "Carebook Test Clinic",
    policy: BookingPolicy | None = None,
    id: OrganisationId | None = None,
) -> Organisation:
    """An organisation with the default (or the given) booking policy."""
    return Organisation(
        id=id or OrganisationId(uuid.uuid4()), name=name, policy=policy or BookingPolicy()
    )


def location(
    org: Organisation,
    *,
    hours: Hours = ("08:00-18:00",),
    weekdays: Iterable[int] = range(7),
    timezone: str = "Europe/Berlin",
    name: str = "Main Street",
    policy: BookingPolicy | None = None,
    id: LocationId | None = None,
) -> Location:
    """A location of ``org`` open ``hours`` (local wall-clock) on each of ``weekdays``."""
    return Location(
        id=id or LocationId(uuid.uuid4()),
        organisation_id=org.id,
        name=name,
        timezone=timezone,
        opening_hours=WeeklyHours.every_day(*hours, weekdays=weekdays),
        policy=policy,
    )


def practitioner(
    org: Organisation,
    *locations: Location,
    hours: Hours = ("08:00-18:00",),
    breaks: Hours = (),
    weekdays: Iterable[int] = range(7),
    name: str = "Dr Test",
    id: PractitionerId | None = None,
) -> Practitioner:
    """A practitioner of ``org`` with the same working plan at each of ``locations``."""
    days = tuple(weekdays)
    plans = [
        WorkingPlan(
            location_id=loc.id,
            hours=WeeklyHours.every_day(*hours, weekdays=days),
            breaks=WeeklyHours.every_day(*breaks, weekdays=days),
        )
        for loc in locations
    ]
    return Practitioner(
        id=id or PractitionerId(uuid.uuid4()), organisation_id=org.id, name=name, plans=plans
    )


def service(
    org: Organisation,
    *,
    name: str = "Consultation",
    duration: int = 30,
    price: Money | None = None,
    practitioners: Iterable[Practitioner] = (),
    needs: Iterable[str] = (),
    buffer_before: int = 0,
    buffer_after: int = 0,
    locations: Iterable[Location] = (),
    id: ServiceId | None = None,
) -> Service:
    """A service of ``org``; empty ``practitioners``/``locations`` mean anyone, anywhere."""
    return Service(
        id=id or ServiceId(uuid.uuid4()),
        organisation_id=org.id,
        name=name,
        duration=duration,
        price=price or Money(5000, "EUR"),
        buffer_before=buffer_before,
        buffer_after=buffer_after,
        practitioner_ids=frozenset(p.id for p in practitioners),
        needs=frozenset(needs),
        location_ids=frozenset(loc.id for loc in locations),
    )


def resource(
    loc: Location,
    *,
    category: str = "room",
    name: str = "Room 1",
    kind: ResourceKind = ResourceKind.ROOM,
    id: ResourceId | None = None,
) -> Resource:
    """A resource of ``category`` at ``loc``."""
    return Resource(
        id=id or ResourceId(uuid.uuid4()),
        location_id=loc.id,
        name=name,
        category=category,
        kind=kind,
    )


def patient(
    org: Organisation,
    *,
    kind: PatientKind = PatientKind.NEW,
    contact_ref: str | None = None,
    timezone: str | None = None,
    id: PatientId | None = None,
) -> Patient:
    """A patient of ``org``."""
    return Patient(
        id=id or PatientId(uuid.uuid4()),
        organisation_id=org.id,
        kind=kind,
        contact_ref=contact_ref,
        timezone=timezone,
    )


def appointment(
    *,
    location: Location,
    practitioner: Practitioner,
    patient: Patient,
    start: dt.datetime,
    minutes: int | None = None,
    services: Sequence[Service] = (),
    resources: Iterable[Resource] = (),
    status: AppointmentStatus = AppointmentStatus.BOOKED,
    buffer_before: int | None = None,
    buffer_after: int | None = None,
    created_at: dt.datetime | None = None,
    hold_expires_at: dt.datetime | None = None,
    idempotency_key: str | None = None,
    version: int = 1,
    id: AppointmentId | None = None,
) -> Appointment:
    """An appointment starting at ``start`` (aware) with ``status``.

    It lasts ``minutes`` (default: the services' total, else 30). Buffers default to the
    first service's ``buffer_before`` and the last one's ``buffer_after`` (else 0) and
    widen the occupied span. A ``proposed`` hold without ``hold_expires_at`` expires ten
    minutes after ``created_at`` (default: one day before ``start``).
    """
    begin = require_aware(start, "start")
    length = minutes if minutes is not None else sum(s.duration for s in services) or 30
    before = buffer_before if buffer_before is not None else _first(services, "buffer_before")
    after = buffer_after if buffer_after is not None else _last(services, "buffer_after")
    created = require_aware(created_at, "created_at") if created_at else begin.subtract(days=1)
    expires = require_aware(hold_expires_at, "hold_expires_at") if hold_expires_at else None
    if status is AppointmentStatus.PROPOSED and expires is None:
        expires = created.add(minutes=10)
    end = begin.add(minutes=length)
    return Appointment(
        id=id or AppointmentId(uuid.uuid4()),
        organisation_id=location.organisation_id,
        location_id=location.id,
        practitioner_id=practitioner.id,
        patient_id=patient.id,
        service_ids=tuple(s.id for s in services),
        resource_ids=tuple(r.id for r in resources),
        start=begin,
        end=end,
        occupied_start=begin.subtract(minutes=before),
        occupied_end=end.add(minutes=after),
        status=status,
        created_at=created,
        hold_expires_at=expires,
        idempotency_key=idempotency_key,
        version=version,
    )


def _first(services: Sequence[Service], name: str) -> int:
    return int(getattr(services[0], name)) if services else 0


def _last(services: Sequence[Service], name: str) -> int:
    return int(getattr(services[-1], name)) if services else 0


@frozen(kw_only=True)
class SmallClinic:
    """One organisation with one location and its practitioners, resources and patients.

    Every resource has category ``"room"``; the service is offered by all practitioners.
    """

    organisation: Organisation
    location: Location
    practitioners: tuple[Practitioner, ...]
    service: Service
    resources: tuple[Resource, ...]
    patients: tuple[Patient, ...]

    def save(self, uow: UnitOfWork) -> None:
        """Save every row through ``uow`` (a write unit of work); the caller commits."""
        uow.calendar.save_organisation(self.organisation)
        uow.calendar.save_location(self.location)
        for p in self.practitioners:
            uow.calendar.save_practitioner(p)
        uow.calendar.save_service(self.service)
        for r in self.resources:
            uow.calendar.save_resource(r)
        for patient in self.patients:
            uow.patients.save(patient)

    def appointment(self, start: dt.datetime, **kwargs: Any) -> Appointment:
        """:func:`appointment` at this clinic's location, for its service.

        Defaults to the first practitioner and the first patient.
        """
        kwargs.setdefault("practitioner", self.practitioners[0])
        kwargs.setdefault("patient", self.patients[0])
        kwargs.setdefault("services", (self.service,))
        return appointment(location=self.location, start=start, **kwargs)


def small_clinic(
    *,
    practitioners: int = 2,
    resources: int = 2,
    patients: int = 3,
    timezone: str = "Europe/Berlin",
    name: str = "Carebook Test Clinic",
) -> SmallClinic:
    """A :class:`SmallClinic` with the given head counts and fresh ids."""
    org = organisation(name=name)
    loc = location(org, timezone=timezone)
    staff = tuple(practitioner(org, loc, name=f"Dr Test {n + 1}") for n in range(practitioners))
    return SmallClinic(
        organisation=org,
        location=loc,
        practitioners=staff,
        service=service(org, practitioners=staff),
        resources=tuple(resource(loc, name=f"Room {n + 1}") for n in range(resources)),
        patients=tuple(patient(org) for _ in range(patients)),
    )


def _event_values(now: pendulum.DateTime) -> dict[str, Any]:
    return {
        "event_id": lambda: EventId(uuid.uuid4()),
        "occurred_at": lambda: now,
        "correlation_id": lambda: uuid.uuid4().hex,
        "organisation_id": lambda: OrganisationId(uuid.uuid4()),
        "appointment_id": lambda: AppointmentId(uuid.uuid4()),
        "location_id": lambda: LocationId(uuid.uuid4()),
        "practitioner_id": lambda: PractitionerId(uuid.uuid4()),
        "patient_id": lambda: PatientId(uuid.uuid4()),
        "start": lambda: now.add(days=1),
        "end": lambda: now.add(days=1, minutes=30),
        "expires_at": lambda: now.add(minutes=10),
        "status": lambda: AppointmentStatus.BOOKED.value,
        "reason": lambda: "patient_request",
        "by": lambda: "patient",
        "entity": lambda: "location",
        "entity_id": uuid.uuid4,
        "change": lambda: "updated",
        "actor": lambda: "admin",
        "wait_minutes": lambda: 20,
        "previous_wait_minutes": lambda: 15,
        "queue_length": lambda: 3,
        "practitioners_on_duty": lambda: 2,
        "cause": lambda: "check_in",
        "saga_id": lambda: SagaId(uuid.uuid4()),
        "base_amount": lambda: 110_000,
        "amount": lambda: 96_800,
        "currency": lambda: "INR",
        "discount": lambda: "birthday_or_high_value",
        "quota_day": lambda: now.date(),
        "intent_id": lambda: "pi_test_000001",
        "step": lambda: "void_payment",
        "previous_start": lambda: now.add(days=1, hours=-2),
        "previous_end": lambda: now.add(days=1, hours=-2, minutes=30),
        "previous_location_id": lambda: LocationId(uuid.uuid4()),
        "previous_practitioner_id": lambda: PractitionerId(uuid.uuid4()),
        "reschedules": lambda: 1,
        "overridden": lambda: False,
        "offset_minutes": lambda: 120,
    }


def event_of_type(cls: type[Event], *, now: dt.datetime | None = None, **overrides: Any) -> Event:
    """An instance of event class ``cls`` with fresh ids, stamped ``now``.

    ``overrides`` replace any field. A field this builder does not know raises
    KeyError: teach it the new field when adding an event type.
    """
    stamp = require_aware(now, "now") if now else pendulum.datetime(2030, 1, 7, 8)
    names = [f.name for f in attrs.fields(cls)]
    unknown = set(overrides) - set(names)
    if unknown:
        raise TypeError(f"{cls.__name__} has no field(s) {sorted(unknown)}")
    values = _event_values(stamp)
    return cls(**{n: overrides[n] if n in overrides else values[n]() for n in names})


def one_event_of_each_type(now: dt.datetime | None = None) -> list[Event]:
    """One instance of every class in ``EVENT_TYPES``, in that order."""
    return [event_of_type(cls, now=now) for cls in EVENT_TYPES]
