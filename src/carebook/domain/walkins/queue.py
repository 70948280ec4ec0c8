"""Walk-in check-ins: per-location settings, queue entries, duty, and the decision.

A check-in puts a patient in the queue of a location. A walk-in check-in also reserves
treatment time: an ordinary :class:`~carebook.domain.scheduling.appointment.Appointment` (status
``arrived``) of ``slots`` consecutive slots of the location's walk-in service, with the
first practitioner on duty who can take the patient. The queue entry
(:class:`QueueEntry`) says it is a walk-in and how the patient checked in.

Everything here is pure; the services pass ``now`` in.
"""

from __future__ import annotations

import enum
import functools
import math
import uuid
from collections.abc import Callable
from typing import Any, Literal, NewType

import attrs
import pendulum
from attrs import frozen

from carebook.domain import ids, validators
from carebook.domain.ids import (
    AppointmentId,
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ServiceId,
)
from carebook.domain.instants import require_aware, to_epoch
from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.calendar import Location, PatientKind, Service
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.scheduling.working_time import location_blocks, location_closures
from carebook.domain.validators import instance_of, to_enum
from carebook.errors import ValidationError

__all__ = [
    "ACTIVE",
    "NO_PRACTITIONER",
    "WAIT_LIMIT",
    "CheckIn",
    "CheckInChannel",
    "CheckInOutcome",
    "CheckedIn",
    "DutyShift",
    "NoAvailability",
    "QueueEntry",
    "QueueEntryId",
    "QueueStatus",
    "WalkInSettings",
    "decide",
    "is_open",
    "search_calendar",
    "walk_in_service",
]

QueueEntryId = NewType("QueueEntryId", uuid.UUID)

NO_PRACTITIONER = "no_practitioner_available"
WAIT_LIMIT = "wait_limit_exceeded"


def _whole(low: int, high: int) -> Callable[[Any, attrs.Attribute[int], int], None]:
    def check(_: Any, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationError(f"{attribute.name} must be a whole number from {low} to {high}")

    return check


@frozen(kw_only=True)
class WalkInSettings:
    """How one location takes walk-ins. Durations are whole minutes.

    - ``service_id``: the walk-in visit; its duration is the length of one slot.
    - ``new_patient_slots`` / ``returning_patient_slots``: consecutive slots reserved.
    - ``wait_limit``: a walk-in whose wait would be longer is not reserved (a wait of
      exactly the limit is reserved).
    - ``no_show_grace``: a waiting patient not seen this long after their practitioner
      was ready for them is a no-show.
    - ``grid_minutes``: walk-in starts lie on this grid from each working block's start.
    - ``overrun_minutes``: a session past its expected length is expected to need this
      much more, counted from now (the practitioner is behind).
    """

    location_id: LocationId
    organisation_id: OrganisationId
    service_id: ServiceId
    new_patient_slots: int = attrs.field(default=2, validator=_whole(1, 16))
    returning_patient_slots: int = attrs.field(default=1, validator=_whole(1, 16))
    wait_limit: int = attrs.field(default=45, validator=_whole(0, 1440))
    no_show_grace: int = attrs.field(default=15, validator=_whole(0, 1440))
    grid_minutes: int = attrs.field(default=5, validator=_whole(1, 240))
    overrun_minutes: int = attrs.field(default=5, validator=_whole(1, 240))

    def slots_for(self, kind: PatientKind) -> int:
        return self.new_patient_slots if kind is PatientKind.NEW else self.returning_patient_slots


class CheckInChannel(enum.StrEnum):
    """Where the patient checked in."""

    APP = "app"
    DESK = "desk"


class QueueStatus(enum.StrEnum):
    """A queue entry's state: waiting, then in session, then one of the final states."""

    WAITING = "waiting"
    IN_SESSION = "in_session"
    DONE = "done"
    LEFT = "left"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


ACTIVE: frozenset[QueueStatus] = frozenset({QueueStatus.WAITING, QueueStatus.IN_SESSION})
"""Entries in these statuses are in the queue (and count for the wait estimate)."""


def _kind(value: object) -> PatientKind:
    return to_enum(PatientKind, value, "kind")


def _channel(value: object) -> CheckInChannel:
    return to_enum(CheckInChannel, value, "channel")


def _status(value: object) -> QueueStatus:
    return to_enum(QueueStatus, value, "status")


@frozen(kw_only=True)
class QueueEntry:
    """One patient in one location's queue, with the appointment that holds their time.

    ``kind`` is the visit kind (the patient's kind at check-in); ``reserved_start`` and
    ``reserved_end`` are the appointment's service time.
    """

    id: QueueEntryId
    organisation_id: OrganisationId
    location_id: LocationId
    patient_id: PatientId
    appointment_id: AppointmentId
    practitioner_id: PractitionerId
    kind: PatientKind = attrs.field(converter=_kind)
    channel: CheckInChannel = attrs.field(converter=_channel)
    walk_in: bool = attrs.field(validator=instance_of(bool))
    status: QueueStatus = attrs.field(converter=_status)
    checked_in_at: pendulum.DateTime
    reserved_start: pendulum.DateTime
    reserved_end: pendulum.DateTime
    started_at: pendulum.DateTime | None = None
    ended_at: pendulum.DateTime | None = None
    idempotency_key: str | None = None
    version: int = 1

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @functools.cached_property
    def reserved_seconds(self) -> int:
        return to_epoch(self.reserved_end) - to_epoch(self.reserved_start)

    def moved(self, status: QueueStatus, now: pendulum.DateTime) -> QueueEntry:
        """This entry in ``status`` at ``now`` (one version later)."""
        if status is QueueStatus.IN_SESSION:
            return attrs.evolve(self, status=status, started_at=now, version=self.version + 1)
        return attrs.evolve(self, status=status, ended_at=now, version=self.version + 1)


@frozen(kw_only=True)
class DutyShift:
    """A practitioner on duty at a location since ``since``; free (between sessions)
    since ``free_since``."""

    practitioner_id: PractitionerId
    location_id: LocationId
    since: pendulum.DateTime
    free_since: pendulum.DateTime


def _aware(value: object) -> pendulum.DateTime:
    return require_aware(value, "start")


@frozen(kw_only=True)
class CheckIn:
    """Check ``patient_id`` in at ``location_id``: a walk-in, or for ``appointment_id``.

    A retry with the same ``idempotency_key`` returns the first check-in.
    """

    location_id: LocationId = attrs.field(converter=ids.location_id, validator=ids.is_id)
    patient_id: PatientId = attrs.field(converter=ids.patient_id, validator=ids.is_id)
    channel: CheckInChannel = attrs.field(default=CheckInChannel.DESK, converter=_channel)
    appointment_id: AppointmentId | None = attrs.field(
        default=None,
        converter=ids.optional_appointment_id,
        validator=attrs.validators.optional(ids.is_id),
    )
    idempotency_key: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(validators.idempotency_key)
    )


def _ceil_minutes(seconds: int | None) -> int | None:
    return None if seconds is None else math.ceil(seconds / 60)


@frozen(kw_only=True)
class CheckedIn:
    """The patient is in the queue; ``wait_seconds`` until the reserved start."""

    entry: QueueEntry
    appointment: Appointment
    wait_seconds: int
    reserved: Literal[True] = True
    reason_code: None = None

    @property
    def wait_minutes(self) -> int:
        return math.ceil(self.wait_seconds / 60)


@frozen(kw_only=True)
class NoAvailability:
    """Nothing was reserved. ``reason_code`` is ``wait_limit_exceeded`` (with the wait
    the first possible reservation would have had) or ``no_practitioner_available``
    (nobody on duty can take the patient today; ``wait_seconds`` is None)."""

    location_id: LocationId
    reason_code: str
    wait_seconds: int | None
    wait_limit: int
    reserved: Literal[False] = False

    @property
    def wait_minutes(self) -> int | None:
        return _ceil_minutes(self.wait_seconds)


CheckInOutcome = CheckedIn | NoAvailability


def decide(now: int, first_start: int | None, wait_limit: int) -> tuple[str | None, int | None]:
    """``(refusal reason or None, wait in seconds)`` for the first possible start.

    A wait of exactly ``wait_limit`` minutes is accepted: "exceeds" means strictly longer.
    """
    if first_start is None:
        return NO_PRACTITIONER, None
    wait = max(0, first_start - now)
    if wait > wait_limit * 60:
        return WAIT_LIMIT, wait
    return None, wait


def is_open(location: Location, now: int) -> bool:
    """True if ``now`` (epoch seconds) is within opening hours and no closure covers it."""
    if any(s <= now < e for s, e in location_closures(location)):
        return False
    return any(s <= now < e for s, e in location_blocks(location, now - 86_400, now + 86_400))


def walk_in_service(service: Service, slots: int) -> Service:
    """A stand-in service ``slots`` times as long as ``service`` (searched, never stored)."""
    if slots == 1:
        return service
    ident = ServiceId(uuid.uuid5(service.id, f"walk-in/{slots}"))
    return attrs.evolve(service, id=ident, duration=service.duration * slots)


def search_calendar(
    calendar: ClinicCalendar, settings: WalkInSettings, stand_in: Service
) -> ClinicCalendar:
    """The calendar a walk-in is reserved against: the location's policy with no
    minimum notice and the walk-in grid, plus the stand-in service."""
    location = calendar.location(settings.location_id)
    policy = attrs.evolve(
        calendar.policy_for(location.id), min_notice=0, slot_interval=settings.grid_minutes
    )
    locations = {**calendar.locations, location.id: attrs.evolve(location, policy=policy)}
    services = {**calendar.services, stand_in.id: stand_in}
    return attrs.evolve(calendar, locations=locations, services=services)
