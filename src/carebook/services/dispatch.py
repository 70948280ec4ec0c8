"""After commit: hand outbox events to the publisher, the hooks and the notifiers.

Delivery is at least once. An event leaves the outbox only when every consumer took
it; a consumer that fails is logged (ids only) and sees the event again next time.
Notifications go through the inbox, so a redelivered event never notifies twice.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Mapping, Sequence

from carebook.domain import events as ev
from carebook.domain.ids import EventId
from carebook.domain.notifications import Notification
from carebook.domain.validators import MAX_PAGE, check_whole
from carebook.ports import EventPublisher, Notifier, Storage, UnitOfWork
from carebook.services.boundary import checked_api
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
    ]
    out: list[Notification] = []
    for cls, kind, roles in rules:
        if not isinstance(event, cls):
            continue
        if isinstance(event, ev.AppointmentCancelled) and event.reason == "hold_expired":
            return []
        assert isinstance(event, ev.AppointmentEvent)
        for role in roles:
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


def _mark_dispatched(event_ids: tuple[EventId, ...], uow: UnitOfWork) -> None:
    uow.outbox.mark_dispatched(event_ids)


Subscriber = Callable[[ev.Event], None]
"""An event consumer called after commit: the host's hooks, the saga coordinator."""


class Dispatcher:
    """Drains the outbox to the publisher, the subscribers (in order) and the notifiers.
    Safe to call from several threads; one drains at a time."""

    def __init__(
        self,
        storage: Storage,
        publisher: EventPublisher,
        notifiers: Mapping[str, Notifier],
        subscribers: Sequence[Subscriber],
        batch: int = 100,
    ) -> None:
        self._storage = storage
        self._publisher = publisher
        self._notifiers = dict(notifiers)
        self._subscribers = tuple(subscribers)
        self._batch = batch
        self._lock = threading.Lock()

    def run(self) -> int:
        """Deliver pending events; return how many left the outbox."""
        if not self._lock.acquire(blocking=False):
            return 0
        try:
            delivered = 0
            while True:
                with self._storage.unit_of_work() as uow:
                    pending = uow.outbox.pending(self._batch)
                done = [e.event_id for e in pending if self._deliver(e)]
                if done:
                    run_write(self._storage, functools.partial(_mark_dispatched, tuple(done)))
                delivered += len(done)
                if len(done) < len(pending) or len(pending) < self._batch:
                    return delivered
        finally:
            self._lock.release()

    def _deliver(self, event: ev.Event) -> bool:
        if not ev.leaves_core(event):
            # A timeline-only event in the outbox (written before it became one): it
            # is done with, and nobody outside the core sees it.
            return True
        try:
            self._publisher.publish(event)
            for subscriber in self._subscribers:
                subscriber(event)
            for notification in notifications_for(event):
                for name, notifier in self._notifiers.items():
                    self._notify(name, notifier, notification)
        except Exception as exc:  # a consumer failed: keep the event for the next run
            log.warning(
                "[%s] delivery of event=%s type=%s failed: %s",
                event.correlation_id,
                event.event_id,
                event.type,
                type(exc).__name__,
                extra={"correlation_id": event.correlation_id},
            )
            return False
        return True

    def _notify(self, name: str, notifier: Notifier, notification: Notification) -> None:
        consumer = f"notifier:{name}:{notification.kind}:{notification.recipient_role}"

        def work(uow: UnitOfWork) -> None:
            # Send inside the transaction that records it: a failed send rolls the
            # record back, so the notification is retried (at least once, never lost).
            if uow.inbox.record(consumer, notification.event_id):
                notifier.send(notification)

        run_write(self._storage, work)


@checked_api
class Events:
    """``cb.events``: the outbox seen from the host. With ``dispatch="manual"`` the host
    calls :meth:`dispatch` itself (e.g. from its scheduler)."""

    def __init__(self, storage: Storage, dispatcher: Dispatcher) -> None:
        self._storage = storage
        self._dispatcher = dispatcher

    def dispatch(self) -> int:
        """Deliver committed events now; returns how many left the outbox."""
        return self._dispatcher.run()

    def pending(self, limit: int = 100) -> list[ev.Event]:
        """Committed events not yet delivered, oldest first (``limit``: 1 to 10,000)."""
        check_whole(limit, "limit", 1, MAX_PAGE)
        with self._storage.unit_of_work() as uow:
            return uow.outbox.pending(limit)
