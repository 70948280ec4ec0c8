"""Hypothesis strategies for carebook's values, events and commands.

Every strategy builds values through the classes' own constructors with explicit
per-field strategies, so whatever it draws is valid. Instants are UTC pendulum
DateTimes in whole seconds between the years 2000 and 2100.
"""

from __future__ import annotations

import datetime as dt
import string
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import pendulum
from hypothesis import strategies as st

from carebook.domain.currencies import MINOR_UNITS
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
from carebook.domain.instants import Interval, from_epoch
from carebook.domain.money import Money
from carebook.domain.scheduling.appointment import (
    Appointment,
    AppointmentStatus,
    SessionStatus,
    TreatmentSession,
)
from carebook.domain.scheduling.calendar import (
    Closure,
    ClosureKind,
    DateOverride,
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
from carebook.services.booking.commands import BookAppointment, CancelAppointment, HoldSlot

__all__ = [
    "TIMEZONES",
    "appointments",
    "aware_datetimes",
    "book_appointment_commands",
    "booking_policies",
    "cancel_appointment_commands",
    "codes",
    "commands",
    "currencies",
    "events",
    "events_of_type",
    "hold_slot_commands",
    "ids",
    "intervals",
    "locations",
    "money",
    "names",
    "organisations",
    "patients",
    "practitioners",
    "resources",
    "services",
    "time_ranges",
    "timezones",
    "weekly_hours",
]

T = TypeVar("T")
St = st.SearchStrategy

TIMEZONES: tuple[str, ...] = (
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
)
"""IANA zones with whole-hour, half-hour, 45-minute and half-hour-DST offsets."""

_MIN_EPOCH = int(dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp())
_MAX_EPOCH = int(dt.datetime(2100, 1, 1, tzinfo=dt.UTC).timestamp())


def ids(kind: Callable[[uuid.UUID], T]) -> St[T]:
    """Random ids of one typed kind: ``ids(PatientId)``."""
    return st.uuids().map(kind)


def names() -> St[str]:
    """Non-blank display names (any Unicode)."""
    return st.text(min_size=1, max_size=40).filter(lambda s: bool(s.strip()))


def codes() -> St[str]:
    """Short machine-readable codes (``patient_request``) for reasons, entities, actors."""
    return st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=30)


def timezones() -> St[str]:
    """IANA zone names from :data:`TIMEZONES`."""
    return st.sampled_from(TIMEZONES)


def currencies() -> St[str]:
    """Every active ISO 4217 code carebook accepts."""
    return st.sampled_from(sorted(MINOR_UNITS))


def aware_datetimes(
    min_value: dt.datetime | None = None, max_value: dt.datetime | None = None
) -> St[pendulum.DateTime]:
    """UTC pendulum DateTimes in whole seconds, within [2000, 2100) unless narrowed."""
    low = int(min_value.timestamp()) if min_value else _MIN_EPOCH
    high = int(max_value.timestamp()) if max_value else _MAX_EPOCH - 1
    return st.integers(low, high).map(from_epoch)


def intervals(max_minutes: int = 7 * 24 * 60) -> St[Interval]:
    """Half-open intervals at least one second and at most ``max_minutes`` long."""
    return st.builds(
        lambda start, seconds: Interval(start, start.add(seconds=seconds)),
        aware_datetimes(),
        st.integers(1, max_minutes * 60),
    )


@st.composite
def time_ranges(draw: st.DrawFn) -> TimeRange:
    """Local wall-clock ranges ``00:00 <= start < end <= 24:00``."""
    start = draw(st.integers(0, 1439))
    return TimeRange(start, draw(st.integers(start + 1, 1440)))


@st.composite
def _day_ranges(draw: st.DrawFn) -> tuple[TimeRange, ...]:
    cuts = sorted(draw(st.lists(st.integers(0, 1440), unique=True, max_size=6)))
    return tuple(TimeRange(s, e) for s, e in zip(cuts[::2], cuts[1::2], strict=False))


def weekly_hours() -> St[WeeklyHours]:
    """Up to three disjoint ranges on any subset of weekdays."""
    return st.builds(WeeklyHours, st.dictionaries(st.integers(0, 6), _day_ranges()))


def money(currency: St[str] | None = None) -> St[Money]:
    """Integer minor units (negative too) in a valid currency."""
    return st.builds(Money, st.integers(-(10**12), 10**12), currency or currencies())


def booking_policies() -> St[BookingPolicy]:
    """Any policy the validators accept."""
    return st.builds(
        BookingPolicy,
        slot_interval=st.integers(1, 1440),
        min_notice=st.integers(0, 525_600),
        horizon_days=st.integers(1, 3660),
        hold_minutes=st.integers(1, 1440),
        cancel_notice=st.integers(0, 525_600),
        session_window_before=st.integers(0, 1440),
        session_window_after=st.integers(0, 1440),
        no_show_grace=st.integers(0, 1440),
        require_confirmation=st.booleans(),
    )


def organisations() -> St[Organisation]:
    return st.builds(Organisation, id=ids(OrganisationId), name=names(), policy=booking_policies())


def locations() -> St[Location]:
    """Locations with opening hours, closures and an optional policy override."""
    closures = st.builds(
        Closure, interval=intervals(), kind=st.sampled_from(ClosureKind), label=st.text()
    )
    return st.builds(
        Location,
        id=ids(LocationId),
        organisation_id=ids(OrganisationId),
        name=names(),
        timezone=timezones(),
        opening_hours=weekly_hours(),
        closures=st.lists(closures, max_size=3),
        policy=st.none() | booking_policies(),
    )


def practitioners() -> St[Practitioner]:
    """Practitioners with plans, breaks, date overrides and time off."""
    plans = st.builds(
        WorkingPlan, location_id=ids(LocationId), hours=weekly_hours(), breaks=weekly_hours()
    )
    overrides = st.builds(
        DateOverride,
        location_id=ids(LocationId),
        date=st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
        ranges=_day_ranges(),
    )
    return st.builds(
        Practitioner,
        id=ids(PractitionerId),
        organisation_id=ids(OrganisationId),
        name=names(),
        plans=st.lists(plans, max_size=3),
        overrides=st.lists(overrides, max_size=3),
        time_off=st.lists(intervals(), max_size=3),
    )


def services() -> St[Service]:
    return st.builds(
        Service,
        id=ids(ServiceId),
        organisation_id=ids(OrganisationId),
        name=names(),
        duration=st.integers(1, 480),
        price=money(),
        buffer_before=st.integers(0, 60),
        buffer_after=st.integers(0, 60),
        practitioner_ids=st.frozensets(ids(PractitionerId), max_size=3),
        needs=st.frozensets(codes(), max_size=3),
        location_ids=st.frozensets(ids(LocationId), max_size=3),
    )


def resources() -> St[Resource]:
    return st.builds(
        Resource,
        id=ids(ResourceId),
        location_id=ids(LocationId),
        name=names(),
        category=codes(),
        kind=st.sampled_from(ResourceKind),
    )


def patients() -> St[Patient]:
    return st.builds(
        Patient,
        id=ids(PatientId),
        organisation_id=ids(OrganisationId),
        kind=st.sampled_from(PatientKind),
        contact_ref=st.none()
        | st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=40),
        timezone=st.none() | timezones(),
    )


@st.composite
def appointments(draw: st.DrawFn) -> Appointment:
    """Appointments in any status with consistent times: buffers around ``start``/``end``,
    a hold expiry only when ``proposed``, a session only when arrived or fulfilled."""
    start = draw(aware_datetimes())
    end = start.add(minutes=draw(st.integers(1, 480)))
    status = draw(st.sampled_from(AppointmentStatus))
    created = start.subtract(minutes=draw(st.integers(0, 60 * 24 * 90)))
    session = None
    if status in (AppointmentStatus.ARRIVED, AppointmentStatus.FULFILLED) and draw(st.booleans()):
        done = status is AppointmentStatus.FULFILLED
        session = TreatmentSession(
            status=SessionStatus.COMPLETED if done else SessionStatus.IN_PROGRESS,
            started_at=start,
            completed_at=end if done else None,
        )
    return Appointment(
        id=draw(ids(AppointmentId)),
        organisation_id=draw(ids(OrganisationId)),
        location_id=draw(ids(LocationId)),
        practitioner_id=draw(ids(PractitionerId)),
        patient_id=draw(ids(PatientId)),
        service_ids=draw(st.lists(ids(ServiceId), min_size=1, max_size=3, unique=True)),
        resource_ids=draw(st.lists(ids(ResourceId), max_size=2, unique=True)),
        start=start,
        end=end,
        occupied_start=start.subtract(minutes=draw(st.integers(0, 60))),
        occupied_end=end.add(minutes=draw(st.integers(0, 60))),
        status=status,
        created_at=created,
        hold_expires_at=(
            created.add(minutes=draw(st.integers(1, 1440)))
            if status is AppointmentStatus.PROPOSED
            else None
        ),
        session=session,
        cancel_reason=draw(codes()) if status is AppointmentStatus.CANCELLED else None,
        idempotency_key=draw(st.none() | st.text(min_size=1, max_size=200)),
        request_fingerprint=draw(
            st.none() | st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
        ),
        version=draw(st.integers(1, 1000)),
    )


_EVENT_FIELDS: dict[str, St[Any]] = {
    "event_id": ids(EventId),
    "occurred_at": aware_datetimes(),
    "correlation_id": st.text(max_size=64),
    "organisation_id": ids(OrganisationId),
    "appointment_id": ids(AppointmentId),
    "location_id": ids(LocationId),
    "practitioner_id": ids(PractitionerId),
    "patient_id": ids(PatientId),
    "start": aware_datetimes(),
    "end": aware_datetimes(),
    "expires_at": aware_datetimes(),
    "status": st.sampled_from([AppointmentStatus.PENDING.value, AppointmentStatus.BOOKED.value]),
    "reason": codes(),
    "by": st.sampled_from(["patient", "staff", "admin", "system"]),
    "entity": codes(),
    "entity_id": st.uuids(),
    "change": codes(),
    "actor": codes(),
    "wait_minutes": st.none() | st.integers(0, 100_000),
    "previous_wait_minutes": st.none() | st.integers(0, 100_000),
    "queue_length": st.integers(0, 100_000),
    "practitioners_on_duty": st.integers(0, 10_000),
    "cause": codes(),
    "saga_id": ids(SagaId),
    "base_amount": st.integers(0, 10**12),
    "amount": st.integers(0, 10**12),
    "currency": st.sampled_from(["EUR", "INR", "JPY", "KWD", "USD"]),
    "discount": st.none() | codes(),
    "quota_day": st.dates(),
    "intent_id": st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=40),
    "step": codes(),
}


def events_of_type(cls: type[Event]) -> St[Event]:
    """Instances of the event class ``cls``; KeyError names a field with no strategy yet."""
    missing = [f.name for f in attrs.fields(cls) if f.name not in _EVENT_FIELDS]
    if missing:
        raise KeyError(f"no strategy for {cls.__name__} field(s) {missing}")
    return st.builds(cls, **{f.name: _EVENT_FIELDS[f.name] for f in attrs.fields(cls)})


def events() -> St[Event]:
    """Any domain event: one of every class in ``EVENT_TYPES``."""
    return st.one_of([events_of_type(cls) for cls in EVENT_TYPES])


def _service_lists() -> St[list[ServiceId]]:
    return st.lists(ids(ServiceId), min_size=1, max_size=3, unique=True)


def hold_slot_commands() -> St[HoldSlot]:
    return st.builds(
        HoldSlot,
        location_id=ids(LocationId),
        practitioner_id=ids(PractitionerId),
        patient_id=ids(PatientId),
        service_ids=_service_lists(),
        start=aware_datetimes(),
    )


def book_appointment_commands() -> St[BookAppointment]:
    return st.builds(
        BookAppointment,
        location_id=ids(LocationId),
        practitioner_id=ids(PractitionerId),
        patient_id=ids(PatientId),
        service_ids=_service_lists(),
        start=aware_datetimes(),
        idempotency_key=st.text(min_size=1, max_size=200),
        hold_id=st.none() | ids(AppointmentId),
    )


def cancel_appointment_commands() -> St[CancelAppointment]:
    return st.builds(
        CancelAppointment,
        appointment_id=ids(AppointmentId),
        reason=codes(),
        note=st.none() | st.text(max_size=200),
    )


def commands() -> St[HoldSlot | BookAppointment | CancelAppointment]:
    """Any client command."""
    return st.one_of(
        hold_slot_commands(), book_appointment_commands(), cancel_appointment_commands()
    )
