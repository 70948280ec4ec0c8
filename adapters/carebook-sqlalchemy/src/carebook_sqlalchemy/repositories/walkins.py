"""The walk-in repository over one SQLAlchemy connection (one unit of work).

Queue entries are stored column by column (no JSON): every field is a plain value.
Reads that feed an estimate filter on the active partial index, so they cost what the
queue costs. A second active entry for a patient breaks a partial unique index, which
the adapter reports as ConflictError.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pendulum
from sqlalchemy import Connection, Row, Table, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from carebook.domain.ids import AppointmentId, LocationId, OrganisationId, PatientId, PractitionerId
from carebook.domain.instants import from_epoch, to_epoch
from carebook.domain.scheduling.calendar import PatientKind
from carebook.domain.walkins.queue import (
    DutyShift,
    QueueEntry,
    QueueEntryId,
    WalkInSettings,
)
from carebook.domain.walkins.waittime import DurationStats, PublishedWait
from carebook.errors import ConflictError
from carebook.serialization import dumps, loads
from carebook_sqlalchemy.repositories.base import Rows
from carebook_sqlalchemy.schema.walkins import (
    ACTIVE_SQL,
    DutyRow,
    PublishedWaitRow,
    QueueEntryRow,
    VisitDurationRow,
    WalkInSettingsRow,
)

__all__ = ["WalkInRepository"]

SETTINGS: Table = WalkInSettingsRow.__table__  # type: ignore[assignment]
DUTY: Table = DutyRow.__table__  # type: ignore[assignment]
ENTRIES: Table = QueueEntryRow.__table__  # type: ignore[assignment]
DURATIONS: Table = VisitDurationRow.__table__  # type: ignore[assignment]
PUBLISHED: Table = PublishedWaitRow.__table__  # type: ignore[assignment]

_ACTIVE = text(ACTIVE_SQL)


def _epoch(value: pendulum.DateTime | None) -> int | None:
    return None if value is None else to_epoch(value)


def _instant(value: int | None) -> pendulum.DateTime | None:
    return None if value is None else from_epoch(value)


def _entry_values(entry: QueueEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "organisation_id": entry.organisation_id,
        "location_id": entry.location_id,
        "patient_id": entry.patient_id,
        "appointment_id": entry.appointment_id,
        "practitioner_id": entry.practitioner_id,
        "kind": entry.kind.value,
        "channel": entry.channel.value,
        "walk_in": entry.walk_in,
        "status": entry.status.value,
        "checked_in_at": to_epoch(entry.checked_in_at),
        "reserved_start": to_epoch(entry.reserved_start),
        "reserved_end": to_epoch(entry.reserved_end),
        "started_at": _epoch(entry.started_at),
        "ended_at": _epoch(entry.ended_at),
        "idempotency_key": entry.idempotency_key,
        "version": entry.version,
    }


def _entry(row: Row[Any]) -> QueueEntry:
    return QueueEntry(
        id=QueueEntryId(row.id),
        organisation_id=OrganisationId(row.organisation_id),
        location_id=LocationId(row.location_id),
        patient_id=PatientId(row.patient_id),
        appointment_id=AppointmentId(row.appointment_id),
        practitioner_id=PractitionerId(row.practitioner_id),
        kind=row.kind,
        channel=row.channel,
        walk_in=bool(row.walk_in),
        status=row.status,
        checked_in_at=from_epoch(row.checked_in_at),
        reserved_start=from_epoch(row.reserved_start),
        reserved_end=from_epoch(row.reserved_end),
        started_at=_instant(row.started_at),
        ended_at=_instant(row.ended_at),
        idempotency_key=row.idempotency_key,
        version=row.version,
    )


def _shift(row: Row[Any]) -> DutyShift:
    return DutyShift(
        practitioner_id=PractitionerId(row.practitioner_id),
        location_id=LocationId(row.location_id),
        since=from_epoch(row.since),
        free_since=from_epoch(row.free_since),
    )


_ORDER = (ENTRIES.c.checked_in_at, ENTRIES.c.id)


class WalkInRepository:
    """:class:`carebook.ports.WalkInRepository` in SQL."""

    def __init__(self, conn: Connection, *, write: bool) -> None:
        self._conn = conn
        self._rows = Rows(conn, write=write)

    def _upsert(self, table: Table, keys: list[str], values: dict[str, Any]) -> None:
        self._rows.require_write()
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(table).values(**values)
        changes = {k: v for k, v in values.items() if k not in keys}
        self._conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=changes))

    def _entries(self, *where: Any) -> list[QueueEntry]:
        stmt = select(ENTRIES).where(*where).order_by(*_ORDER)
        return [_entry(row) for row in self._conn.execute(stmt)]

    # -- settings -------------------------------------------------------------------
    def lock_queue(self, location_id: LocationId) -> None:
        """PostgreSQL: lock the location's settings row (``FOR UPDATE``) until commit.
        SQLite: nothing to do, its writers are serialised by ``BEGIN IMMEDIATE``."""
        self._rows.require_write()
        if self._conn.dialect.name == "postgresql":
            stmt = select(SETTINGS.c.location_id).where(SETTINGS.c.location_id == location_id)
            self._conn.execute(stmt.with_for_update())

    def get_settings(self, location_id: LocationId) -> WalkInSettings | None:
        stmt = select(SETTINGS.c.data).where(SETTINGS.c.location_id == location_id)
        data = self._conn.execute(stmt).scalar()
        return None if data is None else loads(data, WalkInSettings)

    def save_settings(self, settings: WalkInSettings) -> None:
        values = {
            "location_id": settings.location_id,
            "organisation_id": settings.organisation_id,
            "data": dumps(settings),
        }
        self._upsert(SETTINGS, ["location_id"], values)

    def settings_for(self, organisation_id: OrganisationId) -> list[WalkInSettings]:
        stmt = select(SETTINGS.c.data).where(SETTINGS.c.organisation_id == organisation_id)
        found = [loads(d, WalkInSettings) for d in self._conn.execute(stmt).scalars()]
        return sorted(found, key=lambda s: s.location_id.int)

    # -- duty -----------------------------------------------------------------------
    def on_duty(self, location_ids: Collection[LocationId]) -> list[DutyShift]:
        if not location_ids:
            return []
        stmt = select(DUTY).where(DUTY.c.location_id.in_(list(location_ids)))
        found = [_shift(row) for row in self._conn.execute(stmt)]
        return sorted(found, key=lambda s: (s.location_id.int, s.practitioner_id.int))

    def duty_of(self, practitioner_id: PractitionerId) -> DutyShift | None:
        row = self._conn.execute(
            select(DUTY).where(DUTY.c.practitioner_id == practitioner_id)
        ).first()
        return None if row is None else _shift(row)

    def save_duty(self, shift: DutyShift) -> None:
        values = {
            "practitioner_id": shift.practitioner_id,
            "location_id": shift.location_id,
            "since": to_epoch(shift.since),
            "free_since": to_epoch(shift.free_since),
        }
        self._upsert(DUTY, ["practitioner_id"], values)

    def end_duty(self, practitioner_id: PractitionerId) -> None:
        self._rows.require_write()
        self._conn.execute(delete(DUTY).where(DUTY.c.practitioner_id == practitioner_id))

    # -- queue entries --------------------------------------------------------------
    def add_entry(self, entry: QueueEntry) -> None:
        self._rows.require_write()
        self._conn.execute(ENTRIES.insert(), _entry_values(entry))

    def update_entry(self, entry: QueueEntry) -> None:
        self._rows.require_write()
        values = _entry_values(entry)
        del values["id"]
        result = self._conn.execute(
            update(ENTRIES)
            .where(ENTRIES.c.id == entry.id, ENTRIES.c.version == entry.version - 1)
            .values(**values)
        )
        if result.rowcount != 1:
            if self.get_entry(entry.id) is None:
                raise ConflictError(f"queue entry {entry.id} does not exist")
            raise ConflictError(f"queue entry {entry.id} was changed concurrently")

    def get_entry(self, entry_id: QueueEntryId) -> QueueEntry | None:
        found = self._entries(ENTRIES.c.id == entry_id)
        return found[0] if found else None

    def entry_for_appointment(self, appointment_id: AppointmentId) -> QueueEntry | None:
        found = self._entries(ENTRIES.c.appointment_id == appointment_id)
        return found[0] if found else None

    def active_entry_for_patient(self, patient_id: PatientId) -> QueueEntry | None:
        found = self._entries(ENTRIES.c.patient_id == patient_id, _ACTIVE)
        return found[0] if found else None

    def entry_by_idempotency_key(self, key: str) -> QueueEntry | None:
        found = self._entries(ENTRIES.c.idempotency_key == key)
        return found[0] if found else None

    def active_entries(self, location_ids: Collection[LocationId]) -> list[QueueEntry]:
        if not location_ids:
            return []
        return self._entries(ENTRIES.c.location_id.in_(list(location_ids)), _ACTIVE)

    def check_ins(
        self, location_ids: Collection[LocationId], start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[QueueEntry]:
        if not location_ids:
            return []
        return self._entries(
            ENTRIES.c.location_id.in_(list(location_ids)),
            ENTRIES.c.checked_in_at >= to_epoch(start),
            ENTRIES.c.checked_in_at < to_epoch(end),
        )

    # -- learned durations and announced waits --------------------------------------
    def durations(self, location_ids: Collection[LocationId]) -> list[DurationStats]:
        if not location_ids:
            return []
        stmt = (
            select(DURATIONS)
            .where(DURATIONS.c.location_id.in_(list(location_ids)))
            .order_by(DURATIONS.c.location_id, DURATIONS.c.kind)
        )
        found = [
            DurationStats(
                location_id=LocationId(row.location_id),
                kind=PatientKind(row.kind),
                samples=row.samples,
                mean_seconds=row.mean_seconds,
            )
            for row in self._conn.execute(stmt)
        ]
        return sorted(found, key=lambda s: (s.location_id.int, s.kind.value))

    def save_durations(self, stats: DurationStats) -> None:
        values = {
            "location_id": stats.location_id,
            "kind": stats.kind.value,
            "samples": stats.samples,
            "mean_seconds": stats.mean_seconds,
        }
        self._upsert(DURATIONS, ["location_id", "kind"], values)

    def published_waits(self, location_ids: Collection[LocationId]) -> list[PublishedWait]:
        if not location_ids:
            return []
        stmt = select(PUBLISHED).where(PUBLISHED.c.location_id.in_(list(location_ids)))
        found = [
            PublishedWait(
                location_id=LocationId(row.location_id),
                wait_minutes=row.wait_minutes,
                published_at=from_epoch(row.published_at),
            )
            for row in self._conn.execute(stmt)
        ]
        return sorted(found, key=lambda w: w.location_id.int)

    def save_published_wait(self, wait: PublishedWait) -> None:
        values = {
            "location_id": wait.location_id,
            "wait_minutes": wait.wait_minutes,
            "published_at": to_epoch(wait.published_at),
        }
        self._upsert(PUBLISHED, ["location_id"], values)
