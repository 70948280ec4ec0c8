"""Calendar rows over SQLAlchemy, and the per-process cache of decoded calendars."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, Table, select, update

from carebook.domain.ids import LocationId, OrganisationId, PractitionerId, ResourceId, ServiceId
from carebook.domain.scheduling.calendar import (
    Location,
    Organisation,
    Practitioner,
    Resource,
    Service,
)
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.errors import ConflictError
from carebook.serialization import dumps, loads
from carebook_sqlalchemy.repositories.base import (
    LOCATIONS,
    ORGS,
    PRACTITIONERS,
    RESOURCES,
    SERVICES,
    Rows,
    T,
)

__all__ = ["CalendarCache", "CalendarRepository"]


class CalendarCache:
    """Decoded calendars by organisation, each tagged with its ``calendar_version``.

    Shared by the units of work of one storage (one process). Entries are immutable
    ClinicCalendar snapshots; the version read from the database decides whether one
    may be reused.
    """

    def __init__(self) -> None:
        self._entries: dict[uuid.UUID, tuple[int, ClinicCalendar]] = {}

    def get(self, organisation_id: uuid.UUID, version: int) -> ClinicCalendar | None:
        entry = self._entries.get(organisation_id)
        return entry[1] if entry is not None and entry[0] == version else None

    def put(self, organisation_id: uuid.UUID, version: int, calendar: ClinicCalendar) -> None:
        self._entries[organisation_id] = (version, calendar)


class CalendarRepository:
    """Calendar rows; every change bumps the organisation's ``calendar_version`` in the
    same transaction, which is what lets :meth:`load` reuse a decoded calendar."""

    def __init__(
        self,
        conn: Connection,
        *,
        write: bool,
        cache: CalendarCache,
        seen_versions: dict[uuid.UUID, int],
    ) -> None:
        self._conn = conn
        self._rows = Rows(conn, write=write)
        self._cache = cache
        self._seen_versions = seen_versions
        self._changed = False  # this transaction changed a calendar: bypass the cache

    def _save(self, table: Table, organisation_id: uuid.UUID, values: dict[str, Any]) -> None:
        self._rows.upsert(table, {**values, "organisation_id": organisation_id})
        self._changed = True
        self._conn.execute(
            update(ORGS)
            .where(ORGS.c.id == organisation_id)
            .values(calendar_version=ORGS.c.calendar_version + 1)
        )

    def get_organisation(self, organisation_id: OrganisationId) -> Organisation | None:
        return self._rows.one(ORGS, organisation_id, Organisation)

    def save_organisation(self, organisation: Organisation) -> None:
        self._rows.require_write()
        self._changed = True
        stmt = self._rows.insert(ORGS).values(
            id=organisation.id, data=dumps(organisation), calendar_version=0
        )
        self._conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={"data": stmt.excluded.data, "calendar_version": ORGS.c.calendar_version + 1},
            )
        )

    def organisation_ids(
        self, after: OrganisationId | None = None, limit: int = 100
    ) -> list[OrganisationId]:
        stmt = select(ORGS.c.id).order_by(ORGS.c.id).limit(limit)
        if after is not None:
            stmt = stmt.where(ORGS.c.id > after)
        return [OrganisationId(i) for i in self._conn.execute(stmt).scalars()]

    def get_location(self, location_id: LocationId) -> Location | None:
        return self._rows.one(LOCATIONS, location_id, Location)

    def save_location(self, location: Location) -> None:
        self._save(
            LOCATIONS, location.organisation_id, {"id": location.id, "data": dumps(location)}
        )

    def get_practitioner(self, practitioner_id: PractitionerId) -> Practitioner | None:
        return self._rows.one(PRACTITIONERS, practitioner_id, Practitioner)

    def save_practitioner(self, practitioner: Practitioner) -> None:
        self._save(
            PRACTITIONERS,
            practitioner.organisation_id,
            {"id": practitioner.id, "data": dumps(practitioner)},
        )

    def get_service(self, service_id: ServiceId) -> Service | None:
        return self._rows.one(SERVICES, service_id, Service)

    def save_service(self, service: Service) -> None:
        self._save(SERVICES, service.organisation_id, {"id": service.id, "data": dumps(service)})

    def get_resource(self, resource_id: ResourceId) -> Resource | None:
        return self._rows.one(RESOURCES, resource_id, Resource)

    def save_resource(self, resource: Resource) -> None:
        location = self.get_location(resource.location_id)
        if location is None:
            raise ConflictError(f"resource {resource.id} names a location that does not exist")
        self._save(
            RESOURCES,
            location.organisation_id,
            {"id": resource.id, "location_id": resource.location_id, "data": dumps(resource)},
        )

    def load(self, organisation_id: OrganisationId) -> ClinicCalendar | None:
        """One query when this process has the current calendar version decoded; five
        otherwise, whatever the size of the organisation."""
        if not self._changed:
            # A patient read in this transaction already told the version: no query.
            seen = self._seen_versions.get(organisation_id)
            cached = None if seen is None else self._cache.get(organisation_id, seen)
            if cached is not None:
                return cached
        row = self._conn.execute(
            select(ORGS.c.data, ORGS.c.calendar_version).where(ORGS.c.id == organisation_id)
        ).first()
        if row is None:
            return None
        version = int(row.calendar_version)
        if not self._changed:
            cached = self._cache.get(organisation_id, version)
            if cached is not None:
                return cached

        def rows(table: Table, cls: type[T]) -> list[T]:
            stmt = select(table.c.data).where(table.c.organisation_id == organisation_id)
            return [loads(data, cls) for data in self._conn.execute(stmt).scalars()]

        calendar = ClinicCalendar.build(
            loads(row.data, Organisation),
            rows(LOCATIONS, Location),
            rows(PRACTITIONERS, Practitioner),
            rows(SERVICES, Service),
            rows(RESOURCES, Resource),
        )
        if not self._changed:
            # Rows read after the version are at least that new, never older: a later
            # load either finds this version again or a newer one and reloads.
            self._cache.put(organisation_id, version, calendar)
        return calendar
