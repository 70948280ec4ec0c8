"""The queue inside a unit of work: estimates, WaitTimeChanged, and lifecycle sync.

Every change to a location's queue (a check-in, a session starting or ending, a
practitioner going on or off duty, a patient leaving, a no-show, a cancellation)
recomputes that location's estimate and appends one ``WaitTimeChanged`` to the outbox,
in the same transaction. :func:`sync` is a transition observer
(:class:`carebook.services.context.TransitionObserver`), wired into ``Deps`` by
:func:`carebook.bootstrap`, so every lifecycle transition
(:mod:`carebook.services.lifecycle.transitions`) calls it: ``cb.lifecycle.start_session``,
``cb.lifecycle.complete_session``, ``cb.lifecycle.cancel`` ... keep the queue right
whichever way they are reached.
"""

from __future__ import annotations

import attrs
import pendulum

from carebook.domain.actors import Actor, ActorKind
from carebook.domain.events import Event, EventStamp, WaitTimeChanged
from carebook.domain.ids import PatientId
from carebook.domain.instants import to_epoch
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.calendar import PatientKind
from carebook.domain.walkins.queue import (
    CheckInChannel,
    QueueEntry,
    QueueEntryId,
    QueueStatus,
    WalkInSettings,
)
from carebook.domain.walkins.waittime import (
    DurationStats,
    PublishedWait,
    WaitEstimate,
    estimate_wait,
)
from carebook.errors import AlreadyCheckedInError, NotFoundError
from carebook.ports import UnitOfWork

__all__ = ["enqueue", "estimate", "learned", "publish", "sync"]

S = AppointmentStatus


def learned(uow: UnitOfWork, settings: WalkInSettings) -> dict[PatientKind, int]:
    """Learned mean visit length (seconds) per kind at the settings' location."""
    return {s.kind: s.mean_seconds for s in uow.walkins.durations([settings.location_id])}


def estimate(uow: UnitOfWork, settings: WalkInSettings, now: pendulum.DateTime) -> WaitEstimate:
    """The location's current estimate: three reads of current state, no history."""
    location_id = settings.location_id
    return estimate_wait(
        location_id,
        now=to_epoch(now),
        on_duty=[d.practitioner_id for d in uow.walkins.on_duty([location_id])],
        entries=uow.walkins.active_entries([location_id]),
        learned=learned(uow, settings),
        overrun_seconds=settings.overrun_minutes * 60,
    )


def publish(
    uow: UnitOfWork,
    stamp: EventStamp,
    settings: WalkInSettings,
    cause: str,
    *,
    only_if_changed: bool = False,
    current: WaitEstimate | None = None,
) -> tuple[WaitEstimate, list[Event]]:
    """Recompute the estimate (unless ``current`` is given), remember it, and return the
    ``WaitTimeChanged`` to append (none when ``only_if_changed`` and the minutes are what
    was last announced)."""
    if current is None:
        current = estimate(uow, settings, stamp.now)
    last = uow.walkins.published_waits([settings.location_id])
    previous = last[0].wait_minutes if last else None
    if only_if_changed and last and previous == current.wait_minutes:
        return current, []
    uow.walkins.save_published_wait(
        PublishedWait(
            location_id=settings.location_id,
            wait_minutes=current.wait_minutes,
            published_at=stamp.now,
        )
    )
    event = WaitTimeChanged(
        **stamp.meta(),  # type: ignore[arg-type]
        organisation_id=settings.organisation_id,
        location_id=settings.location_id,
        wait_minutes=current.wait_minutes,
        previous_wait_minutes=previous,
        queue_length=current.waiting,
        practitioners_on_duty=current.on_duty,
        cause=cause,
    )
    return current, [event]


def enqueue(
    uow: UnitOfWork,
    stamp: EventStamp,
    appointment: Appointment,
    kind: PatientKind,
    channel: CheckInChannel,
    *,
    walk_in: bool,
    key: str | None = None,
) -> QueueEntry:
    """Put the patient of ``appointment`` in its location's queue (waiting)."""
    if uow.walkins.active_entry_for_patient(appointment.patient_id) is not None:
        raise AlreadyCheckedInError(f"patient {appointment.patient_id} is already checked in")
    entry = QueueEntry(
        id=QueueEntryId(stamp.new_id()),
        organisation_id=appointment.organisation_id,
        location_id=appointment.location_id,
        patient_id=appointment.patient_id,
        appointment_id=appointment.id,
        practitioner_id=appointment.practitioner_id,
        kind=kind,
        channel=channel,
        walk_in=walk_in,
        status=QueueStatus.WAITING,
        checked_in_at=stamp.now,
        reserved_start=appointment.start,
        reserved_end=appointment.end,
        idempotency_key=key,
    )
    uow.walkins.add_entry(entry)
    return entry


def _patient_kind(uow: UnitOfWork, patient_id: PatientId) -> PatientKind:
    patient = uow.patients.get(patient_id)
    if patient is None:
        raise NotFoundError("patient", patient_id)
    return patient.kind


def _completed(
    uow: UnitOfWork, entry: QueueEntry, after: Appointment, now: pendulum.DateTime
) -> None:
    """Learn the visit's length, free the practitioner, and make the patient returning."""
    session = after.session
    if session is not None and session.completed_at is not None:
        observed = to_epoch(session.completed_at) - to_epoch(session.started_at)
        current = next(
            (s for s in uow.walkins.durations([entry.location_id]) if s.kind is entry.kind), None
        )
        uow.walkins.save_durations(
            DurationStats.learn(
                current, entry.location_id, entry.kind, observed, entry.reserved_seconds
            )
        )
    shift = uow.walkins.duty_of(entry.practitioner_id)
    if shift is not None and shift.location_id == entry.location_id:
        uow.walkins.save_duty(attrs.evolve(shift, free_since=now))
    patient = uow.patients.get(entry.patient_id)
    if patient is not None and patient.kind is PatientKind.NEW:
        uow.patients.save(attrs.evolve(patient, kind=PatientKind.RETURNING))


def sync(
    uow: UnitOfWork, stamp: EventStamp, actor: Actor, before: Appointment, after: Appointment
) -> list[Event]:
    """Bring the queue in line with a lifecycle transition; the events to append."""
    entry = uow.walkins.entry_for_appointment(after.id)
    if entry is None:
        if before.status is not S.BOOKED or after.status is not S.ARRIVED:
            return []
        settings = uow.walkins.get_settings(after.location_id)
        if settings is None:
            return []  # this location keeps no queue
        channel = CheckInChannel.APP if actor.kind is ActorKind.PATIENT else CheckInChannel.DESK
        kind = _patient_kind(uow, after.patient_id)
        enqueue(uow, stamp, after, kind, channel, walk_in=False)
        return publish(uow, stamp, settings, "check_in")[1]
    if not entry.active:
        return []
    if after.status is S.ARRIVED and after.session is not None:
        if entry.status is not QueueStatus.WAITING:
            return []
        moved, cause = entry.moved(QueueStatus.IN_SESSION, stamp.now), "session_started"
    elif after.status is S.FULFILLED:
        moved, cause = entry.moved(QueueStatus.DONE, stamp.now), "session_completed"
        _completed(uow, entry, after, stamp.now)
    elif after.status in (S.CANCELLED, S.ENTERED_IN_ERROR, S.NOSHOW):
        moved, cause = entry.moved(QueueStatus.CANCELLED, stamp.now), "cancelled"
    else:
        return []
    uow.walkins.update_entry(moved)
    settings = uow.walkins.get_settings(entry.location_id)
    return [] if settings is None else publish(uow, stamp, settings, cause)[1]
