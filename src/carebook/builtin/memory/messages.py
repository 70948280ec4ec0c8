"""The outbox, the inbox and the delivery states of the memory storage."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pendulum

from carebook.builtin.memory.state import StagedChanges
from carebook.domain.delivery import Delivery, DeliveryStatus
from carebook.domain.events import Event
from carebook.domain.ids import EventId
from carebook.errors import ConflictError

__all__ = ["MemoryDeliveries", "MemoryInbox", "MemoryOutbox"]


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

    def due(self, now: pendulum.DateTime, limit: int = 100) -> list[Event]:
        changes = self._changes
        found: list[Event] = []
        with changes.state.lock:
            for event_id, event in changes.state.outbox.items():
                if len(found) == limit:
                    break
                if event_id in changes.dispatched:
                    continue
                until = changes.deferred.get(event_id, changes.state.deferred.get(event_id))
                if until is None or until <= now:
                    found.append(event)
        return found

    def defer(self, event_id: EventId, until: pendulum.DateTime) -> None:
        self._changes.require_write()
        self._changes.deferred[event_id] = until

    def reopen(self, event_ids: Collection[EventId], at: pendulum.DateTime) -> None:
        self._changes.require_write()
        self._changes.reopened.update(dict.fromkeys(event_ids, at))


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


class MemoryDeliveries:
    """``uow.deliveries`` of the memory storage. Write units of work hold the writer
    lock, so the version check made when a delivery is staged still holds at commit."""

    def __init__(self, changes: StagedChanges) -> None:
        self._changes = changes

    def _get(self, key: tuple[EventId, str]) -> Delivery | None:
        if key in self._changes.deliveries:
            return self._changes.deliveries[key]
        with self._changes.state.lock:
            return self._changes.state.deliveries.get(key)

    def for_events(self, event_ids: Collection[EventId]) -> list[Delivery]:
        wanted = set(event_ids)
        with self._changes.state.lock:
            found = {k: d for k, d in self._changes.state.deliveries.items() if k[0] in wanted}
        found.update((k, d) for k, d in self._changes.deliveries.items() if k[0] in wanted)
        return list(found.values())

    def put(self, deliveries: Sequence[Delivery]) -> None:
        self._changes.require_write()
        for delivery in deliveries:
            key = (delivery.event_id, delivery.consumer)
            stored = self._get(key)
            if (0 if stored is None else stored.version) != delivery.version - 1:
                raise ConflictError(
                    f"delivery of event {delivery.event_id} to {delivery.consumer} "
                    "was changed concurrently"
                )
            self._changes.deliveries[key] = delivery

    def dead(self, limit: int = 100, after: tuple[EventId, str] | None = None) -> list[Delivery]:
        with self._changes.state.lock:
            merged = dict(self._changes.state.deliveries)
        merged.update(self._changes.deliveries)
        rows = sorted(
            (d for d in merged.values() if d.status is DeliveryStatus.DEAD),
            key=lambda d: (str(d.event_id), d.consumer),
        )
        if after is not None:
            start = (str(after[0]), after[1])
            rows = [d for d in rows if (str(d.event_id), d.consumer) > start]
        return rows[:limit]
