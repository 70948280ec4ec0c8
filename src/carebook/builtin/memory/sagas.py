"""The saga repository of the memory storage: booking sagas and their timelines.

Same shape as the other memory repositories: committed rows in :class:`SagaTables`,
changes staged per unit of work in :class:`MemorySagas` and applied on commit, with the
optimistic version check made again at commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pendulum

from carebook.domain.events import Event
from carebook.domain.ids import SagaId
from carebook.domain.payments.saga import BookingSaga
from carebook.errors import ConflictError

__all__ = ["MemorySagas", "SagaTables"]


class SagaTables:
    """Committed sagas of one memory storage."""

    def __init__(self) -> None:
        self.sagas: dict[SagaId, BookingSaga] = {}
        self.by_key: dict[str, SagaId] = {}
        self.by_intent: dict[str, SagaId] = {}
        self.open: dict[SagaId, BookingSaga] = {}
        self.timelines: dict[SagaId, list[Event]] = {}

    def put(self, saga: BookingSaga) -> None:
        self.sagas[saga.id] = saga
        self.by_key[saga.idempotency_key] = saga.id
        if saga.intent_id is not None:
            self.by_intent[saga.intent_id] = saga.id
        if saga.finished:
            self.open.pop(saga.id, None)
        else:
            self.open[saga.id] = saga


class MemorySagas:
    """One unit of work's view of the saga tables."""

    def __init__(
        self, tables: SagaTables, lock: threading.RLock, require_write: Callable[[], None]
    ) -> None:
        self._t = tables
        self._lock = lock
        self._require_write = require_write
        self._staged: dict[SagaId, BookingSaga] = {}
        self._base: dict[SagaId, int] = {}
        self._timeline: dict[SagaId, list[Event]] = {}

    # -- transaction (called by MemoryUnitOfWork under the state lock) --------------
    def check(self) -> None:
        for saga_id, base in self._base.items():
            stored = self._t.sagas.get(saga_id)
            if (stored.version if stored else 0) != base:
                raise ConflictError(f"booking saga {saga_id} was changed concurrently")
        for saga in self._staged.values():
            known = self._t.by_key.get(saga.idempotency_key)
            if known is not None and known != saga.id:
                raise ConflictError("a booking saga with that idempotency key exists")

    def apply(self) -> None:
        for saga in self._staged.values():
            self._t.put(saga)
        for saga_id, events in self._timeline.items():
            self._t.timelines.setdefault(saga_id, []).extend(events)

    def discard(self) -> None:
        self._staged.clear()
        self._base.clear()
        self._timeline.clear()

    # -- the port --------------------------------------------------------------------------
    def get(self, saga_id: SagaId) -> BookingSaga | None:
        if saga_id in self._staged:
            return self._staged[saga_id]
        with self._lock:
            return self._t.sagas.get(saga_id)

    def add(self, saga: BookingSaga) -> None:
        self._require_write()
        if self.get(saga.id) is not None or self.by_idempotency_key(saga.idempotency_key):
            raise ConflictError(f"booking saga {saga.id} already exists")
        self._base[saga.id] = 0
        self._staged[saga.id] = saga

    def update(self, saga: BookingSaga) -> None:
        self._require_write()
        current = self.get(saga.id)
        if current is None or current.version != saga.version - 1:
            raise ConflictError(f"booking saga {saga.id} was changed concurrently")
        if current.idempotency_key != saga.idempotency_key:
            raise ConflictError("a booking saga's idempotency key never changes")
        self._base.setdefault(saga.id, current.version)
        self._staged[saga.id] = saga

    def by_idempotency_key(self, key: str) -> BookingSaga | None:
        for saga in self._staged.values():
            if saga.idempotency_key == key:
                return saga
        with self._lock:
            saga_id = self._t.by_key.get(key)
        return None if saga_id is None else self.get(saga_id)

    def by_intent(self, intent_id: str) -> BookingSaga | None:
        for saga in self._staged.values():
            if saga.intent_id == intent_id:
                return saga
        with self._lock:
            saga_id = self._t.by_intent.get(intent_id)
        return None if saga_id is None else self.get(saga_id)

    def unfinished(
        self, limit: int = 100, after: tuple[pendulum.DateTime, SagaId] | None = None
    ) -> list[BookingSaga]:
        with self._lock:
            found = {s.id: s for s in self._t.open.values()}
        for saga in self._staged.values():
            found.pop(saga.id, None)
            if not saga.finished:
                found[saga.id] = saga

        def order(saga: BookingSaga) -> tuple[pendulum.DateTime, str]:
            return saga.requested_at, str(saga.id)

        rows = sorted(found.values(), key=order)
        if after is not None:
            rows = [s for s in rows if order(s) > (after[0], str(after[1]))]
        return rows[:limit]

    def append_timeline(self, saga_id: SagaId, events: Sequence[Event]) -> None:
        self._require_write()
        self._timeline.setdefault(saga_id, []).extend(events)

    def timeline(self, saga_id: SagaId) -> list[Event]:
        with self._lock:
            committed = list(self._t.timelines.get(saga_id, ()))
        return committed + self._timeline.get(saga_id, [])
