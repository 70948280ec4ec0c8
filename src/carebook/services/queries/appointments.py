"""Read-only use cases: availability, one appointment, a patient's appointments."""

from __future__ import annotations

import attrs

from carebook.domain.actors import Actor, ActorKind
from carebook.domain.ids import AppointmentId, OrganisationId, PatientId
from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.availability import (
    AvailabilityQuery,
    AvailabilityResult,
    SlotShape,
    find_slots,
)
from carebook.errors import ForbiddenError, NotFoundError, ValidationError
from carebook.services import authz
from carebook.services.context import Deps

__all__ = ["get_appointment", "list_patient_appointments", "search_availability"]

MAX_WINDOW_DAYS = 62


def search_availability(
    deps: Deps, actor: Actor, organisation_id: OrganisationId, query: AvailabilityQuery
) -> AvailabilityResult:
    """Free slots; one calendar load and one busy-interval query, whatever the size.

    A patient's search also removes their own busy time; anyone may search.
    """
    if query.window.duration.days > MAX_WINDOW_DAYS:
        raise ValidationError(f"an availability window is at most {MAX_WINDOW_DAYS} days")
    if actor.kind is ActorKind.PATIENT:
        if query.patient_id not in (None, actor.patient_id):
            raise ForbiddenError("a patient searches only for themselves")
        query = attrs.evolve(query, patient_id=actor.patient_id)
    now = deps.clock.now()
    with deps.storage.unit_of_work() as uow:
        calendar = uow.calendar.load(organisation_id)
        if calendar is None:
            raise NotFoundError("organisation", organisation_id)
        for sid in query.service_ids:
            calendar.service(sid)
        for lid in query.location_ids:
            calendar.location(lid)
        for pid in query.practitioner_ids:
            calendar.practitioner(pid)
        services = [calendar.services[s] for s in query.service_ids]
        practitioners = frozenset.intersection(*(s.practitioner_ids for s in services))
        if query.practitioner_ids:
            practitioners &= query.practitioner_ids
        needs = frozenset().union(*(s.needs for s in services))
        resources = [r.id for r in calendar.resources.values() if r.category in needs]
        shape = SlotShape.of(services)
        margin = shape.before + shape.duration + shape.after
        busy = uow.appointments.busy_intervals(
            query.window.start_epoch - margin,
            query.window.end_epoch + margin,
            practitioner_ids=practitioners,
            resource_ids=resources,
            patient_ids=(query.patient_id,) if query.patient_id else (),
            now=now,
        )
    return find_slots(calendar, busy, query, now)


def get_appointment(deps: Deps, actor: Actor, appointment_id: AppointmentId) -> Appointment:
    with deps.storage.unit_of_work() as uow:
        return authz.load_appointment(uow, actor, appointment_id)


def list_patient_appointments(deps: Deps, actor: Actor, patient_id: PatientId) -> list[Appointment]:
    """A patient's own appointments; staff see those at their locations."""
    if actor.kind is ActorKind.PATIENT and actor.patient_id != patient_id:
        raise NotFoundError("patient", patient_id)
    with deps.storage.unit_of_work() as uow:
        if uow.patients.get(patient_id) is None:
            raise NotFoundError("patient", patient_id)
        found = uow.appointments.for_patient(patient_id)
    if actor.kind is ActorKind.STAFF:
        found = [a for a in found if actor.works_at(a.location_id)]
    return found
