"""Appointments over SQLAlchemy: inserts that refuse overlaps, optimistic updates, busy
time."""

from __future__ import annotations

import uuid
from collections.abc import Collection

import attrs
import pendulum
from sqlalchemy import Connection, bindparam, select, update

from carebook.domain.ids import AppointmentId, LocationId, PatientId
from carebook.domain.instants import to_epoch
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.busy import BusyInterval, expiry_epoch, hold_blocks, now_epoch
from carebook.errors import ConflictError, SlotUnavailableError, StorageError
from carebook.serialization import dumps, loads
from carebook_sqlalchemy.repositories.base import APPOINTMENTS, APPT_RESOURCES, Rows
from carebook_sqlalchemy.repositories.busy import AGGREGATE_FROM_OWNERS, BusyShape, busy_statement
from carebook_sqlalchemy.repositories.locks import (
    LOCK_KEYS,
    lock_keys,
    locked_insert,
    taking_locks,
)
from carebook_sqlalchemy.repositories.releases import release_expired_holds
from carebook_sqlalchemy.schema.core import OCCUPYING_FIXED

__all__ = ["AppointmentRepository"]


def _blocks_time(appointment: Appointment) -> bool:
    return appointment.status is AppointmentStatus.PROPOSED or (
        appointment.status.value in OCCUPYING_FIXED
    )


def _epoch_or_none(value: pendulum.DateTime | None) -> int | None:
    return None if value is None else expiry_epoch(value)


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


class AppointmentRepository:
    """``uow.appointments``: inserts that refuse an overlap, optimistic updates, busy time."""

    def __init__(self, conn: Connection, *, write: bool) -> None:
        self._conn = conn
        self._rows = Rows(conn, write=write)
        self._vetted: list[_Vetted] = []

    def get(self, appointment_id: AppointmentId) -> Appointment | None:
        return self._rows.one(APPOINTMENTS, appointment_id, Appointment)

    def add(self, appointment: Appointment, *, now: pendulum.DateTime) -> None:
        """Insert. On PostgreSQL the exclusion constraints refuse an overlap (23P01 ->
        SlotUnavailableError), after the insert has taken its owners' locks
        (:mod:`~carebook_sqlalchemy.repositories.locks`); on SQLite, whose writers are
        serialised by BEGIN IMMEDIATE, the overlap is re-checked here, inside the
        transaction."""
        self._rows.require_write()
        start, end = appointment.occupied_epochs
        epoch_now = now_epoch(now)
        vetted = any(v.covers(appointment, start, end, epoch_now) for v in self._vetted)
        # What was vetted held before this write; the next write must look again.
        self._vetted.clear()
        postgres = self._conn.dialect.name == "postgresql"
        keys = lock_keys(appointment) if postgres else []
        if appointment.occupies(now) and not vetted:
            release_expired_holds(self._conn, appointment, start, end, epoch_now, keys)
            if not postgres:
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
        row = {
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
        }
        if postgres:
            self._conn.execute(_LOCKED_INSERT_APPOINTMENT, {**row, LOCK_KEYS: keys})
        else:
            self._conn.execute(_INSERT_APPOINTMENT, row)
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

    def update(self, appointment: Appointment) -> None:
        self._rows.require_write()
        start, end = appointment.occupied_epochs
        blocks = _blocks_time(appointment)
        if appointment.status is AppointmentStatus.PROPOSED:
            blocks = bool(
                self._conn.execute(
                    select(APPOINTMENTS.c.blocks_time).where(APPOINTMENTS.c.id == appointment.id)
                ).scalar()
            )
        # A row that keeps blocking time is written again, and checked again by the
        # exclusion constraints: on PostgreSQL it queues behind its owners' locks too.
        locking = blocks and self._conn.dialect.name == "postgresql"
        result = self._conn.execute(
            update(APPOINTMENTS)
            .where(
                APPOINTMENTS.c.id == appointment.id,
                APPOINTMENTS.c.version == appointment.version - 1,
                APPOINTMENTS.c.occupied_start == start,
                APPOINTMENTS.c.occupied_end == end,
                *((taking_locks(),) if locking else ()),
            )
            .values(
                status=appointment.status.value,
                version=appointment.version,
                hold_expires_at=_epoch_or_none(appointment.hold_expires_at),
                blocks_time=blocks,
                idempotency_key=appointment.idempotency_key,
                data=dumps(appointment),
            ),
            {LOCK_KEYS: lock_keys(appointment)} if locking else {},
        )
        if result.rowcount != 1:
            self._explain_failed_update(appointment, start, end)
        self._conn.execute(
            update(APPT_RESOURCES)
            .where(APPT_RESOURCES.c.appointment_id == appointment.id)
            .values(blocks_time=blocks, hold_expires_at=_epoch_or_none(appointment.hold_expires_at))
        )

    def move(
        self, appointment: Appointment, *, previous: Appointment, now: pendulum.DateTime
    ) -> None:
        """A reschedule: the row moves in place to its new span and owners, version
        checked. On PostgreSQL the update queues behind the new owners' locks and the
        exclusion constraints refuse an overlap (the row's own old span is the row
        itself, so it never clashes); on SQLite the overlap is re-checked here, leaving
        the appointment itself out."""
        self._rows.require_write()
        if appointment.id != previous.id or appointment.version != previous.version + 1:
            raise ConflictError(f"appointment {appointment.id} was changed concurrently")
        start, end = appointment.occupied_epochs
        epoch_now = now_epoch(now)
        self._vetted.clear()
        postgres = self._conn.dialect.name == "postgresql"
        keys = lock_keys(appointment) if postgres else []
        blocks = _blocks_time(appointment) and appointment.occupies(now)
        if blocks:
            release_expired_holds(self._conn, appointment, start, end, epoch_now, keys)
            if not postgres:
                clash = self.busy_intervals(
                    start,
                    end,
                    now=now,
                    practitioner_ids=(appointment.practitioner_id,),
                    patient_ids=(appointment.patient_id,),
                    resource_ids=appointment.resource_ids,
                    exclude=appointment.id,
                )
                if clash:
                    kind, owner = clash[0].owner_kind, clash[0].owner_id
                    raise SlotUnavailableError(f"{kind} {owner} is already booked at that time")
        result = self._conn.execute(
            update(APPOINTMENTS)
            .where(
                APPOINTMENTS.c.id == appointment.id,
                APPOINTMENTS.c.version == previous.version,
                *((taking_locks(),) if postgres and blocks else ()),
            )
            .values(
                location_id=appointment.location_id,
                practitioner_id=appointment.practitioner_id,
                start_at=to_epoch(appointment.start),
                occupied_start=start,
                occupied_end=end,
                status=appointment.status.value,
                version=appointment.version,
                blocks_time=blocks,
                data=dumps(appointment),
            ),
            {LOCK_KEYS: keys} if postgres and blocks else {},
        )
        if result.rowcount != 1:
            if self.get(appointment.id) is None:
                raise ConflictError(f"appointment {appointment.id} does not exist")
            raise ConflictError(f"appointment {appointment.id} was changed concurrently")
        self._conn.execute(
            APPT_RESOURCES.delete().where(APPT_RESOURCES.c.appointment_id == appointment.id)
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
                        "hold_expires_at": None,
                        "blocks_time": blocks,
                    }
                    for rid in appointment.resource_ids
                ],
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
        epoch_now = now_epoch(now)
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
        shape = BusyShape(wanted, exclude is not None, aggregated, arrays)
        rows = self._conn.execute(busy_statement(shape), params)
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
                if expires is None or hold_blocks(expires, epoch_now):
                    busy.append(new(BusyInterval, (kind, owners[owner], s, e, None)))
                else:
                    expired = True
        if self._rows.write and not expired:
            self._vetted.append(_Vetted(start, end, epoch_now, frozenset(owners.values())))
        return busy

    def expired_holds(self, now: pendulum.DateTime, limit: int = 100) -> list[Appointment]:
        stmt = (
            select(APPOINTMENTS.c.data)
            .where(
                APPOINTMENTS.c.status == AppointmentStatus.PROPOSED.value,
                APPOINTMENTS.c.hold_expires_at <= now_epoch(now),  # not busy.hold_blocks
            )
            .order_by(APPOINTMENTS.c.hold_expires_at, APPOINTMENTS.c.id)
            .limit(limit)
        )
        found = [loads(d, Appointment) for d in self._conn.execute(stmt).scalars()]
        return [h for h in found if not h.occupies(now)]


_INSERT_APPOINTMENT = APPOINTMENTS.insert()
_LOCKED_INSERT_APPOINTMENT = locked_insert(APPOINTMENTS)
_BY_IDEMPOTENCY_KEY = select(APPOINTMENTS.c.data).where(
    APPOINTMENTS.c.idempotency_key == bindparam("key")
)
