"""Lifecycle use cases: confirm, check in, session, no-show, cancel, entered-in-error.

Every transition runs in one unit of work with the deps' transition observers (the
walk-in queue among them), so what follows an appointment changes with it.
"""

from __future__ import annotations

from collections.abc import Callable

from carebook.domain.actors import Actor, ActorKind
from carebook.domain.events import Event, EventStamp
from carebook.domain.ids import AppointmentId
from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.errors import ForbiddenError, NotFoundError
from carebook.ports import UnitOfWork
from carebook.services import authz
from carebook.services.booking.commands import CancelAppointment
from carebook.services.context import Deps

__all__ = [
    "cancel",
    "check_in",
    "complete_session",
    "confirm",
    "enter_in_error",
    "expire_holds",
    "mark_no_show",
    "start_session",
]

Change = Callable[[Appointment, EventStamp, BookingPolicy], tuple[Appointment, list[Event]]]
Guard = Callable[[Actor, Appointment, EventStamp, BookingPolicy], None]


def _staff_only(action: str) -> Guard:
    def guard(actor: Actor, appointment: Appointment, _: EventStamp, __: BookingPolicy) -> None:
        if actor.kind is ActorKind.PATIENT:
            raise ForbiddenError(f"a patient may not {action}")
        authz.require_staff_at(actor, appointment.location_id, action)

    return guard


def _anyone_allowed(*_: object) -> None:
    """Visibility (checked on load) is all this use case needs."""


def _transition(
    deps: Deps,
    actor: Actor,
    appointment_id: AppointmentId,
    correlation_id: str | None,
    guard: Guard,
    change: Change,
    what: str,
) -> Appointment:
    stamp = deps.stamp(correlation_id)

    def work(uow: UnitOfWork) -> Appointment:
        current = authz.load_appointment(uow, actor, appointment_id)
        location = uow.calendar.get_location(current.location_id)
        organisation = uow.calendar.get_organisation(current.organisation_id)
        if location is None or organisation is None:
            raise NotFoundError("location", current.location_id)
        policy = location.policy or organisation.policy
        guard(actor, current, stamp, policy)
        updated, events = change(current, stamp, policy)
        uow.appointments.update(updated)
        for observe in deps.transition_observers:
            events += observe(uow, stamp, actor, current, updated)
        uow.outbox.append(events)
        return updated

    updated = deps.write(work)
    deps.info(stamp, "%s appointment=%s status=%s", what, updated.id, updated.status)
    deps.after_commit()
    return updated


def confirm(
    deps: Deps, actor: Actor, appointment_id: AppointmentId, correlation_id: str | None = None
) -> Appointment:
    """Reception confirms a pending appointment (pending -> booked)."""
    return _transition(
        deps,
        actor,
        appointment_id,
        correlation_id,
        _staff_only("confirm"),
        lambda a, s, _: a.confirm(s),
        "confirmed",
    )


def check_in(
    deps: Deps, actor: Actor, appointment_id: AppointmentId, correlation_id: str | None = None
) -> Appointment:
    """The patient arrived (booked -> arrived); the patient may check in themselves."""
    return _transition(
        deps,
        actor,
        appointment_id,
        correlation_id,
        _anyone_allowed,
        lambda a, s, _: a.check_in(s),
        "checked in",
    )


def start_session(
    deps: Deps, actor: Actor, appointment_id: AppointmentId, correlation_id: str | None = None
) -> Appointment:
    """Start treatment for an arrived patient, within the policy's session window."""
    return _transition(
        deps,
        actor,
        appointment_id,
        correlation_id,
        _staff_only("start a session"),
        lambda a, s, p: a.start_session(s, p),
        "session started",
    )


def complete_session(
    deps: Deps, actor: Actor, appointment_id: AppointmentId, correlation_id: str | None = None
) -> Appointment:
    """Finish treatment: the appointment becomes fulfilled."""
    return _transition(
        deps,
        actor,
        appointment_id,
        correlation_id,
        _staff_only("complete a session"),
        lambda a, s, _: a.complete_session(s),
        "session completed",
    )


def mark_no_show(
    deps: Deps, actor: Actor, appointment_id: AppointmentId, correlation_id: str | None = None
) -> Appointment:
    """Record a no-show, no earlier than ``no_show_grace`` after the start."""
    return _transition(
        deps,
        actor,
        appointment_id,
        correlation_id,
        _staff_only("record a no-show"),
        lambda a, s, p: a.no_show(s, p),
        "no-show",
    )


def enter_in_error(
    deps: Deps, actor: Actor, appointment_id: AppointmentId, correlation_id: str | None = None
) -> Appointment:
    """Mark an appointment that should never have existed."""
    return _transition(
        deps,
        actor,
        appointment_id,
        correlation_id,
        _staff_only("mark an appointment entered-in-error"),
        lambda a, s, _: a.enter_in_error(s),
        "entered in error",
    )


def cancel(
    deps: Deps, actor: Actor, cmd: CancelAppointment, correlation_id: str | None = None
) -> Appointment:
    """Cancel. A patient cancels only their own, and not later than ``cancel_notice``
    minutes before the start; staff and admins may override the notice."""

    def guard(
        actor: Actor, appointment: Appointment, stamp: EventStamp, policy: BookingPolicy
    ) -> None:
        appointment.check_cancel_notice(stamp.now, policy, by=actor.kind)

    return _transition(
        deps,
        actor,
        cmd.appointment_id,
        correlation_id,
        guard,
        lambda a, s, _: a.cancel(s, reason=cmd.reason, by=actor.kind.value),
        "cancelled",
    )


def expire_holds(
    deps: Deps, actor: Actor, correlation_id: str | None = None, limit: int = 100
) -> list[AppointmentId]:
    """Cancel holds whose time ran out (reason ``hold_expired``); returns their ids."""
    if not actor.is_privileged:
        raise ForbiddenError("only the system or an administrator may expire holds")
    stamp = deps.stamp(correlation_id)

    def work(uow: UnitOfWork) -> list[AppointmentId]:
        expired: list[AppointmentId] = []
        for hold in uow.appointments.expired_holds(stamp.now, limit):
            updated, events = hold.cancel(
                stamp, reason="hold_expired", by=actor.kind.value, expire=True
            )
            uow.appointments.update(updated)
            uow.outbox.append(events)
            expired.append(updated.id)
        return expired

    expired = deps.write(work)
    if expired:
        deps.info(stamp, "expired %d holds", len(expired))
        deps.after_commit()
    return expired
