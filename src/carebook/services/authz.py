"""Who may do what. To a patient, "not yours" and "does not exist" are one error."""

from __future__ import annotations

from carebook.domain.actors import Actor, ActorKind
from carebook.domain.ids import AppointmentId, LocationId, PatientId
from carebook.domain.scheduling.appointment import Appointment
from carebook.errors import ForbiddenError, NotFoundError
from carebook.ports import UnitOfWork

__all__ = ["load_appointment", "require_admin", "require_may_book", "require_staff_at"]


def load_appointment(uow: UnitOfWork, actor: Actor, appointment_id: AppointmentId) -> Appointment:
    """The appointment if ``actor`` may see it; NotFoundError or ForbiddenError otherwise."""
    appointment = uow.appointments.get(appointment_id)
    if appointment is None:
        raise NotFoundError("appointment", appointment_id)
    if actor.kind is ActorKind.PATIENT:
        if appointment.patient_id != actor.patient_id:
            raise NotFoundError("appointment", appointment_id)
    elif not actor.works_at(appointment.location_id):
        raise ForbiddenError(f"{actor.kind.value} may not act on appointment {appointment_id}")
    return appointment


def require_staff_at(actor: Actor, location_id: LocationId, action: str) -> None:
    """Staff of the location, an admin or the system."""
    if not actor.works_at(location_id):
        raise ForbiddenError(f"{actor.kind.value} may not {action} at location {location_id}")


def require_admin(actor: Actor, action: str) -> None:
    if not actor.is_privileged:
        raise ForbiddenError(f"only an administrator may {action}")


def require_may_book(actor: Actor, patient_id: PatientId, location_id: LocationId) -> None:
    """A patient books for themselves; staff at their locations; admin/system anywhere."""
    if actor.kind is ActorKind.PATIENT:
        if actor.patient_id != patient_id:
            raise NotFoundError("patient", patient_id)
        return
    require_staff_at(actor, location_id, "book")
