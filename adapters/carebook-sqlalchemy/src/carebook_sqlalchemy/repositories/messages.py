"""The outbox, the inbox and the per-consumer delivery states over SQLAlchemy.

Instants of the delivery state (``outbox.due_at``, ``deliveries.*_us``) are microseconds
since the epoch. A delivery is written ``INSERT ... ON CONFLICT DO NOTHING`` (version 1)
or ``UPDATE ... WHERE version = :previous``: of two dispatchers moving one delivery, the
second changes no row and gets a ConflictError.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from typing import Any

import pendulum
from sqlalchemy import Connection, Row, Table, and_, bindparam, or_, select, text, update

from carebook.domain.delivery import Delivery, DeliveryStatus
from carebook.domain.events import Event
from carebook.domain.ids import EventId
from carebook.domain.instants import to_epoch
from carebook.errors import ConflictError
from carebook.serialization import event_from_json, event_to_json
from carebook_sqlalchemy.repositories.base import INBOX, OUTBOX, Rows
from carebook_sqlalchemy.schema.delivery import DEAD_SQL, DeliveryRow

__all__ = ["DeliveryRepository", "InboxRepository", "OutboxRepository"]

DELIVERIES: Table = DeliveryRow.__table__  # type: ignore[assignment]
_EPOCH = pendulum.DateTime(1970, 1, 1, tzinfo=pendulum.UTC)


def _micros(instant: pendulum.DateTime) -> int:
    """Microseconds since the epoch, exactly (no float)."""
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _instant(micros: int) -> pendulum.DateTime:
    return _EPOCH.add(microseconds=micros)


_INSERT_OUTBOX = OUTBOX.insert()


class OutboxRepository:
    """``uow.outbox``: events in commit order, marked when dispatched."""

    def __init__(self, conn: Connection, *, write: bool) -> None:
        self._conn = conn
        self._rows = Rows(conn, write=write)

    def append(self, events: Sequence[Event]) -> None:
        self._rows.require_write()
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
        self._rows.require_write()
        if event_ids:
            self._conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.event_id.in_(list(event_ids)))
                .values(dispatched_at=int(time.time()))
            )

    def due(self, now: pendulum.DateTime, limit: int = 100) -> list[Event]:
        stmt = (
            select(OUTBOX.c.payload)
            .where(
                OUTBOX.c.dispatched_at.is_(None),
                or_(OUTBOX.c.due_at.is_(None), OUTBOX.c.due_at <= _micros(now)),
            )
            .order_by(OUTBOX.c.position)
            .limit(limit)
        )
        return [event_from_json(p) for p in self._conn.execute(stmt).scalars()]

    def defer(self, event_id: EventId, until: pendulum.DateTime) -> None:
        self._rows.require_write()
        self._conn.execute(
            update(OUTBOX).where(OUTBOX.c.event_id == event_id).values(due_at=_micros(until))
        )

    def reopen(self, event_ids: Collection[EventId], at: pendulum.DateTime) -> None:
        self._rows.require_write()
        if event_ids:
            self._conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.event_id.in_(list(event_ids)))
                .values(dispatched_at=None, due_at=_micros(at))
            )


class InboxRepository:
    """``uow.inbox``: which consumer handled which event."""

    def __init__(self, conn: Connection, *, write: bool) -> None:
        self._conn = conn
        self._rows = Rows(conn, write=write)

    def record(self, consumer: str, event_id: EventId) -> bool:
        self._rows.require_write()
        stmt = self._rows.insert(INBOX).values(consumer=consumer, event_id=event_id)
        inserted = stmt.on_conflict_do_nothing().returning(INBOX.c.event_id)
        return self._conn.execute(inserted).first() is not None


def _values(d: Delivery) -> dict[str, Any]:
    return {
        "status": d.status.value,
        "attempts": d.attempts,
        "next_attempt_us": None if d.next_attempt_at is None else _micros(d.next_attempt_at),
        "updated_us": _micros(d.updated_at),
        "claim": d.claim,
        "last_error": d.last_error,
        "version": d.version,
    }


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(
        event_id=EventId(row.event_id),
        consumer=row.consumer,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=None if row.next_attempt_us is None else _instant(row.next_attempt_us),
        updated_at=_instant(row.updated_us),
        claim=row.claim,
        last_error=row.last_error,
        version=row.version,
    )


_CHUNK = 100
"""Deliveries per batched statement (SQLite allows 999 variables in one)."""
_VALUE_COLUMNS = (
    "status",
    "attempts",
    "next_attempt_us",
    "updated_us",
    "claim",
    "last_error",
    "version",
)


def _conflict(d: Delivery | None) -> ConflictError:
    if d is None:
        return ConflictError("a delivery of this batch was changed concurrently")
    return ConflictError(f"delivery of event {d.event_id} to {d.consumer} was changed concurrently")


class DeliveryRepository:
    """``uow.deliveries``: one row per (event, consumer), versioned."""

    def __init__(self, conn: Connection, *, write: bool) -> None:
        self._conn = conn
        self._rows = Rows(conn, write=write)

    def for_events(self, event_ids: Collection[EventId]) -> list[Delivery]:
        if not event_ids:
            return []
        stmt = select(DELIVERIES).where(DELIVERIES.c.event_id.in_(list(event_ids)))
        return [_delivery(row) for row in self._conn.execute(stmt)]

    def put(self, deliveries: Sequence[Delivery]) -> None:
        """First versions in one batched insert per chunk, later ones in one executemany
        update per chunk: a dispatch round's hundreds of deliveries cost a few statements, not one
        each. If any row was changed by another dispatcher meanwhile, ConflictError (and
        the unit of work, rolled back, changes nothing)."""
        self._rows.require_write()
        first = [d for d in deliveries if d.version == 1]
        later = [d for d in deliveries if d.version != 1]
        for start in range(0, len(first), _CHUNK):
            self._insert(first[start : start + _CHUNK])
        if later and not self._conn.dialect.supports_sane_multi_rowcount:
            for d in later:  # pragma: no cover - both supported dialects count rows
                self._update([d])
            return
        for start in range(0, len(later), _CHUNK):
            self._update(later[start : start + _CHUNK])

    def _insert(self, chunk: Sequence[Delivery]) -> None:
        rows = [{"event_id": d.event_id, "consumer": d.consumer, **_values(d)} for d in chunk]
        # One cached statement, executemany: SQLAlchemy batches it ("insertmanyvalues")
        # and still returns the rows inserted; a multi-row VALUES would compile anew.
        stmt = self._rows.insert(DELIVERIES).on_conflict_do_nothing()
        stmt = stmt.returning(DELIVERIES.c.event_id, DELIVERIES.c.consumer)
        inserted = {(EventId(r.event_id), r.consumer) for r in self._conn.execute(stmt, rows)}
        for d in chunk:
            if (d.event_id, d.consumer) not in inserted:
                raise _conflict(d)

    def _update(self, chunk: Sequence[Delivery]) -> None:
        stmt = (
            update(DELIVERIES)
            .where(
                DELIVERIES.c.event_id == bindparam("b_event_id"),
                DELIVERIES.c.consumer == bindparam("b_consumer"),
                DELIVERIES.c.version == bindparam("b_previous"),
            )
            .values({name: bindparam(f"b_{name}") for name in _VALUE_COLUMNS})
        )
        params = [
            {
                "b_event_id": d.event_id,
                "b_consumer": d.consumer,
                "b_previous": d.version - 1,
                **{f"b_{name}": value for name, value in _values(d).items()},
            }
            for d in chunk
        ]
        changed = self._conn.execute(stmt, params).rowcount
        if changed != len(chunk):
            raise _conflict(chunk[0] if len(chunk) == 1 else None)

    def dead(self, limit: int = 100, after: tuple[EventId, str] | None = None) -> list[Delivery]:
        stmt = (
            select(DELIVERIES)
            .where(text(DEAD_SQL))  # spelled as the partial index is
            .order_by(DELIVERIES.c.event_id, DELIVERIES.c.consumer)
            .limit(limit)
        )
        if after is not None:
            event_id, consumer = after
            stmt = stmt.where(
                or_(
                    DELIVERIES.c.event_id > event_id,
                    and_(DELIVERIES.c.event_id == event_id, DELIVERIES.c.consumer > consumer),
                )
            )
        return [_delivery(row) for row in self._conn.execute(stmt)]
