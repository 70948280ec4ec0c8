"""Reschedule: move an appointment to a new slot in one unit of work.

The new slot goes through the whole reservation-rule pipeline with the appointment's own
busy time left out (:func:`carebook.services.reservations.check` with ``exclude``), and
storage moves the row in place (``uow.appointments.move``): the old span is held until
the new one commits, in the same transaction, so a refused move changes nothing and a
patient never loses the old slot before the new one is theirs. The appointment keeps
its id, status, services, price and payment.
"""

from __future__ import annotations

from carebook.domain.actors import Actor, ActorKind
from carebook.domain.scheduling.appointment import Appointment, Move
from carebook.domain.scheduling.rules import BookingRequest
from carebook.errors import ForbiddenError, IdempotencyConflictError, ValidationError
from carebook.ports import UnitOfWork
from carebook.services import authz, reservations
from carebook.services.booking.commands import RescheduleAppointment, move_fingerprint
from carebook.services.context import Deps

__all__ = ["reschedule"]


def _replay(current: Appointment, cmd: RescheduleAppointment, digest: str) -> bool:
    """True when this request already moved ``current``; IdempotencyConflictError when
    its key moved it with another request."""
    if cmd.idempotency_key is None:
        return False
    for move in current.moves:
        if move.idempotency_key == cmd.idempotency_key:
            if move.fingerprint != digest:
                raise IdempotencyConflictError(
                    "this idempotency key was used for a different reschedule"
                )
            return True
    return False


def reschedule(
    deps: Deps, actor: Actor, cmd: RescheduleAppointment, correlation_id: str | None = None
) -> Appointment:
    """Move the appointment; see :class:`RescheduleAppointment`. Who may: the patient
    (their own), staff at both the current and the new location, an administrator."""
    stamp = deps.stamp(correlation_id)
    overridden = cmd.override_reason is not None
    if overridden and actor.kind is ActorKind.PATIENT:
        raise ForbiddenError("a patient may not override the reschedule policy")
    digest = move_fingerprint(cmd)
    replayed: list[Appointment] = []

    def work(uow: UnitOfWork) -> Appointment:
        current = authz.load_appointment(uow, actor, cmd.appointment_id)
        if _replay(current, cmd, digest):
            replayed.append(current)
            return current
        location_id = cmd.location_id or current.location_id
        practitioner_id = cmd.practitioner_id or current.practitioner_id
        authz.require_may_book(actor, current.patient_id, location_id)
        _, calendar = reservations.load_booking(uow, current.patient_id, location_id)
        same = (cmd.start, practitioner_id, location_id) == (
            current.start,
            current.practitioner_id,
            current.location_id,
        )
        if same:
            raise ValidationError(f"appointment {current.id} is already at that slot")
        current.check_reschedule(
            stamp.now, calendar.policy_for(current.location_id), overridden=overridden
        )
        request = BookingRequest(
            location_id=location_id,
            practitioner_id=practitioner_id,
            patient_id=current.patient_id,
            service_ids=current.service_ids,
            start=cmd.start,
        )
        target = reservations.check(uow, deps, calendar, request, stamp.now, exclude=current.id)
        move = Move(
            idempotency_key=cmd.idempotency_key,
            fingerprint=digest,
            from_start=current.start,
            to_start=target.start,
            at=stamp.now,
            by=actor.kind.value,
            override_reason=cmd.override_reason,
        )
        moved, events = current.rescheduled(target, stamp, move)
        uow.appointments.move(moved, previous=current, now=stamp.now)
        uow.outbox.append(events)
        return moved

    moved = deps.write(work)
    if replayed:
        return moved
    deps.info(
        stamp,
        "rescheduled appointment=%s moves=%d overridden=%s",
        moved.id,
        len(moved.moves),
        overridden,
    )
    deps.after_commit()
    return moved
