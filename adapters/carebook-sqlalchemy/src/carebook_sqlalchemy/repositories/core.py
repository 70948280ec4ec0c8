"""Repositories over one SQLAlchemy connection (one unit of work)."""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Collection, Sequence
from typing import Any, TypeVar

import attrs
import pendulum
from sqlalchemy import (
    Connection,
    String,
    Table,
    Uuid,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from carebook.domain.events import Event
from carebook.domain.ids import (
    AppointmentId,
    EventId,
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ResourceId,
    ServiceId,
)
from carebook.domain.instants import to_epoch
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.busy import PATIENT, PRACTITIONER, RESOURCE, BusyInterval
from carebook.domain.scheduling.calendar import (
    Location,
    Organisation,
    Patient,
    Practitioner,
    Resource,
    Service,
)
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.errors import ConflictError, SlotUnavailableError, StorageError
from carebook.serialization import dumps, event_from_json, event_to_json, loads
from carebook_sqlalchemy.schema.core import (
    OCCUPYING_FIXED,
    AppointmentResourceRow,
    AppointmentRow,
    InboxRow,
    LocationRow,
    OrganisationRow,
    OutboxRow,
    PatientRow,
    PractitionerRow,
    ResourceRow,
    ServiceRow,
)

__all__ = ["Repositories"]

T = TypeVar("T")

ORGS: Table = OrganisationRow.__table__  # type: ignore[assignment]
LOCATIONS: Table = LocationRow.__table__  # type: ignore[assignment]
PRACTITIONERS: Table = PractitionerRow.__table__  # type: ignore[assignment]
SERVICES: Table = ServiceRow.__table__  # type: ignore[assignment]
RESOURCES: Table = ResourceRow.__table__  # type: ignore[assignment]
PATIENTS: Table = PatientRow.__table__  # type: ignore[assignment]
APPOINTMENTS: Table = AppointmentRow.__table__  # type: ignore[assignment]
APPT_RESOURCES: Table = AppointmentResourceRow.__table__  # type: ignore[assignment]
OUTBOX: Table = OutboxRow.__table__  # type: ignore[assignment]
INBOX: Table = InboxRow.__table__  # type: ignore[assignment]


def _insert(conn: Connection, table: Table) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class _Base:
    def __init__(self, conn: Connection, *, write: bool) -> None:
        self._conn = conn
        self._write = write

    def _require_write(self) -> None:
        if not self._write:
            raise StorageError("this unit of work is read-only; open it with write=True")

    def _upsert(self, table: Table, values: dict[str, Any]) -> None:
        self._require_write()
        stmt = _insert(self._conn, table).values(**values)
        changes = {k: v for k, v in values.items() if k != "id"}
        self._conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=changes))

    def _one(self, table: Table, ident: uuid.UUID, cls: type[T]) -> T | None:
        data = self._conn.execute(select(table.c.data).where(table.c.id == ident)).scalar()
        return None if data is None else loads(data, cls)


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


class CalendarRepository(_Base):
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
        super().__init__(conn, write=write)
        self._cache = cache
        self._seen_versions = seen_versions
        self._changed = False  # this transaction changed a calendar: bypass the cache

    def _save(self, table: Table, organisation_id: uuid.UUID, values: dict[str, Any]) -> None:
        self._upsert(table, {**values, "organisation_id": organisation_id})
        self._changed = True
        self._conn.execute(
            update(ORGS)
            .where(ORGS.c.id == organisation_id)
            .values(calendar_version=ORGS.c.calendar_version + 1)
        )

    def get_organisation(self, organisation_id: OrganisationId) -> Organisation | None:
        return self._one(ORGS, organisation_id, Organisation)

    def save_organisation(self, organisation: Organisation) -> None:
        self._require_write()
        self._changed = True
        stmt = _insert(self._conn, ORGS).values(
            id=organisation.id, data=dumps(organisation), calendar_version=0
        )
        self._conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={"data": stmt.excluded.data, "calendar_version": ORGS.c.calendar_version + 1},
            )
        )

    def get_location(self, location_id: LocationId) -> Location | None:
        return self._one(LOCATIONS, location_id, Location)

    def save_location(self, location: Location) -> None:
        self._save(
            LOCATIONS, location.organisation_id, {"id": location.id, "data": dumps(location)}
        )

    def get_practitioner(self, practitioner_id: PractitionerId) -> Practitioner | None:
        return self._one(PRACTITIONERS, practitioner_id, Practitioner)

    def save_practitioner(self, practitioner: Practitioner) -> None:
        self._save(
            PRACTITIONERS,
            practitioner.organisation_id,
            {"id": practitioner.id, "data": dumps(practitioner)},
        )

    def get_service(self, service_id: ServiceId) -> Service | None:
        return self._one(SERVICES, service_id, Service)

    def save_service(self, service: Service) -> None:
        self._save(SERVICES, service.organisation_id, {"id": service.id, "data": dumps(service)})

    def get_resource(self, resource_id: ResourceId) -> Resource | None:
        return self._one(RESOURCES, resource_id, Resource)

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


class PatientRepository(_Base):
    def __init__(
        self, conn: Connection, *, write: bool, seen_versions: dict[uuid.UUID, int]
    ) -> None:
        super().__init__(conn, write=write)
        self._seen_versions = seen_versions

    def get(self, patient_id: PatientId) -> Patient | None:
        """The patient, and (in the same statement) the calendar version of their
        organisation, which saves the calendar load that usually follows a query."""
        row = self._conn.execute(_PATIENT_WITH_VERSION, {"id": patient_id}).first()
        if row is None:
            return None
        patient = loads(row.data, Patient)
        self._seen_versions[patient.organisation_id] = int(row.calendar_version)
        return patient

    def save(self, patient: Patient) -> None:
        self._upsert(
            PATIENTS,
            {"id": patient.id, "organisation_id": patient.organisation_id, "data": dumps(patient)},
        )


def _blocks_time(appointment: Appointment) -> bool:
    return appointment.status is AppointmentStatus.PROPOSED or (
        appointment.status.value in OCCUPYING_FIXED
    )


def _epoch_or_none(value: pendulum.DateTime | None) -> int | None:
    return None if value is None else to_epoch(value)


@attrs.frozen
class _Vetted:
    """A busy read of this transaction that found no expired hold still blocking time:
    an insert inside its span and owners needs no release of expired holds, and (on
    SQLite, whose writers are serialised) no second look for overlaps."""

    start: int
    end: int
    now: int
    owners: frozenset[uuid.UUID]

    def covers(self, appointment: Appointment, start: int, end: int, now: int) -> bool:
        owners = {appointment.practitioner_id, appointment.patient_id}
        owners.update(appointment.resource_ids)
        return self.start <= start and end <= self.end and self.now == now and owners <= self.owners


class AppointmentRepository(_Base):
    def __init__(self, conn: Connection, *, write: bool) -> None:
        super().__init__(conn, write=write)
        self._vetted: list[_Vetted] = []

    def get(self, appointment_id: AppointmentId) -> Appointment | None:
        return self._one(APPOINTMENTS, appointment_id, Appointment)

    def add(self, appointment: Appointment, *, now: pendulum.DateTime) -> None:
        """Insert. On PostgreSQL the exclusion constraints refuse an overlap (23P01 ->
        SlotUnavailableError); on SQLite, whose writers are serialised by BEGIN
        IMMEDIATE, the overlap is re-checked here, inside the transaction."""
        self._require_write()
        start, end = appointment.occupied_epochs
        epoch_now = to_epoch(now)
        vetted = any(v.covers(appointment, start, end, epoch_now) for v in self._vetted)
        # What was vetted held before this write; the next write must look again.
        self._vetted.clear()
        if appointment.occupies(now) and not vetted:
            self._release_expired_holds(appointment, start, end, epoch_now)
            if self._conn.dialect.name != "postgresql":
                clash = self.busy_intervals(
                    start,
                    end,
                    now=now,
                    practitioner_ids=(appointment.practitioner_id,),
                    patient_ids=(appointment.patient_id,),
                    resource_ids=appointment.resource_ids,
                )
                if clash:
                    kind, owner = clash[0].owner_kind, clash[0].owner_id
                    raise SlotUnavailableError(f"{kind} {owner} is already booked at that time")
        blocks = _blocks_time(appointment) and appointment.occupies(now)
        expiry = _epoch_or_none(appointment.hold_expires_at)
        self._conn.execute(
            _INSERT_APPOINTMENT,
            {
                "id": appointment.id,
                "organisation_id": appointment.organisation_id,
                "location_id": appointment.location_id,
                "practitioner_id": appointment.practitioner_id,
                "patient_id": appointment.patient_id,
                "status": appointment.status.value,
                "start_at": to_epoch(appointment.start),
                "occupied_start": start,
                "occupied_end": end,
                "hold_expires_at": expiry,
                "blocks_time": blocks,
                "idempotency_key": appointment.idempotency_key,
                "version": appointment.version,
                "data": dumps(appointment),
            },
        )
        if appointment.resource_ids:
            self._conn.execute(
                APPT_RESOURCES.insert(),
                [
                    {
                        "appointment_id": appointment.id,
                        "resource_id": rid,
                        "occupied_start": start,
                        "occupied_end": end,
                        "hold_expires_at": expiry,
                        "blocks_time": blocks,
                    }
                    for rid in appointment.resource_ids
                ],
            )

    def _release_expired_holds(
        self, appointment: Appointment, start: int, end: int, now: int
    ) -> None:
        """Holds past their expiry stop blocking time before a new row claims it (the
        hold itself stays ``proposed`` until the expiry sweep cancels it)."""
        params = {
            "start": start,
            "end": end,
            "now": now,
            "practitioner": appointment.practitioner_id,
            "patient": appointment.patient_id,
            "resources": list(appointment.resource_ids),
        }
        self._conn.execute(_RELEASE_APPOINTMENTS, params)
        if appointment.resource_ids:
            self._conn.execute(_RELEASE_RESOURCES, params)

    def update(self, appointment: Appointment) -> None:
        self._require_write()
        start, end = appointment.occupied_epochs
        blocks = _blocks_time(appointment)
        if appointment.status is AppointmentStatus.PROPOSED:
            blocks = bool(
                self._conn.execute(
                    select(APPOINTMENTS.c.blocks_time).where(APPOINTMENTS.c.id == appointment.id)
                ).scalar()
            )
        result = self._conn.execute(
            update(APPOINTMENTS)
            .where(
                APPOINTMENTS.c.id == appointment.id,
                APPOINTMENTS.c.version == appointment.version - 1,
                APPOINTMENTS.c.occupied_start == start,
                APPOINTMENTS.c.occupied_end == end,
            )
            .values(
                status=appointment.status.value,
                version=appointment.version,
                hold_expires_at=_epoch_or_none(appointment.hold_expires_at),
                blocks_time=blocks,
                idempotency_key=appointment.idempotency_key,
                data=dumps(appointment),
            )
        )
        if result.rowcount != 1:
            self._explain_failed_update(appointment, start, end)
        self._conn.execute(
            update(APPT_RESOURCES)
            .where(APPT_RESOURCES.c.appointment_id == appointment.id)
            .values(blocks_time=blocks, hold_expires_at=_epoch_or_none(appointment.hold_expires_at))
        )

    def _explain_failed_update(self, appointment: Appointment, start: int, end: int) -> None:
        row = self._conn.execute(
            select(
                APPOINTMENTS.c.version, APPOINTMENTS.c.occupied_start, APPOINTMENTS.c.occupied_end
            ).where(APPOINTMENTS.c.id == appointment.id)
        ).first()
        if row is None:
            raise ConflictError(f"appointment {appointment.id} does not exist")
        if (row.occupied_start, row.occupied_end) != (start, end):
            raise StorageError("an appointment's time is changed by rescheduling, not update")
        raise ConflictError(f"appointment {appointment.id} was changed concurrently")

    def by_idempotency_key(self, key: str) -> Appointment | None:
        data = self._conn.execute(_BY_IDEMPOTENCY_KEY, {"key": key}).scalar()
        return None if data is None else loads(data, Appointment)

    def starting_between(
        self, location_ids: Collection[LocationId], start: int, end: int
    ) -> list[Appointment]:
        if not location_ids:
            return []
        stmt = (
            select(APPOINTMENTS.c.data)
            .where(
                APPOINTMENTS.c.location_id.in_(list(location_ids)),
                APPOINTMENTS.c.start_at >= start,
                APPOINTMENTS.c.start_at < end,
            )
            .order_by(APPOINTMENTS.c.start_at, APPOINTMENTS.c.id)
        )
        found = [loads(d, Appointment) for d in self._conn.execute(stmt).scalars()]
        return sorted(found, key=lambda a: (a.start, str(a.id)))

    def for_patient(self, patient_id: PatientId) -> list[Appointment]:
        stmt = (
            select(APPOINTMENTS.c.data)
            .where(APPOINTMENTS.c.patient_id == patient_id)
            .order_by(APPOINTMENTS.c.start_at, APPOINTMENTS.c.id)
        )
        found = [loads(d, Appointment) for d in self._conn.execute(stmt).scalars()]
        return sorted(found, key=lambda a: (a.start, str(a.id)))

    def busy_intervals(
        self,
        start: int,
        end: int,
        *,
        practitioner_ids: Collection[uuid.UUID] = (),
        resource_ids: Collection[uuid.UUID] = (),
        patient_ids: Collection[uuid.UUID] = (),
        now: pendulum.DateTime,
        exclude: uuid.UUID | None = None,
    ) -> list[BusyInterval]:
        """One statement: a UNION ALL branch per kind of owner asked for. For more than
        :data:`AGGREGATE_FROM_OWNERS` owners (a search), one row per owner with its spans
        as text (``"start,end,start,end..."``); otherwise (a booking) a row per span.

        A search reads thousands of spans; one row each cost more in the driver and in
        Python than the search itself, so the database concatenates them and Python
        splits one string per owner. A booking reads a handful, where the aggregation
        would only add work on the server. Holds past their expiry are left out of the text
        and reported by a flag; when no owner has one, the read vouches for the span
        (see :class:`_Vetted`). Appointment ids are not read: ``exclude`` is applied in
        the statement.
        """
        wanted = (bool(practitioner_ids), bool(patient_ids), bool(resource_ids))
        if not any(wanted):
            return []
        epoch_now = to_epoch(now)
        params = {
            "start": start,
            "end": end,
            "practitioners": list(practitioner_ids),
            "patients": list(patient_ids),
            "resources": list(resource_ids),
            "exclude": exclude,
            "now": epoch_now,
        }
        owners: dict[object, uuid.UUID] = {}
        for owner in (*practitioner_ids, *patient_ids, *resource_ids):
            owners[owner] = owner
            owners[owner.hex] = owner  # SQLite's CHAR(32) cast to text
            owners[str(owner)] = owner  # PostgreSQL's uuid cast to text
        count = len(practitioner_ids) + len(patient_ids) + len(resource_ids)
        aggregated = count > AGGREGATE_FROM_OWNERS
        arrays = aggregated and self._conn.dialect.name == "postgresql"
        shape = _Shape(wanted, exclude is not None, aggregated, arrays)
        rows = self._conn.execute(_busy_statement(shape), params)
        # tuple.__new__ skips the NamedTuple's own __new__: a search builds thousands.
        new = tuple.__new__
        busy: list[BusyInterval] = []
        expired = False
        if aggregated:
            for kind, owner, spans, any_expired in rows:
                expired = expired or bool(any_expired)
                if spans:
                    ident = owners[owner]
                    bounds = iter(map(int, spans.split(",")))
                    pairs = zip(bounds, bounds, strict=False)  # one iterator: (start, end)
                    busy.extend(new(BusyInterval, (kind, ident, s, e, None)) for s, e in pairs)
        else:
            for kind, owner, s, e, expires in rows:
                if expires is None or expires > epoch_now:
                    busy.append(new(BusyInterval, (kind, owners[owner], s, e, None)))
                else:
                    expired = True
        if self._write and not expired:
            self._vetted.append(_Vetted(start, end, epoch_now, frozenset(owners.values())))
        return busy

    def expired_holds(self, now: pendulum.DateTime, limit: int = 100) -> list[Appointment]:
        stmt = (
            select(APPOINTMENTS.c.data)
            .where(
                APPOINTMENTS.c.status == AppointmentStatus.PROPOSED.value,
                APPOINTMENTS.c.hold_expires_at <= to_epoch(now),
            )
            .order_by(APPOINTMENTS.c.hold_expires_at, APPOINTMENTS.c.id)
            .limit(limit)
        )
        found = [loads(d, Appointment) for d in self._conn.execute(stmt).scalars()]
        return [h for h in found if not h.occupies(now)]


def _busy_branch(kind: str, table: Table, owner: str, ids: str, appt: str, *, shape: _Shape) -> Any:
    c = table.c
    # For many owners PostgreSQL takes them as one array parameter: the statement text
    # is then the same for any number of owners, so the server plans it once. A few
    # owners (a booking's) and SQLite, which has no arrays, use an expanding IN.
    among = (
        c[owner] == any_(bindparam(ids, type_=postgresql.ARRAY(Uuid)))
        if shape.arrays
        else c[owner].in_(bindparam(ids, expanding=True))
    )
    window = (
        among,
        c.occupied_end > bindparam("start"),
        c.occupied_start < bindparam("end"),
        c.blocks_time.is_(True),
        *((c[appt] != bindparam("exclude"),) if shape.excluding else ()),
    )
    if not shape.aggregated:
        # A row per span: cheapest for the handful of spans a booking reads.
        return select(
            literal(kind).label("kind"),
            cast(c[owner], String).label("owner"),
            c.occupied_start,
            c.occupied_end,
            c.hold_expires_at.label("expires"),
        ).where(*window)
    # A row per owner: its live spans as "start,end,start,end..." (a hold past its
    # expiry is left out of the text) and whether any such expired hold was seen.
    live = or_(c.hold_expires_at.is_(None), c.hold_expires_at > bindparam("now"))
    span = cast(c.occupied_start, String) + "," + cast(c.occupied_end, String)
    concat = func.string_agg if shape.arrays else func.group_concat
    return (
        select(
            literal(kind).label("kind"),
            cast(c[owner], String).label("owner"),
            concat(case((live, span), else_=None), literal(",")).label("spans"),
            func.max(case((live, 0), else_=1)).label("expired"),
        )
        .where(*window)
        .group_by(c[owner])
    )


@attrs.frozen
class _Shape:
    """What a busy-time statement looks like: which kinds of owner it reads, whether it
    leaves an appointment out, and whether it aggregates spans per owner (searches: many
    owners), taking them as an array (PostgreSQL)."""

    wanted: tuple[bool, bool, bool]
    excluding: bool
    aggregated: bool
    arrays: bool


AGGREGATE_FROM_OWNERS = 4
"""A read for more owners than this (a search; a booking reads its practitioner, its
patient and the rooms it may use) returns a row per owner (see busy_intervals)."""

_OWNERS = (
    (PRACTITIONER, APPOINTMENTS, "practitioner_id", "practitioners", "id"),
    (PATIENT, APPOINTMENTS, "patient_id", "patients", "id"),
    (RESOURCE, APPT_RESOURCES, "resource_id", "resources", "appointment_id"),
)


@functools.cache
def _busy_statement(shape: _Shape) -> Any:
    """The busy-time query of one shape, built once."""
    branches = [
        _busy_branch(*owner, shape=shape)
        for owner, on in zip(_OWNERS, shape.wanted, strict=True)
        if on
    ]
    return branches[0] if len(branches) == 1 else union_all(*branches)


_INSERT_APPOINTMENT = APPOINTMENTS.insert()
_INSERT_OUTBOX = OUTBOX.insert()
_BY_IDEMPOTENCY_KEY = select(APPOINTMENTS.c.data).where(
    APPOINTMENTS.c.idempotency_key == bindparam("key")
)

_PATIENT_WITH_VERSION = (
    select(PATIENTS.c.data, ORGS.c.calendar_version)
    .join(ORGS, ORGS.c.id == PATIENTS.c.organisation_id)
    .where(PATIENTS.c.id == bindparam("id"))
)

_EXPIRED_OVERLAPPING = (
    APPOINTMENTS.c.status == AppointmentStatus.PROPOSED.value,
    APPOINTMENTS.c.blocks_time.is_(True),
    APPOINTMENTS.c.hold_expires_at <= bindparam("now"),
    APPOINTMENTS.c.occupied_start < bindparam("end"),
    APPOINTMENTS.c.occupied_end > bindparam("start"),
)
_RELEASE_APPOINTMENTS = (
    update(APPOINTMENTS)
    .where(
        *_EXPIRED_OVERLAPPING,
        or_(
            APPOINTMENTS.c.practitioner_id == bindparam("practitioner"),
            APPOINTMENTS.c.patient_id == bindparam("patient"),
        ),
    )
    .values(blocks_time=False)
)
_RELEASE_RESOURCES = (
    update(APPT_RESOURCES)
    .where(
        APPT_RESOURCES.c.resource_id.in_(bindparam("resources", expanding=True)),
        APPT_RESOURCES.c.blocks_time.is_(True),
        APPT_RESOURCES.c.hold_expires_at <= bindparam("now"),
        APPT_RESOURCES.c.occupied_start < bindparam("end"),
        APPT_RESOURCES.c.occupied_end > bindparam("start"),
    )
    .values(blocks_time=False)
)


class OutboxRepository(_Base):
    def append(self, events: Sequence[Event]) -> None:
        self._require_write()
        rows = [
            {
                "event_id": e.event_id,
                "correlation_id": e.correlation_id,
                "type": e.type,
                "occurred_at": to_epoch(e.occurred_at),
                "payload": event_to_json(e),
                "dispatched_at": None,
            }
            for e in events
        ]
        if len(rows) == 1:  # the usual case: a plain insert, not an executemany
            self._conn.execute(_INSERT_OUTBOX, rows[0])
        elif rows:
            self._conn.execute(_INSERT_OUTBOX, rows)

    def pending(self, limit: int = 100) -> list[Event]:
        stmt = (
            select(OUTBOX.c.payload)
            .where(OUTBOX.c.dispatched_at.is_(None))
            .order_by(OUTBOX.c.position)
            .limit(limit)
        )
        return [event_from_json(p) for p in self._conn.execute(stmt).scalars()]

    def mark_dispatched(self, event_ids: Collection[EventId]) -> None:
        self._require_write()
        if event_ids:
            self._conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.event_id.in_(list(event_ids)))
                .values(dispatched_at=int(time.time()))
            )


class InboxRepository(_Base):
    def record(self, consumer: str, event_id: EventId) -> bool:
        self._require_write()
        stmt = _insert(self._conn, INBOX).values(consumer=consumer, event_id=event_id)
        inserted = stmt.on_conflict_do_nothing().returning(INBOX.c.event_id)
        return self._conn.execute(inserted).first() is not None


class Repositories:
    """Every repository of one unit of work."""

    def __init__(self, conn: Connection, *, write: bool, cache: CalendarCache) -> None:
        seen_versions: dict[uuid.UUID, int] = {}
        self.calendar = CalendarRepository(
            conn, write=write, cache=cache, seen_versions=seen_versions
        )
        self.patients = PatientRepository(conn, write=write, seen_versions=seen_versions)
        self.appointments = AppointmentRepository(conn, write=write)
        self.outbox = OutboxRepository(conn, write=write)
        self.inbox = InboxRepository(conn, write=write)
