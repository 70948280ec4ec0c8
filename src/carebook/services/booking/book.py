"""Hold and book: run the reservation rules, then let storage guarantee no overlap."""

from __future__ import annotations

import attrs

from carebook.domain.actors import Actor, ActorKind
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.scheduling.rules import BookingRequest
from carebook.errors import (
    IdempotencyConflictError,
    RuleRejectedError,
    SlotUnavailableError,
    ValidationError,
)
from carebook.ports import UnitOfWork
from carebook.services import authz, reservations
from carebook.services.booking.commands import BookAppointment, HoldSlot, fingerprint, scoped_key
from carebook.services.context import Deps

__all__ = ["book", "hold"]


def _request(cmd: HoldSlot | BookAppointment) -> BookingRequest:
    return BookingRequest(
        location_id=cmd.location_id,
        practitioner_id=cmd.practitioner_id,
        patient_id=cmd.patient_id,
        service_ids=cmd.service_ids,
        start=cmd.start,
    )


def hold(deps: Deps, actor: Actor, cmd: HoldSlot, correlation_id: str | None = None) -> Appointment:
    """Reserve a slot for ``hold_minutes`` (status ``proposed``)."""
    stamp = deps.stamp(correlation_id)
    authz.require_may_book(actor, cmd.patient_id, cmd.location_id)

    def work(uow: UnitOfWork) -> Appointment:
        _, calendar = reservations.load_booking(uow, cmd.patient_id, cmd.location_id)

        def expiring(draft: Appointment) -> Appointment:
            policy = calendar.policy_for(cmd.location_id)
            return attrs.evolve(draft, hold_expires_at=stamp.now.add(minutes=policy.hold_minutes))

        appointment = reservations.reserve(
            uow, deps, calendar, _request(cmd), stamp.now, finish=expiring
        )
        uow.outbox.append([appointment.booked_event(stamp)])
        return appointment

    appointment = deps.write(work)
    deps.info(stamp, "held appointment=%s", appointment.id)
    deps.after_commit()
    return appointment


def book(
    deps: Deps, actor: Actor, cmd: BookAppointment, correlation_id: str | None = None
) -> Appointment:
    """Book ``cmd``; see :class:`BookAppointment` for idempotency."""
    stamp = deps.stamp(correlation_id)
    digest = fingerprint(cmd)
    authz.require_may_book(actor, cmd.patient_id, cmd.location_id)
    key = scoped_key(cmd)
    replayed: list[Appointment] = []

    def work(uow: UnitOfWork) -> Appointment:
        existing = uow.appointments.by_idempotency_key(key)
        if existing is not None:
            if existing.request_fingerprint != digest:
                raise IdempotencyConflictError(
                    "this idempotency key was used for a different request"
                )
            replayed.append(existing)
            return authz.load_appointment(uow, actor, existing.id)
        _, calendar = reservations.load_booking(uow, cmd.patient_id, cmd.location_id)
        request = _request(cmd)
        if cmd.hold_id is not None:
            held = _held(uow, actor, cmd)
            reservations.check(uow, deps, calendar, request, stamp.now, exclude=held.id)
            appointment, events = held.finalise_hold(
                stamp, confirmed=_confirmed(actor, calendar, cmd)
            )
            appointment = attrs.evolve(appointment, idempotency_key=key, request_fingerprint=digest)
            uow.appointments.update(appointment)
        else:

            def booked(draft: Appointment) -> Appointment:
                confirmed = _confirmed(actor, calendar, cmd)
                return attrs.evolve(
                    draft,
                    status=AppointmentStatus.BOOKED if confirmed else AppointmentStatus.PENDING,
                    idempotency_key=key,
                    request_fingerprint=digest,
                )

            appointment = reservations.reserve(
                uow, deps, calendar, request, stamp.now, finish=booked
            )
            events = [appointment.booked_event(stamp)]
        uow.outbox.append(events)
        return appointment

    try:
        appointment = deps.write(work)
    except (SlotUnavailableError, RuleRejectedError):
        # A concurrent retry of this very request may have taken the slot first; it
        # committed while this one was checking, so look for it before refusing.
        with deps.storage.unit_of_work() as uow:
            winner = uow.appointments.by_idempotency_key(key)
            if winner is None or winner.request_fingerprint != digest:
                raise
            return authz.load_appointment(uow, actor, winner.id)
    if replayed:
        return appointment
    deps.info(stamp, "booked appointment=%s status=%s", appointment.id, appointment.status)
    deps.after_commit()
    return appointment


def _confirmed(actor: Actor, calendar: ClinicCalendar, cmd: BookAppointment) -> bool:
    """Whether the booking is ``booked`` at once (else ``pending`` until reception confirms)."""
    policy = calendar.policy_for(cmd.location_id)
    return actor.kind is not ActorKind.PATIENT or not policy.require_confirmation


def _held(uow: UnitOfWork, actor: Actor, cmd: BookAppointment) -> Appointment:
    assert cmd.hold_id is not None
    held = authz.load_appointment(uow, actor, cmd.hold_id)
    same = (
        held.location_id == cmd.location_id
        and held.practitioner_id == cmd.practitioner_id
        and held.patient_id == cmd.patient_id
        and held.service_ids == cmd.service_ids
        and held.start == cmd.start
    )
    if not same:
        raise ValidationError(f"hold {held.id} is for a different slot than the booking")
    return held
