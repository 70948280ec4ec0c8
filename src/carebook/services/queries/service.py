"""``cb.queries``: read-only use cases through the actor matrix."""

from __future__ import annotations

from carebook.domain.actors import Actor
from carebook.domain.ids import AppointmentId, PatientId
from carebook.domain.scheduling.appointment import Appointment
from carebook.services.boundary import checked_api
from carebook.services.context import Deps
from carebook.services.queries import appointments

__all__ = ["Queries"]


@checked_api
class Queries:
    """Reads. To a patient, another patient's appointment does not exist."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def get_appointment(self, actor: Actor, appointment_id: AppointmentId) -> Appointment:
        """One appointment; to a patient, another's appointment does not exist."""
        return appointments.get_appointment(self._deps, actor, appointment_id)

    def patient_appointments(self, actor: Actor, patient_id: PatientId) -> list[Appointment]:
        """A patient's appointments, earliest first (staff: only at their locations)."""
        return appointments.list_patient_appointments(self._deps, actor, patient_id)
