"""Read-only use cases: one appointment, a patient's appointments."""

from __future__ import annotations

from carebook.domain.actors import Actor, ActorKind
from carebook.domain.ids import AppointmentId, PatientId
from carebook.domain.scheduling.appointment import Appointment
from carebook.errors import NotFoundError
from carebook.services import authz
from carebook.services.context import Deps

__all__ = ["get_appointment", "list_patient_appointments"]


def get_appointment(deps: Deps, actor: Actor, appointment_id: AppointmentId) -> Appointment:
    with deps.storage.unit_of_work() as uow:
        return authz.load_appointment(uow, actor, appointment_id)


def list_patient_appointments(deps: Deps, actor: Actor, patient_id: PatientId) -> list[Appointment]:
    """A patient's own appointments; staff see those at their locations, and only of
    patients of their organisation (another's patient is NotFoundError, as is nobody)."""
    if actor.kind is ActorKind.PATIENT and actor.patient_id != patient_id:
        raise NotFoundError("patient", patient_id)
    with deps.storage.unit_of_work() as uow:
        authz.load_patient(uow, actor, patient_id)
        found = uow.appointments.for_patient(patient_id)
    if actor.kind is ActorKind.STAFF:
        found = [a for a in found if actor.works_at(a.location_id)]
    return found
