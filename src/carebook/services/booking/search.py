"""The availability search use case: free slots for a query, in one calendar load and
one busy-time query, whatever the size of the clinic or its history."""

from __future__ import annotations

import attrs

from carebook.domain.actors import Actor, ActorKind
from carebook.domain.ids import OrganisationId
from carebook.domain.scheduling.availability import (
    AvailabilityQuery,
    AvailabilityResult,
    SlotShape,
    find_slots,
)
from carebook.domain.scheduling.search_filters import apply_search_filters, search_filters
from carebook.errors import ForbiddenError, NotFoundError, ValidationError
from carebook.services import authz
from carebook.services.context import Deps

__all__ = ["MAX_WINDOW_DAYS", "search_availability"]

MAX_WINDOW_DAYS = 62


def search_availability(
    deps: Deps, actor: Actor, organisation_id: OrganisationId, query: AvailabilityQuery
) -> AvailabilityResult:
    """Free slots; one calendar load and one busy-interval query, whatever the size.
    Plugin rules that filter search results
    (:mod:`carebook.domain.scheduling.search_filters`) then drop what they would refuse.

    A patient's search also removes their own busy time; anyone may search. A
    ``query.patient_id`` must name a patient of the organisation whom the actor may name
    (see :func:`carebook.services.authz.load_patient`): otherwise NotFoundError, the same
    for a patient of another organisation as for one who does not exist.
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
        if query.patient_id is not None:
            authz.load_patient(uow, actor, query.patient_id, calendar)
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
    found = find_slots(calendar, busy, query, now)
    return apply_search_filters(
        found, search_filters(deps.rules), calendar, patient_id=query.patient_id, now=now
    )
