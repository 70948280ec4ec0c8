"""Walk-in use cases: check-in, leaving the queue, duty, the no-show sweep, wait times.

Reached as ``cb.walkins``. Each command is one unit of work: the appointment, the queue
entry, the learned durations and the ``WaitTimeChanged`` events change together or not
at all. Sessions start and end through the ordinary lifecycle
(``cb.lifecycle.start_session``, ``cb.lifecycle.complete_session``), whose transition
observer keeps the queue in step (:func:`carebook.services.walkins.queue.sync`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from carebook.domain.actors import Actor, ActorKind
from carebook.domain.events import CalendarChanged, EventStamp
from carebook.domain.ids import LocationId, OrganisationId, PractitionerId, ServiceId
from carebook.domain.walkins.queue import (
    CheckIn,
    CheckInOutcome,
    DutyShift,
    QueueEntry,
    QueueEntryId,
    QueueStatus,
    WalkInSettings,
)
from carebook.errors import (
    ForbiddenError,
    InvalidTransitionError,
    NotFoundError,
    ValidationError,
)
from carebook.ports import UnitOfWork
from carebook.services import authz
from carebook.services.boundary import checked_api
from carebook.services.context import Deps
from carebook.services.walkins import queue
from carebook.services.walkins.checkin import check_in, location_of, settings_at
from carebook.services.walkins.sweep import LocationWait, SweepResult, sweep, wait_times

__all__ = ["LocationWait", "SweepResult", "WalkIns"]

T = TypeVar("T")


@checked_api
class WalkIns:
    """Walk-in check-ins and live wait times (``cb.walkins``)."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def _run(self, stamp: EventStamp, work: Callable[[UnitOfWork], T], what: str, *ids: Any) -> T:
        result = self._deps.write(work)
        self._deps.info(stamp, what, *ids)
        self._deps.after_commit()
        return result

    # -- settings ---------------------------------------------------------------------
    def configure(
        self,
        actor: Actor,
        location_id: LocationId,
        *,
        service_id: ServiceId,
        correlation_id: str | None = None,
        **settings: Any,
    ) -> WalkInSettings:
        """Take walk-ins at a location (admin): the visit service, slot counts, limits."""
        authz.require_admin(actor, "configure walk-ins")
        stamp = self._deps.stamp(correlation_id)

        def work(uow: UnitOfWork) -> WalkInSettings:
            location = location_of(uow, location_id)
            service = uow.calendar.get_service(service_id)
            if service is None or service.organisation_id != location.organisation_id:
                raise NotFoundError("service", service_id)
            if not service.offered_at(location_id):
                raise ValidationError(f"service {service_id} is not offered at {location_id}")
            try:
                value = WalkInSettings(
                    location_id=location_id,
                    organisation_id=location.organisation_id,
                    service_id=service_id,
                    **settings,
                )
            except TypeError as exc:
                raise ValidationError(f"unknown walk-in setting: {exc}") from None
            uow.walkins.save_settings(value)
            change = CalendarChanged(
                **stamp.meta(),  # type: ignore[arg-type]
                organisation_id=location.organisation_id,
                entity="walk_in_settings",
                entity_id=location_id,
                change="updated",
                actor=actor.kind.value,
            )
            uow.outbox.append([change])
            return value

        return self._run(stamp, work, "walk-in settings location=%s", location_id)

    # -- check-in -----------------------------------------------------------------------
    def check_in(
        self, actor: Actor, command: CheckIn, *, correlation_id: str | None = None
    ) -> CheckInOutcome:
        """Check a patient in: a walk-in reserves time with the first practitioner
        free, or a booked appointment becomes ``arrived``. A walk-in that cannot be
        seen within the wait limit is a :class:`NoAvailability` and reserves nothing."""
        return check_in(self._deps, actor, command, correlation_id)

    # -- leaving, duty ------------------------------------------------------------------
    def leave_queue(
        self, actor: Actor, entry_id: QueueEntryId, *, correlation_id: str | None = None
    ) -> QueueEntry:
        """The patient leaves before being seen: their reservation is cancelled."""
        stamp = self._deps.stamp(correlation_id)

        def work(uow: UnitOfWork) -> QueueEntry:
            entry = _entry(uow, actor, entry_id)
            uow.walkins.lock_queue(entry.location_id)
            if entry.status is not QueueStatus.WAITING:
                raise InvalidTransitionError("queue entry", entry.status.value, "leave")
            appointment = authz.load_appointment(uow, actor, entry.appointment_id)
            cancelled, events = appointment.cancel(stamp, reason="left_queue", by=actor.kind.value)
            uow.appointments.update(cancelled)
            left = entry.moved(QueueStatus.LEFT, stamp.now)
            uow.walkins.update_entry(left)
            settings = settings_at(uow, entry.location_id)
            events += queue.publish(uow, stamp, settings, "left_queue")[1]
            uow.outbox.append(events)
            return left

        return self._run(stamp, work, "left queue entry=%s", entry_id)

    def on_duty(
        self,
        actor: Actor,
        location_id: LocationId,
        practitioner_id: PractitionerId,
        *,
        correlation_id: str | None = None,
    ) -> DutyShift:
        """The practitioner starts taking patients at the location (staff or admin)."""
        authz.require_staff_at(actor, location_id, "put a practitioner on duty")
        stamp = self._deps.stamp(correlation_id)

        def work(uow: UnitOfWork) -> DutyShift:
            uow.walkins.lock_queue(location_id)
            location = location_of(uow, location_id)
            practitioner = uow.calendar.get_practitioner(practitioner_id)
            if practitioner is None or practitioner.organisation_id != location.organisation_id:
                raise NotFoundError("practitioner", practitioner_id)
            if location_id not in practitioner.location_ids:
                raise ValidationError(
                    f"practitioner {practitioner_id} has no plan at {location_id}"
                )
            current = uow.walkins.duty_of(practitioner_id)
            if current is not None:
                if current.location_id == location_id:
                    return current
                raise InvalidTransitionError("practitioner", "on duty elsewhere", "put on duty")
            shift = DutyShift(
                practitioner_id=practitioner_id,
                location_id=location_id,
                since=stamp.now,
                free_since=stamp.now,
            )
            uow.walkins.save_duty(shift)
            settings = settings_at(uow, location_id)
            uow.outbox.append(queue.publish(uow, stamp, settings, "on_duty")[1])
            return shift

        return self._run(stamp, work, "on duty practitioner=%s", practitioner_id)

    def off_duty(
        self,
        actor: Actor,
        location_id: LocationId,
        practitioner_id: PractitionerId,
        *,
        correlation_id: str | None = None,
    ) -> None:
        """The practitioner stops taking patients (their waiting patients stay queued,
        and count for whoever is free first)."""
        authz.require_staff_at(actor, location_id, "take a practitioner off duty")
        stamp = self._deps.stamp(correlation_id)

        def work(uow: UnitOfWork) -> None:
            uow.walkins.lock_queue(location_id)
            current = uow.walkins.duty_of(practitioner_id)
            if current is None or current.location_id != location_id:
                raise NotFoundError("duty shift", practitioner_id)
            uow.walkins.end_duty(practitioner_id)
            settings = settings_at(uow, location_id)
            uow.outbox.append(queue.publish(uow, stamp, settings, "off_duty")[1])

        self._run(stamp, work, "off duty practitioner=%s", practitioner_id)

    # -- reads and the sweep ------------------------------------------------------------
    def queue(self, actor: Actor, location_id: LocationId) -> list[QueueEntry]:
        """The location's active queue, oldest check-in first (staff or admin)."""
        authz.require_staff_at(actor, location_id, "see the queue")
        with self._deps.storage.unit_of_work() as uow:
            return uow.walkins.active_entries([location_id])

    def wait_times(self, actor: Actor, organisation_id: OrganisationId) -> list[LocationWait]:
        """The current estimate at every walk-in location, shortest wait first."""
        return wait_times(self._deps, actor, organisation_id)

    def sweep(
        self, actor: Actor, organisation_id: OrganisationId, *, correlation_id: str | None = None
    ) -> SweepResult:
        """Run periodically (system or admin): record no-shows past their grace and
        announce estimates that moved because a practitioner fell behind."""
        return sweep(self._deps, actor, organisation_id, correlation_id)


def _entry(uow: UnitOfWork, actor: Actor, entry_id: QueueEntryId) -> QueueEntry:
    entry = uow.walkins.get_entry(entry_id)
    if entry is None or (actor.kind is ActorKind.PATIENT and entry.patient_id != actor.patient_id):
        raise NotFoundError("queue entry", entry_id)
    if actor.kind is not ActorKind.PATIENT and not actor.works_at(entry.location_id):
        raise ForbiddenError(f"{actor.kind.value} may not act on queue entry {entry_id}")
    return entry
