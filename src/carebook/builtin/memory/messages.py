"""The outbox and the inbox of the memory storage."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from carebook.builtin.memory.state import StagedChanges
from carebook.domain.events import Event
from carebook.domain.ids import EventId

__all__ = ["MemoryInbox", "MemoryOutbox"]


class MemoryOutbox:
    """``uow.outbox`` of the memory storage."""

    def __init__(self, changes: StagedChanges) -> None:
        self._changes = changes

    def append(self, events: Sequence[Event]) -> None:
        self._changes.require_write()
        self._changes.events.extend(events)

    def pending(self, limit: int = 100) -> list[Event]:
        with self._changes.state.lock:
            committed = [
                e for _, e in zip(range(limit), self._changes.state.outbox.values(), strict=False)
            ]
        return [e for e in committed if e.event_id not in self._changes.dispatched]

    def mark_dispatched(self, event_ids: Collection[EventId]) -> None:
        self._changes.require_write()
        self._changes.dispatched |= set(event_ids)


class MemoryInbox:
    """``uow.inbox`` of the memory storage."""

    def __init__(self, changes: StagedChanges) -> None:
        self._changes = changes

    def record(self, consumer: str, event_id: EventId) -> bool:
        self._changes.require_write()
        key = (consumer, event_id)
        with self._changes.state.lock:
            seen = key in self._changes.state.inbox
        if seen or key in self._changes.inbox:
            return False
        self._changes.inbox.add(key)
        return True
