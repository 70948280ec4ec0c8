"""The check-in use case: a walk-in reservation, or a booked appointment arriving.

One write unit of work, holding the location's queue lock (``uow.walkins.lock_queue``):
look for a replay of the same idempotency key, check the patient, the location and
duplicates, then either reserve a walk-in (:mod:`.reserve`) or move a booked
appointment to ``arrived``, queue the patient, and announce the new wait. A walk-in
that would wait longer than the limit is a :class:`NoAvailability`: nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable

import pendulum

from carebook.domain.actors import Actor
from carebook.domain.events import Event, EventStamp
from carebook.domain.ids import LocationId
from carebook.domain.instants import to_epoch
from carebook.domain.scheduling.calendar import Location, Patient
from carebook.domain.walkins.queue import (
    NO_PRACTITIONER,
    CheckedIn,
    CheckIn,
    CheckInOutcome,
    NoAvailability,
    QueueEntry,
    WalkInSettings,
    decide,
    is_open,
)
from carebook.errors import (
    AlreadyCheckedInError,
    ConflictError,
    IdempotencyConflictError,
    NotFoundError,
    RuleRejectedError,
    SlotUnavailableError,
    ValidationError,
)
from carebook.ports import UnitOfWork
from carebook.services import authz
from carebook.services.context import Deps
from carebook.services.walkins import queue, reserve

__all__ = ["RACE_ATTEMPTS", "check_in", "location_of", "settings_at"]

RACE_ATTEMPTS = 10
"""A walk-in that still loses a race for its slot (a booking made by another writer
took it first) searches again, this many times at most."""


def settings_at(uow: UnitOfWork, location_id: LocationId) -> WalkInSettings:
    settings = uow.walkins.get_settings(location_id)
    if settings is None:
        raise RuleRejectedError(
            "queue_not_configured", f"location {location_id} keeps no walk-in queue"
        )
    return settings


def location_of(uow: UnitOfWork, location_id: LocationId) -> Location:
    location = uow.calendar.get_location(location_id)
    if location is None:
        raise NotFoundError("location", location_id)
    return location


def check_in(
    deps: Deps, actor: Actor, command: CheckIn, correlation_id: str | None
) -> CheckInOutcome:
    """See :meth:`carebook.services.walkins.service.WalkIns.check_in`."""
    authz.require_may_book(actor, command.patient_id, command.location_id)
    stamp = deps.stamp(correlation_id)
    key = None
    if command.idempotency_key is not None:
        key = f"{command.patient_id}/check-in/{command.idempotency_key}"

    def work(uow: UnitOfWork) -> CheckInOutcome:
        uow.walkins.lock_queue(command.location_id)
        if key is not None:
            replay = uow.walkins.entry_by_idempotency_key(key)
            if replay is not None:
                return _replay(uow, actor, replay, command, stamp.now)
        location = location_of(uow, command.location_id)
        patient = uow.patients.get(command.patient_id)
        if patient is None or patient.organisation_id != location.organisation_id:
            raise NotFoundError("patient", command.patient_id)
        settings = settings_at(uow, location.id)
        if uow.walkins.active_entry_for_patient(patient.id) is not None:
            raise AlreadyCheckedInError(f"patient {patient.id} is already checked in")
        if command.appointment_id is not None:
            return _booked(uow, stamp, actor, command, settings, patient, key)
        return _walk_in(uow, deps, stamp, command, location, settings, patient, key)

    outcome = _write_racing(deps, command, work)
    if isinstance(outcome, CheckedIn):
        deps.info(stamp, "checked in entry=%s", outcome.entry.id)
        deps.after_commit()
    return outcome


def _walk_in(
    uow: UnitOfWork,
    deps: Deps,
    stamp: EventStamp,
    command: CheckIn,
    location: Location,
    settings: WalkInSettings,
    patient: Patient,
    key: str | None,
) -> CheckInOutcome:
    now_s = to_epoch(stamp.now)
    if not is_open(location, now_s):
        raise RuleRejectedError("location_closed", f"location {location.id} is closed now")
    calendar = uow.calendar.load(location.organisation_id)
    if calendar is None:
        raise NotFoundError("organisation", location.organisation_id)
    search = reserve.prepare(calendar, settings, patient)
    current = queue.estimate(uow, settings, stamp.now)
    slot = reserve.first_slot(uow, search, settings, patient, current, stamp.now)
    start = None if slot is None else to_epoch(slot.start)
    reason, wait = decide(now_s, start, settings.wait_limit)
    if reason is not None or slot is None or wait is None:
        return NoAvailability(
            location_id=location.id,
            reason_code=reason or NO_PRACTITIONER,
            wait_seconds=wait,
            wait_limit=settings.wait_limit,
        )
    appointment = reserve.book_walk_in(uow, deps, search, slot, patient, stamp.now, key)
    entry = queue.enqueue(
        uow, stamp, appointment, patient.kind, command.channel, walk_in=True, key=key
    )
    events: list[Event] = [appointment.booked_event(stamp)]
    events += queue.publish(uow, stamp, settings, "check_in")[1]
    uow.outbox.append(events)
    return CheckedIn(entry=entry, appointment=appointment, wait_seconds=wait)


def _booked(
    uow: UnitOfWork,
    stamp: EventStamp,
    actor: Actor,
    command: CheckIn,
    settings: WalkInSettings,
    patient: Patient,
    key: str | None,
) -> CheckInOutcome:
    """A booked appointment arrives (the lifecycle's check-in) and joins the queue."""
    assert command.appointment_id is not None
    appointment = authz.load_appointment(uow, actor, command.appointment_id)
    if appointment.location_id != command.location_id or appointment.patient_id != patient.id:
        raise ValidationError("that appointment is for another patient or location")
    arrived, events = appointment.check_in(stamp)
    uow.appointments.update(arrived)
    entry = queue.enqueue(
        uow, stamp, arrived, patient.kind, command.channel, walk_in=False, key=key
    )
    current, changed = queue.publish(uow, stamp, settings, "check_in")
    uow.outbox.append([*events, *changed])
    free = current.free_from(arrived.practitioner_id) or 0
    wait = max(0, to_epoch(arrived.start) - current.now, free - current.now)
    return CheckedIn(entry=entry, appointment=arrived, wait_seconds=wait)


def _replay(
    uow: UnitOfWork, actor: Actor, entry: QueueEntry, command: CheckIn, now: pendulum.DateTime
) -> CheckedIn:
    """The first answer to a retried check-in (same key), if it is the same request."""
    same = (
        entry.location_id == command.location_id
        and entry.patient_id == command.patient_id
        and entry.channel is command.channel
        and (
            entry.appointment_id == command.appointment_id
            if command.appointment_id is not None
            else entry.walk_in
        )
    )
    if not same:
        raise IdempotencyConflictError("this idempotency key was used for a different check-in")
    appointment = authz.load_appointment(uow, actor, entry.appointment_id)
    wait = max(0, to_epoch(entry.reserved_start) - to_epoch(now))
    return CheckedIn(entry=entry, appointment=appointment, wait_seconds=wait)


def _write_racing(
    deps: Deps, command: CheckIn, work: Callable[[UnitOfWork], CheckInOutcome]
) -> CheckInOutcome:
    """Run a check-in; search again when another writer took the slot first, and
    report a racing duplicate check-in (a storage conflict) as AlreadyCheckedInError."""
    for _ in range(RACE_ATTEMPTS - 1):
        try:
            return deps.write(work)
        except SlotUnavailableError:
            continue
        except ConflictError as exc:
            if type(exc) is not ConflictError:
                raise
            with deps.storage.unit_of_work() as uow:
                if uow.walkins.active_entry_for_patient(command.patient_id) is None:
                    raise
            raise AlreadyCheckedInError(
                f"patient {command.patient_id} is already checked in"
            ) from exc
    return deps.write(work)
