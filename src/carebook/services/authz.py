"""Who may do what. To a patient, "not yours" and "does not exist" are one error; to
anyone, another organisation's patient and a patient who does not exist are one error."""

from __future__ import annotations

from carebook.domain.actors import Actor, ActorKind
from carebook.domain.ids import AppointmentId, LocationId, OrganisationId, PatientId
from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.calendar import Patient
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.errors import ForbiddenError, NotFoundError
from carebook.ports import UnitOfWork

__all__ = [
    "load_appointment",
    "load_patient",
    "require_admin",
    "require_may_book",
    "require_staff_at",
    "works_for",
]


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


def load_patient(
    uow: UnitOfWork,
    actor: Actor,
    patient_id: PatientId,
    calendar: ClinicCalendar | None = None,
) -> Patient:
    """The patient, if ``actor`` may name them (and, given the ``calendar`` the use case
    works in, they are a patient of its organisation).

    NotFoundError("patient", id) otherwise, the same error for each reason: no such
    patient, a patient of another organisation than the calendar's, another patient
    (to a patient), or a patient of an organisation the staff member does not work
    for. Admin and the system belong to no organisation and may name anyone. One
    patient read (and, without ``calendar``, one location read per staff location).
    """
    missing = NotFoundError("patient", patient_id)
    patient = uow.patients.get(patient_id)
    if patient is None:
        raise missing
    if calendar is not None and patient.organisation_id != calendar.organisation.id:
        raise missing
    if actor.kind is ActorKind.PATIENT and actor.patient_id != patient_id:
        raise missing
    if actor.kind is ActorKind.STAFF:
        if calendar is not None:  # the patient's organisation, already loaded
            here = any(lid in calendar.locations for lid in actor.location_ids)
        else:
            here = works_for(uow, actor, patient.organisation_id)
        if not here:
            raise missing
    return patient


def works_for(uow: UnitOfWork, actor: Actor, organisation_id: OrganisationId) -> bool:
    """Whether ``actor`` may act in the organisation: admin and system anywhere, staff
    when one of their locations belongs to it, a patient never."""
    if actor.is_privileged:
        return True
    for location_id in actor.location_ids if actor.kind is ActorKind.STAFF else ():
        location = uow.calendar.get_location(location_id)
        if location is not None and location.organisation_id == organisation_id:
            return True
    return False
