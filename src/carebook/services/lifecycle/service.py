"""``cb.lifecycle``: an appointment's way from booked to fulfilled (or not).

Each transition is one unit of work; the allowed moves are the domain's
:data:`~carebook.domain.scheduling.appointment.TRANSITIONS` table, and who may make
them is checked here (see docs/lifecycle.md).
"""

from __future__ import annotations

from carebook.domain.actors import Actor
from carebook.domain.ids import AppointmentId
from carebook.domain.scheduling.appointment import Appointment
from carebook.services.booking.commands import CancelAppointment, RescheduleAppointment
from carebook.services.boundary import checked_api
from carebook.services.context import Deps
from carebook.services.lifecycle import reschedule, transitions

__all__ = ["Lifecycle"]


@checked_api
class Lifecycle:
    """Confirm, check in, run the treatment session, cancel, reschedule, and expire holds."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def confirm(
        self, actor: Actor, appointment_id: AppointmentId, *, correlation_id: str | None = None
    ) -> Appointment:
        """Reception confirms a ``pending`` appointment: it becomes ``booked``."""
        return transitions.confirm(self._deps, actor, appointment_id, correlation_id)

    def check_in(
        self, actor: Actor, appointment_id: AppointmentId, *, correlation_id: str | None = None
    ) -> Appointment:
        """The patient arrived (``booked`` -> ``arrived``); a patient may check in themselves."""
        return transitions.check_in(self._deps, actor, appointment_id, correlation_id)

    def start_session(
        self, actor: Actor, appointment_id: AppointmentId, *, correlation_id: str | None = None
    ) -> Appointment:
        """Start the treatment session of an arrived patient (inside its window)."""
        return transitions.start_session(self._deps, actor, appointment_id, correlation_id)

    def complete_session(
        self, actor: Actor, appointment_id: AppointmentId, *, correlation_id: str | None = None
    ) -> Appointment:
        """Complete the session: the appointment is ``fulfilled``."""
        return transitions.complete_session(self._deps, actor, appointment_id, correlation_id)

    def mark_no_show(
        self, actor: Actor, appointment_id: AppointmentId, *, correlation_id: str | None = None
    ) -> Appointment:
        """The patient did not come: ``noshow``."""
        return transitions.mark_no_show(self._deps, actor, appointment_id, correlation_id)

    def enter_in_error(
        self, actor: Actor, appointment_id: AppointmentId, *, correlation_id: str | None = None
    ) -> Appointment:
        """Mark an appointment that should never have existed (staff only)."""
        return transitions.enter_in_error(self._deps, actor, appointment_id, correlation_id)

    def cancel(
        self, actor: Actor, command: CancelAppointment, *, correlation_id: str | None = None
    ) -> Appointment:
        """Cancel. A patient cancels only their own, and not later than the policy's
        ``cancel_notice`` before the start; staff and admins may override the notice."""
        return transitions.cancel(self._deps, actor, command, correlation_id)

    def reschedule(
        self, actor: Actor, command: RescheduleAppointment, *, correlation_id: str | None = None
    ) -> Appointment:
        """Move a ``pending`` or ``booked`` appointment to a new slot, atomically: the new
        slot passes every reservation rule (the appointment's own time left out) and the
        old one is held until the move commits. Refusals: the rules' reason codes, and
        ``reschedule_notice`` / ``reschedule_limit`` from the policy, which staff may
        override with ``command.override_reason``. See docs/changes.md."""
        return reschedule.reschedule(self._deps, actor, command, correlation_id)

    def expire_holds(
        self, actor: Actor, *, correlation_id: str | None = None
    ) -> list[AppointmentId]:
        """Cancel holds whose time ran out (reason ``hold_expired``); returns their ids."""
        return transitions.expire_holds(self._deps, actor, correlation_id)
