"""After commit: hand outbox events to the publisher, the subscribers and the notifiers.

Every consumer of an event has its own delivery (:mod:`carebook.domain.delivery`): a
consumer that fails is retried on its own schedule, with exponential backoff and jitter,
and dead-lettered after ``RetryPolicy.max_attempts``; it holds back neither the event's
other consumers nor other events. An event leaves the outbox when every consumer is
delivered or dead. Consumers are called outside any storage transaction: a dispatcher
claims due deliveries in one short transaction, calls the consumers, and records the
results in another (:mod:`carebook.services.delivery`). Delivery is at least once; a
notification's side effect happens once per (event, consumer) unless a process dies
between the send and its record, and then the notifier sees the same
``Notification.idempotency_key`` again.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence

import pendulum

from carebook.domain import events as ev
from carebook.domain.actors import Actor
from carebook.domain.delivery import Delivery, DeliveryStatus, RetryPolicy, consumer_name
from carebook.domain.ids import EventId
from carebook.domain.notifications import Notification
from carebook.domain.redaction import describe_failure
from carebook.domain.validators import MAX_PAGE, check_whole
from carebook.errors import NotFoundError
from carebook.ports import Clock, EventPublisher, Notifier, Storage, UnitOfWork
from carebook.services.authz import require_admin
from carebook.services.background import PendingReport, PendingWork
from carebook.services.boundary import checked_api
from carebook.services.delivery import Batch, Call, claim, record
from carebook.services.transactions import run_write

__all__ = ["Dispatcher", "Events", "Subscriber", "notifications_for"]

log = logging.getLogger("carebook.dispatch")


def notifications_for(event: ev.Event) -> list[Notification]:
    """Which notifications an event causes (ids only; the notifier resolves contacts)."""
    rules: list[tuple[type[ev.Event], str, tuple[str, ...]]] = [
        (ev.AppointmentBooked, "appointment_booked", ("patient",)),
        (ev.AppointmentConfirmed, "appointment_confirmed", ("patient",)),
        (ev.AppointmentCancelled, "appointment_cancelled", ("patient", "practitioner")),
        (ev.PatientArrived, "patient_arrived", ("practitioner",)),
        (ev.SessionStarted, "session_started", ("patient",)),
        (ev.SessionCompleted, "session_completed", ("patient",)),
        (ev.AppointmentNoShow, "appointment_noshow", ("patient",)),
        (ev.ReminderDue, "appointment_reminder", ("patient",)),
        (
            ev.AppointmentRescheduled,
            "appointment_rescheduled",
            ("patient", "practitioner", "previous_practitioner"),
        ),
    ]
    out: list[Notification] = []
    for cls, kind, roles in rules:
        if not isinstance(event, cls):
            continue
        if isinstance(event, ev.AppointmentCancelled) and event.reason == "hold_expired":
            return []
        assert isinstance(event, ev.AppointmentEvent)
        for role in roles:
            recipient: uuid.UUID
            if role == "previous_practitioner":
                assert isinstance(event, ev.AppointmentRescheduled)
                if event.previous_practitioner_id == event.practitioner_id:
                    continue  # the same practitioner hears once
                recipient = event.previous_practitioner_id
            else:
                recipient = event.patient_id if role == "patient" else event.practitioner_id
            out.append(
                Notification(
                    kind=kind,
                    recipient_role=role,
                    recipient_id=recipient,
                    appointment_id=event.appointment_id,
                    event_id=event.event_id,
                    correlation_id=event.correlation_id,
                )
            )
    return out


Subscriber = Callable[[ev.Event], None]
"""An event consumer called after commit: the host's hooks, the saga coordinator."""


def _notifier_consumer(name: str, notification: Notification) -> str:
    return consumer_name("notifier", name, notification.kind, notification.recipient_role)


class Dispatcher:
    """Delivers due outbox events to the publisher, the named subscribers (in order) and
    the notifiers, each consumer on its own schedule. Safe to call from several threads
    (one drains at a time) and from several processes (claims keep them apart)."""

    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        publisher: EventPublisher,
        notifiers: Mapping[str, Notifier],
        subscribers: Mapping[str, Subscriber],
        *,
        policy: RetryPolicy | None = None,
        jitter: Callable[[], float] = random.random,
        batch: int = 100,
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._publisher = publisher
        self._notifiers = dict(notifiers)
        self._subscribers = dict(subscribers)
        self.policy = policy or RetryPolicy()
        self._jitter = jitter
        self._batch = batch
        self._lock = threading.Lock()

    def consumers(self, event: ev.Event) -> dict[str, Call]:
        """The consumers of one event, by name, in delivery order."""
        if not ev.leaves_core(event):
            # A timeline-only event in the outbox (written before it became one): it
            # is done with, and nobody outside the core sees it.
            return {}
        calls: dict[str, Call] = {
            consumer_name("publisher"): functools.partial(self._publisher.publish, event)
        }
        for name, subscriber in self._subscribers.items():
            calls[consumer_name("subscriber", name)] = functools.partial(subscriber, event)
        for notification in notifications_for(event):
            for name, notifier in self._notifiers.items():
                call = functools.partial(notifier.send, notification)
                calls[_notifier_consumer(name, notification)] = call
        return calls

    def run(self, now: pendulum.DateTime | None = None) -> int:
        """Deliver what is due at ``now`` (default: the clock); return how many events
        left the outbox."""
        if not self._lock.acquire(blocking=False):
            return 0
        try:
            left = 0
            while True:
                moment = now or self._clock.now()
                with self._storage.unit_of_work() as uow:
                    events = uow.outbox.due(moment, self._batch)
                if not events:
                    return left
                done, progressed = self._round(events, moment, explicit=now is not None)
                left += done
                if not progressed or len(events) < self._batch:
                    return left
        finally:
            self._lock.release()

    def _round(
        self, events: Sequence[ev.Event], now: pendulum.DateTime, *, explicit: bool
    ) -> tuple[int, bool]:
        batch = Batch(
            events=events,
            consumers={e.event_id: self.consumers(e) for e in events},
            inboxed=lambda consumer: consumer.startswith("notifier:"),
        )
        token = uuid.uuid4().hex
        claims = claim(self._storage, batch, now, token, self.policy)
        by_id = {e.event_id: e for e in events}
        results: dict[tuple[EventId, str], str | None] = {}
        for held in claims:
            results[held.event_id, held.consumer] = self._call(by_id[held.event_id], held, batch)
        after = now if explicit else self._clock.now()
        outcome = record(self._storage, batch, results, after, token, self.policy, self._jitter)
        for dead in outcome.dead:
            self._log_dead(by_id[dead.event_id], dead)
        return len(outcome.done), bool(claims) or bool(outcome.done)

    def _call(self, event: ev.Event, held: Delivery, batch: Batch) -> str | None:
        try:
            batch.consumers[event.event_id][held.consumer]()
        except Exception as exc:  # a consumer failed: it alone is retried later
            error = describe_failure(type(exc).__name__, str(exc))
            log.warning(
                "[%s] delivery of event=%s type=%s to %s failed (attempt %d): %s",
                event.correlation_id,
                event.event_id,
                event.type,
                held.consumer,
                held.attempts,
                error,
                extra={
                    "correlation_id": event.correlation_id,
                    "event_id": str(event.event_id),
                    "event_type": event.type,
                    "consumer": held.consumer,
                    "attempt": held.attempts,
                    "error": error,
                },
            )
            return error
        return None

    @staticmethod
    def _log_dead(event: ev.Event, dead: Delivery) -> None:
        log.error(
            "[%s] delivery of event=%s type=%s to %s is dead after %d attempts",
            event.correlation_id,
            event.event_id,
            event.type,
            dead.consumer,
            dead.attempts,
            extra={
                "correlation_id": event.correlation_id,
                "event_id": str(event.event_id),
                "event_type": event.type,
                "consumer": dead.consumer,
                "attempt": dead.attempts,
                "error": dead.last_error,
            },
        )


@checked_api
class Events:
    """``cb.events``: the outbox seen from the host. With ``dispatch="manual"`` the host
    calls :meth:`dispatch` (or :meth:`run_pending`) itself, e.g. from its scheduler.
    Dead letters are listed and retried by an administrator."""

    def __init__(
        self, storage: Storage, clock: Clock, dispatcher: Dispatcher, jobs: PendingWork
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._dispatcher = dispatcher
        self._jobs = jobs

    def dispatch(self) -> int:
        """Deliver what is due now; returns how many events left the outbox."""
        return self._dispatcher.run()

    def run_pending(self, jobs: Collection[str] | None = None) -> PendingReport:
        """Do every piece of background work that is due now, once: expire holds,
        resume sagas, sweep every organisation's walk-in queues, then deliver due
        events (``jobs``: only these, by name: ``expire_holds``, ``resume_sagas``,
        ``sweep_walkins``, ``dispatch``; ValidationError for another name). A job that
        fails is logged and counted; the others still run. Call it from the host's
        scheduler, or run ``carebook worker`` (docs/operations.md gives the periods)."""
        return self._jobs.run(jobs)

    def pending(self, limit: int = 100) -> list[ev.Event]:
        """Committed events some consumer has still to take, oldest first
        (``limit``: 1 to 10,000)."""
        check_whole(limit, "limit", 1, MAX_PAGE)
        with self._storage.unit_of_work() as uow:
            return uow.outbox.pending(limit)

    def dead_letters(
        self, actor: Actor, *, limit: int = 100, after: tuple[EventId, str] | None = None
    ) -> list[Delivery]:
        """Deliveries given up on (admin only), ordered by (event id, consumer);
        pass the last one's key as ``after`` for the next page."""
        require_admin(actor, "list dead letters")
        check_whole(limit, "limit", 1, MAX_PAGE)
        with self._storage.unit_of_work() as uow:
            return uow.deliveries.dead(limit, after)

    def retry(self, actor: Actor, event_id: EventId, consumer: str) -> Delivery:
        """Give one dead letter a fresh set of attempts, due now (admin only);
        NotFoundError if there is no such dead letter. The next dispatch delivers it."""
        require_admin(actor, "retry a dead letter")
        now = self._clock.now()

        def work(uow: UnitOfWork) -> Delivery:
            found = [d for d in uow.deliveries.for_events([event_id]) if d.consumer == consumer]
            if not found or found[0].status is not DeliveryStatus.DEAD:
                raise NotFoundError("dead letter", f"{event_id} {consumer}")
            retried = found[0].retried(now)
            uow.deliveries.put([retried])
            uow.outbox.reopen([event_id], now)
            return retried

        retried = run_write(self._storage, work)
        log.info(
            "dead letter of event=%s to %s retried",
            event_id,
            consumer,
            extra={"event_id": str(event_id), "consumer": consumer},
        )
        return retried

    def retry_all(self, actor: Actor) -> int:
        """Retry every dead letter (admin only); returns how many."""
        require_admin(actor, "retry dead letters")
        now = self._clock.now()
        total = 0

        def page(uow: UnitOfWork) -> int:
            letters = uow.deliveries.dead(self._PAGE)
            uow.deliveries.put([d.retried(now) for d in letters])
            uow.outbox.reopen({d.event_id for d in letters}, now)
            return len(letters)

        while True:
            count = run_write(self._storage, page)
            total += count
            if count < self._PAGE:
                break
        if total:
            log.info("%d dead letters retried", total, extra={"retried": total})
        return total

    _PAGE = 100
