"""The outbox and the inbox of the memory storage."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from carebook.domain.events import Event
from carebook.domain.ids import (
    EventId,
)

if TYPE_CHECKING:
    from carebook.builtin.memory.storage import MemoryUnitOfWork

__all__ = []


class _Outbox:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def append(self, events: Sequence[Event]) -> None:
        self._uow._require_write()
        self._uow._events.extend(events)

    def pending(self, limit: int = 100) -> list[Event]:
        with self._uow._state.lock:
            committed = [
                e for _, e in zip(range(limit), self._uow._state.outbox.values(), strict=False)
            ]
        return [e for e in committed if e.event_id not in self._uow._dispatched]

    def mark_dispatched(self, event_ids: Collection[EventId]) -> None:
        self._uow._require_write()
        self._uow._dispatched |= set(event_ids)


class _Inbox:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def record(self, consumer: str, event_id: EventId) -> bool:
        self._uow._require_write()
        key = (consumer, event_id)
        with self._uow._state.lock:
            seen = key in self._uow._state.inbox
        if seen or key in self._uow._inbox:
            return False
        self._uow._inbox.add(key)
        return True
