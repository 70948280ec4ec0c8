"""Calendar rows and patients of the memory storage."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from carebook.builtin.memory.state import StagedChanges
from carebook.domain.ids import (
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ResourceId,
    ServiceId,
)
from carebook.domain.scheduling.calendar import (
    Location,
    Organisation,
    Patient,
    Practitioner,
    Resource,
    Service,
)
from carebook.domain.scheduling.clinic import ClinicCalendar

__all__ = ["MemoryCalendar", "MemoryPatients"]


class MemoryCalendar:
    """``uow.calendar`` of the memory storage."""

    def __init__(self, changes: StagedChanges) -> None:
        self._changes = changes

    def get_organisation(self, organisation_id: OrganisationId) -> Organisation | None:
        found: Organisation | None = self._changes.get("organisation", organisation_id)
        return found

    def save_organisation(self, organisation: Organisation) -> None:
        self._changes.put("organisation", organisation.id, organisation)

    def organisation_ids(
        self, after: OrganisationId | None = None, limit: int = 100
    ) -> list[OrganisationId]:
        with self._changes.state.lock:
            ids = set(self._changes.state.tables["organisation"])
        ids |= set(self._changes.rows.get("organisation", {}))
        ordered = sorted(i for i in ids if after is None or i > after)
        return [OrganisationId(i) for i in ordered[:limit]]

    def get_location(self, location_id: LocationId) -> Location | None:
        found: Location | None = self._changes.get("location", location_id)
        return found

    def save_location(self, location: Location) -> None:
        self._changes.put("location", location.id, location)

    def get_practitioner(self, practitioner_id: PractitionerId) -> Practitioner | None:
        found: Practitioner | None = self._changes.get("practitioner", practitioner_id)
        return found

    def save_practitioner(self, practitioner: Practitioner) -> None:
        self._changes.put("practitioner", practitioner.id, practitioner)

    def get_service(self, service_id: ServiceId) -> Service | None:
        found: Service | None = self._changes.get("service", service_id)
        return found

    def save_service(self, service: Service) -> None:
        self._changes.put("service", service.id, service)

    def get_resource(self, resource_id: ResourceId) -> Resource | None:
        found: Resource | None = self._changes.get("resource", resource_id)
        return found

    def save_resource(self, resource: Resource) -> None:
        self._changes.put("resource", resource.id, resource)

    def load(self, organisation_id: OrganisationId) -> ClinicCalendar | None:
        organisation = self.get_organisation(organisation_id)
        if organisation is None:
            return None

        def rows(table: str) -> list[Any]:
            with self._changes.state.lock:
                merged = dict(self._changes.state.tables[table])
            merged.update(self._changes.rows.get(table, {}))
            return [r for r in merged.values() if _org_of(r, merged_locations) == organisation_id]

        with self._changes.state.lock:
            merged_locations: Mapping[uuid.UUID, Location] = {
                **self._changes.state.tables["location"],
                **self._changes.rows.get("location", {}),
            }
        return ClinicCalendar.build(
            organisation,
            rows("location"),
            rows("practitioner"),
            rows("service"),
            rows("resource"),
        )


def _org_of(row: Any, locations: Mapping[uuid.UUID, Location]) -> uuid.UUID | None:
    if isinstance(row, Resource):
        location = locations.get(row.location_id)
        return location.organisation_id if location else None
    org: uuid.UUID = row.organisation_id
    return org


class MemoryPatients:
    """``uow.patients`` of the memory storage."""

    def __init__(self, changes: StagedChanges) -> None:
        self._changes = changes

    def get(self, patient_id: PatientId) -> Patient | None:
        found: Patient | None = self._changes.get("patient", patient_id)
        return found

    def save(self, patient: Patient) -> None:
        self._changes.put("patient", patient.id, patient)
