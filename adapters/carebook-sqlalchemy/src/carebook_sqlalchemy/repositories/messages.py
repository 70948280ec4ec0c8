"""The outbox and the inbox over SQLAlchemy."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence

from sqlalchemy import Connection, select, update

from carebook.domain.events import Event
from carebook.domain.ids import EventId
from carebook.domain.instants import to_epoch
from carebook.serialization import event_from_json, event_to_json
from carebook_sqlalchemy.repositories.base import INBOX, OUTBOX, Rows

__all__ = ["InboxRepository", "OutboxRepository"]

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
