"""Per-consumer delivery: a failing consumer holds back nothing else, is retried on its
own schedule, is dead-lettered after the last attempt with a scrubbed error, and can be
retried by an administrator; no consumer runs inside a storage transaction; a crash
between a claim and its send loses nothing; run_pending does every background job."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

import pytest

from carebook import Actor, Event, ForbiddenError, NotFoundError
from carebook.builtin.memory import MemoryStorage
from carebook.builtin.notifiers import RecordingNotifier
from carebook.builtin.publishers import InProcessPublisher
from carebook.domain import events as ev
from carebook.domain.delivery import DeliveryStatus, RetryPolicy
from carebook.domain.ids import OrganisationId
from carebook.domain.notifications import Notification
from carebook.services.background import PendingWork
from carebook.testing.clinic import ClinicBuilder
from carebook.testing.world import World, at, make_world

POLICY = RetryPolicy()
CONTACT = "alice.smith@example.org +44 7700 900123"


class Down(RecordingNotifier):
    """Fails every send while ``down``; records the sends that got through."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True
        self.attempts = 0

    def send(self, notification: Notification) -> None:
        self.attempts += 1
        if self.down:
            raise ConnectionError(f"smtp refused {CONTACT}")
        super().send(notification)


def exhaust(w: World) -> None:
    """Dispatch at every retry time until the policy gives up."""
    for _ in range(POLICY.max_attempts):
        w.clock.advance(seconds=POLICY.max_delay_seconds)
        w.cb.events.dispatch()


# -- isolation ---------------------------------------------------------------------------------


def test_a_failing_notifier_holds_back_neither_the_publisher_nor_the_other_notifier() -> None:
    down, steady = Down(), RecordingNotifier()
    w = make_world(notifiers={"down": down, "steady": steady})
    seen = w.record_events()

    booked = w.book(w.alice, at(10))

    assert [e.appointment_id for e in seen if isinstance(e, ev.AppointmentBooked)] == [booked.id]
    assert [n.appointment_id for n in steady.sent] == [booked.id]
    assert down.attempts == 1
    assert len(w.cb.events.pending()) == 1
    w.book(w.bob, at(11))  # a later event is not held back either
    assert len(steady.sent) == 2
    assert len(w.cb.events.pending()) == 2

    down.down = False
    w.clock.advance(seconds=POLICY.base_delay_seconds)
    assert w.cb.events.dispatch() == 2
    assert len(down.sent) == 2
    assert len(steady.sent) == 2, "a delivered consumer is never called again"
    assert len([e for e in seen if isinstance(e, ev.AppointmentBooked)]) == 2


def test_each_consumer_waits_for_its_own_backoff() -> None:
    down = Down()
    w = make_world(notifiers={"down": down, "steady": RecordingNotifier()})
    w.book(w.alice, at(10))
    w.clock.advance(seconds=POLICY.base_delay_seconds // 2 - 1)
    w.cb.events.dispatch()
    assert down.attempts == 1, "jitter never makes a retry come before half its delay"
    w.clock.advance(seconds=POLICY.base_delay_seconds)
    w.cb.events.dispatch()
    assert down.attempts == 2


# -- dead letters --------------------------------------------------------------------------------


def test_after_the_last_attempt_the_delivery_is_dead_with_a_scrubbed_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = Down()
    w = make_world(notifiers={"down": down})
    with caplog.at_level(logging.WARNING, logger="carebook.dispatch"):
        booked = w.book(w.alice, at(10))
        exhaust(w)

    assert down.attempts == POLICY.max_attempts
    assert w.cb.events.pending() == [], "dead or delivered: the event left the outbox"
    (letter,) = w.cb.events.dead_letters(Actor.admin())
    assert letter.consumer == "notifier:down:appointment_booked:patient"
    assert (letter.status, letter.attempts) == (DeliveryStatus.DEAD, POLICY.max_attempts)
    assert letter.last_error == "ConnectionError: smtp refused <email> <number>"
    assert CONTACT.split()[0] not in caplog.text and "7700" not in caplog.text
    (dead_line,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert vars(dead_line)["consumer"] == letter.consumer
    assert vars(dead_line)["event_id"] == str(letter.event_id)
    assert vars(dead_line)["attempt"] == POLICY.max_attempts
    w.clock.advance(days=1)
    assert w.cb.events.dispatch() == 0
    assert down.attempts == POLICY.max_attempts
    assert booked.id


def test_an_admin_retries_one_dead_letter_and_only_that_consumer_is_called_again() -> None:
    down, steady = Down(), RecordingNotifier()
    w = make_world(notifiers={"down": down, "steady": steady})
    w.book(w.alice, at(10))
    exhaust(w)
    (letter,) = w.cb.events.dead_letters(Actor.admin())

    down.down = False
    retried = w.cb.events.retry(Actor.admin(), letter.event_id, letter.consumer)

    assert (retried.status, retried.attempts) == (DeliveryStatus.PENDING, 0)
    assert [e.event_id for e in w.cb.events.pending()] == [letter.event_id]
    assert w.cb.events.dispatch() == 1
    assert [n.event_id for n in down.sent] == [letter.event_id]
    assert len(steady.sent) == 1
    assert w.cb.events.dead_letters(Actor.admin()) == []
    with pytest.raises(NotFoundError):
        w.cb.events.retry(Actor.admin(), letter.event_id, letter.consumer)


def test_retry_all_gives_every_dead_letter_a_fresh_set_of_attempts() -> None:
    down = Down()
    w = make_world(notifiers={"down": down})
    w.book(w.alice, at(10))
    w.book(w.bob, at(11))
    exhaust(w)
    assert len(w.cb.events.dead_letters(Actor.admin())) == 2

    down.down = False
    assert w.cb.events.retry_all(Actor.system()) == 2
    assert w.cb.events.dispatch() == 2
    assert len(down.sent) == 2
    assert w.cb.events.retry_all(Actor.admin()) == 0


def test_only_an_administrator_lists_or_retries_dead_letters() -> None:
    w = make_world(notifiers={"down": Down()})
    w.book(w.alice, at(10))
    exhaust(w)
    (letter,) = w.cb.events.dead_letters(Actor.admin())
    for actor in (w.staff, Actor.patient(w.alice.id)):
        with pytest.raises(ForbiddenError):
            w.cb.events.dead_letters(actor)
        with pytest.raises(ForbiddenError):
            w.cb.events.retry(actor, letter.event_id, letter.consumer)
        with pytest.raises(ForbiddenError):
            w.cb.events.retry_all(actor)
    assert w.cb.events.dead_letters(Actor.system()) == [letter]


# -- no consumer inside a transaction -------------------------------------------------------------


class WatchedStorage:
    """Memory storage that counts the units of work open right now."""

    def __init__(self) -> None:
        self.inner = MemoryStorage()
        self.open = 0

    def unit_of_work(self, *, write: bool = False) -> Any:
        return _Watched(self, self.inner.unit_of_work(write=write))

    def close(self) -> None:
        self.inner.close()


class _Watched:
    def __init__(self, storage: WatchedStorage, inner: Any) -> None:
        self.storage = storage
        self.inner = inner

    def __enter__(self) -> Any:
        self.storage.open += 1
        return self.inner.__enter__()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.storage.open -= 1
        self.inner.__exit__(t, e, tb)


def test_no_consumer_is_ever_called_inside_a_unit_of_work() -> None:
    storage = WatchedStorage()
    calls: list[tuple[str, int]] = []

    class Checking(RecordingNotifier):
        def send(self, notification: Notification) -> None:
            calls.append(("notifier", storage.open))
            super().send(notification)

    w = make_world(storage=storage, notifiers={"checking": Checking()})
    publisher = w.cb.publisher
    assert isinstance(publisher, InProcessPublisher)
    publisher.subscribe(lambda event: calls.append(("publisher", storage.open)))
    booked = w.book(w.alice, at(10))
    w.cb.lifecycle.confirm(w.staff, booked.id)

    assert ("notifier", 0) in calls and ("publisher", 0) in calls
    assert {depth for _, depth in calls} == {0}


# -- crashes -------------------------------------------------------------------------------------


class Crash(BaseException):
    """The process dying: nothing after it runs."""


def test_a_dispatcher_dying_between_claim_and_send_loses_nothing() -> None:
    sent: list[Notification] = []
    crash = [True]

    class Dying:
        def send(self, notification: Notification) -> None:
            if crash[0]:
                crash[0] = False
                raise Crash
            sent.append(notification)

    w = make_world(dispatch="manual", notifiers={"dying": Dying()})
    w.cb.events.dispatch()
    w.book(w.alice, at(10))
    with pytest.raises(Crash):
        w.cb.events.dispatch()
    assert w.cb.events.dispatch() == 0, "the claim is still leased"
    assert sent == []

    w.clock.advance(seconds=POLICY.lease_seconds)
    assert w.cb.events.dispatch() == 1
    assert len(sent) == 1
    w.clock.advance(days=1)
    assert w.cb.events.dispatch() == 0
    assert len(sent) == 1


# -- run_pending -------------------------------------------------------------------------------------


def test_run_pending_expires_holds_sweeps_every_organisation_and_dispatches() -> None:
    w = make_world(dispatch="manual")
    ClinicBuilder.create(w.cb, "Southside Clinics")
    w.hold(w.alice, at(10))
    w.clock.advance(minutes=11)

    report = w.cb.events.run_pending()

    assert report.holds_expired == 1
    assert report.organisations_swept == 2
    assert report.sagas_resumed == 0
    assert report.failed == ()
    assert report.events_dispatched > 2
    assert w.cb.events.pending() == []
    again = w.cb.events.run_pending()
    assert (again.holds_expired, again.events_dispatched, again.organisations_swept) == (0, 0, 2)


def test_a_failing_background_job_is_reported_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = make_world(dispatch="manual")
    storage = w.cb.storage
    swept: list[OrganisationId] = []

    def sweep(organisation_id: OrganisationId) -> tuple[object, ...]:
        swept.append(organisation_id)
        raise RuntimeError("queue table locked")

    def expire() -> list[object]:
        raise RuntimeError("storage down")

    work = PendingWork(
        storage,
        expire_holds=expire,
        resume_sagas=lambda: {"confirmed": 2},
        sweep=sweep,
        send_reminders=lambda: 3,
        dispatch=w.cb.events.dispatch,
    )
    with caplog.at_level(logging.WARNING, logger="carebook.background"):
        report = work.run()
    assert report.failed == ("expire_holds", f"sweep:{w.org.id}")
    assert report.sagas_resumed == 2
    assert report.reminders_sent == 3
    assert report.organisations_swept == 0
    assert report.events_dispatched > 0
    assert swept == [w.org.id]
    assert {vars(r)["job"] for r in caplog.records} == {"expire_holds", f"sweep:{w.org.id}"}


def test_events_of_the_pending_jobs_reach_observers() -> None:
    w = make_world(dispatch="manual")
    seen: list[Event] = w.record_events()
    w.cb.events.dispatch()
    w.hold(w.alice, at(10))
    w.clock.advance(minutes=11)
    w.cb.events.run_pending()
    assert [type(e) for e in seen][-2:] == [ev.AppointmentHeld, ev.AppointmentCancelled]
