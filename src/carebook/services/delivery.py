"""The two short transactions around a batch of deliveries: claim what is due, then
record what happened. Consumers are called between them, in no transaction.

See :mod:`carebook.domain.delivery` for the states and docs/operations.md for the
guarantees (at least once; a crash between a send and its record sends again, with the
same idempotency key).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

import attrs
import pendulum

from carebook.domain.delivery import Delivery, DeliveryStatus, RetryPolicy, event_settled, next_due
from carebook.domain.events import Event
from carebook.domain.ids import EventId
from carebook.errors import ConflictError
from carebook.ports import Storage, UnitOfWork
from carebook.services.transactions import run_write

__all__ = ["Batch", "Call", "claim", "record"]

log = logging.getLogger("carebook.dispatch")

Call = Callable[[], None]
"""One consumer taking one event (the publisher's ``publish``, a notifier's ``send``...)."""

CONFLICT_ATTEMPTS = 3


@attrs.define
class Batch:
    """The due events of one dispatch round and, per event, its consumers by name."""

    events: Sequence[Event]
    consumers: Mapping[EventId, Mapping[str, Call]]
    inboxed: Callable[[str], bool]
    """Whether a consumer's first claim goes through the inbox (those with side effects)."""

    @property
    def event_ids(self) -> list[EventId]:
        return [e.event_id for e in self.events]


def _by_key(uow: UnitOfWork, batch: Batch) -> dict[tuple[EventId, str], Delivery]:
    return {(d.event_id, d.consumer): d for d in uow.deliveries.for_events(batch.event_ids)}


def _retrying(storage: Storage, work: Callable[[UnitOfWork], object]) -> bool:
    """Run ``work`` to commit; on a conflict (another dispatcher moved a delivery) read
    again and retry a few times. False if the conflicts persisted."""
    for _ in range(CONFLICT_ATTEMPTS):
        try:
            run_write(storage, work)
            return True
        except ConflictError:
            continue
    return False


def claim(
    storage: Storage, batch: Batch, now: pendulum.DateTime, token: str, policy: RetryPolicy
) -> list[Delivery]:
    """Claim every due delivery of the batch (creating first ones) in one transaction.

    A consumer with side effects records its first claim in the inbox; a pair the
    inbox already knows (sent by an earlier carebook) is delivered without a call.
    Returns the claims this dispatcher now holds.
    """
    claims: list[Delivery] = []

    def work(uow: UnitOfWork) -> None:
        claims.clear()
        stored = _by_key(uow, batch)
        changed: list[Delivery] = []
        for event in batch.events:
            for consumer in batch.consumers[event.event_id]:
                current = stored.get((event.event_id, consumer))
                if current is None:
                    current = Delivery.new(event.event_id, consumer, now)
                    if batch.inboxed(consumer) and not uow.inbox.record(consumer, event.event_id):
                        taken = current.claimed(now, token, policy).succeeded(now)
                        changed.append(attrs.evolve(taken, version=1))
                        continue
                if current.due(now):
                    claims.append(current.claimed(now, token, policy))
        uow.deliveries.put(changed + claims)

    return claims if _retrying(storage, work) else []


@attrs.frozen
class Outcome:
    """What the round settled: events that left the outbox, deliveries now dead."""

    done: tuple[EventId, ...]
    dead: tuple[Delivery, ...]


def record(
    storage: Storage,
    batch: Batch,
    results: Mapping[tuple[EventId, str], str | None],
    now: pendulum.DateTime,
    token: str,
    policy: RetryPolicy,
    jitter: Callable[[], float],
) -> Outcome:
    """Record each claimed call's result (None: it succeeded; else the scrubbed error)
    on the stored delivery, then mark the events every consumer settled as dispatched
    and defer the others to their next due delivery. One transaction."""
    outcome = Outcome((), ())

    def work(uow: UnitOfWork) -> None:
        nonlocal outcome
        stored = _by_key(uow, batch)
        changed: list[Delivery] = []
        for key, error in results.items():
            current = stored[key]
            if error is None:
                new = current.succeeded(now)
            else:
                new = current.failed(now, token, error, policy, jitter())
            if new is not current:
                changed.append(new)
                stored[key] = new
        uow.deliveries.put(changed)
        by_event: dict[EventId, dict[str, Delivery]] = {}
        for (event_id, consumer), delivery in stored.items():
            by_event.setdefault(event_id, {})[consumer] = delivery
        done: list[EventId] = []
        for event in batch.events:
            mine = by_event.get(event.event_id, {})
            consumers = batch.consumers[event.event_id]
            if event_settled(consumers, mine):
                done.append(event.event_id)
                continue
            due = next_due(d for c, d in mine.items() if c in consumers)
            if due is not None:
                uow.outbox.defer(event.event_id, due)
        uow.outbox.mark_dispatched(done)
        dead = tuple(d for d in changed if d.status is DeliveryStatus.DEAD)
        outcome = Outcome(tuple(done), dead)

    if not _retrying(storage, work):
        log.warning("delivery results not recorded: other dispatchers kept moving them")
    return outcome
