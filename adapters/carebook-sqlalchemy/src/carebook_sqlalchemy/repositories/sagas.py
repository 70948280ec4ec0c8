"""The saga repository over one SQLAlchemy connection (one unit of work).

A saga row keeps the domain value as canonical JSON beside the columns that are looked
up (idempotency key, intent id) or filtered on (status, request time). An update is
``UPDATE ... WHERE id = :id AND version = :previous``: of two coordinators moving one
saga, the second changes no row and gets a ConflictError.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pendulum
from sqlalchemy import Connection, Table, and_, bindparam, or_, select, text, update

from carebook.domain.events import Event
from carebook.domain.ids import SagaId
from carebook.domain.payments.saga import BookingSaga
from carebook.errors import ConflictError
from carebook.serialization import dumps, event_from_json, event_to_json, loads
from carebook_sqlalchemy.repositories.base import Rows
from carebook_sqlalchemy.schema.sagas import UNFINISHED_SQL, BookingSagaRow, SagaEventRow

__all__ = ["SagaRepository"]

SAGAS: Table = BookingSagaRow.__table__  # type: ignore[assignment]
EVENTS: Table = SagaEventRow.__table__  # type: ignore[assignment]
_UNFINISHED = text(UNFINISHED_SQL)

# The statements every saga step sends, built once (as the booking path's are).
_BY_ID = select(SAGAS.c.data).where(SAGAS.c.id == bindparam("key"))
_BY_KEY = select(SAGAS.c.data).where(SAGAS.c.idempotency_key == bindparam("key"))
_BY_INTENT = select(SAGAS.c.data).where(SAGAS.c.intent_id == bindparam("key"))
_INSERT = SAGAS.insert()
_UPDATE = (
    update(SAGAS)
    .where(
        SAGAS.c.id == bindparam("saga_id"),
        SAGAS.c.version == bindparam("previous"),
        SAGAS.c.idempotency_key == bindparam("saga_key"),
    )
    .values(
        status=bindparam("status"),
        intent_id=bindparam("intent_id"),
        version=bindparam("version"),
        data=bindparam("data"),
    )
)
_INSERT_EVENTS = EVENTS.insert()


def _micros(instant: pendulum.DateTime) -> int:
    """Microseconds since the epoch, exactly (no float)."""
    delta = instant - pendulum.DateTime(1970, 1, 1, tzinfo=pendulum.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _values(saga: BookingSaga) -> dict[str, Any]:
    return {
        "status": saga.status.value,
        "intent_id": saga.intent_id,
        "version": saga.version,
        "data": dumps(saga),
    }


class SagaRepository:
    def __init__(self, conn: Connection, *, write: bool) -> None:
        self._conn = conn
        self._rows = Rows(conn, write=write)

    def _one(self, stmt: Any, key: object) -> BookingSaga | None:
        data = self._conn.execute(stmt, {"key": key}).scalar()
        return None if data is None else loads(data, BookingSaga)

    def get(self, saga_id: SagaId) -> BookingSaga | None:
        return self._one(_BY_ID, saga_id)

    def add(self, saga: BookingSaga) -> None:
        self._rows.require_write()
        self._conn.execute(
            _INSERT,
            {
                "id": saga.id,
                "organisation_id": saga.organisation_id,
                "appointment_id": saga.appointment_id,
                "idempotency_key": saga.idempotency_key,
                "requested_us": _micros(saga.requested_at),
                **_values(saga),
            },
        )

    def update(self, saga: BookingSaga) -> None:
        self._rows.require_write()
        params = {
            "saga_id": saga.id,
            "previous": saga.version - 1,
            "saga_key": saga.idempotency_key,
            **_values(saga),
        }
        if self._conn.execute(_UPDATE, params).rowcount != 1:
            raise ConflictError(f"booking saga {saga.id} was changed concurrently")

    def by_idempotency_key(self, key: str) -> BookingSaga | None:
        return self._one(_BY_KEY, key)

    def by_intent(self, intent_id: str) -> BookingSaga | None:
        return self._one(_BY_INTENT, intent_id)

    def unfinished(
        self, limit: int = 100, after: tuple[pendulum.DateTime, SagaId] | None = None
    ) -> list[BookingSaga]:
        stmt = select(SAGAS.c.data).where(_UNFINISHED)
        if after is not None:
            since = _micros(after[0])
            stmt = stmt.where(
                or_(
                    SAGAS.c.requested_us > since,
                    and_(SAGAS.c.requested_us == since, SAGAS.c.id > after[1]),
                )
            )
        rows = self._conn.execute(stmt.order_by(SAGAS.c.requested_us, SAGAS.c.id).limit(limit))
        return [loads(data, BookingSaga) for data in rows.scalars()]

    def append_timeline(self, saga_id: SagaId, events: Sequence[Event]) -> None:
        self._rows.require_write()
        rows = [
            {"saga_id": saga_id, "event_id": e.event_id, "payload": event_to_json(e)}
            for e in events
        ]
        if len(rows) == 1:
            self._conn.execute(_INSERT_EVENTS, rows[0])
        elif rows:
            self._conn.execute(_INSERT_EVENTS, rows)

    def timeline(self, saga_id: SagaId) -> list[Event]:
        stmt = select(EVENTS.c.payload).where(EVENTS.c.saga_id == saga_id)
        rows = self._conn.execute(stmt.order_by(EVENTS.c.position))
        return [event_from_json(payload) for payload in rows.scalars()]
