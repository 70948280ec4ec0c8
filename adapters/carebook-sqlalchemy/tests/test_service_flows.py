"""The key use cases through a Carebook whose storage is SQL, on SQLite and PostgreSQL.

The flows every storage runs are carebook's own suite, :class:`ServiceFlows`, one class
per database. Below it, what only a database shared by processes shows: a second
Carebook on the same URL plays another process of the host application; it sees what
the first committed, replays its idempotent requests, and shares its outbox and inbox.
Each test gets a fresh database, migrated by ``SqlStorage(migrate=True)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import attrs
import pytest

from carebook import (
    Actor,
    AppointmentId,
    Carebook,
    IdempotencyConflictError,
    RuleRejectedError,
    SlotUnavailableError,
)
from carebook.builtin.notifiers import RecordingNotifier
from carebook.events import ReminderDue, RetryPolicy
from carebook.ports import Notifier, Storage
from carebook.scheduling import RescheduleAppointment, WeeklyHours, WorkingPlan
from carebook.testing.flows import FlakyNotifier, ServiceFlows
from carebook.testing.world import World, at, make_world
from carebook_sqlalchemy import SqlStorage

HOLD_EXAMPLES = 50
"""Examples of the hold-expiry properties: a database round trip costs more than memory."""


def _storage(url: str) -> Iterator[Storage]:
    storage = SqlStorage(url, migrate=True)
    try:
        yield storage
    finally:
        storage.close()


class TestSqliteFlows(ServiceFlows):
    hold_examples = HOLD_EXAMPLES

    @pytest.fixture
    def storage(self, sqlite_url: str) -> Iterator[Storage]:
        yield from _storage(sqlite_url)


@pytest.mark.postgres
class TestPostgresFlows(ServiceFlows):
    hold_examples = HOLD_EXAMPLES

    @pytest.fixture
    def storage(self, pg_url: str) -> Iterator[Storage]:
        yield from _storage(pg_url)


# -- another process of the host application -------------------------------------------------


@attrs.define
class Processes:
    """Opens Carebooks on one database, as other processes of the host app would, and
    closes every one of them at the end of the test."""

    url: str
    opened: list[Carebook] = attrs.field(factory=list)

    def world(self, *, notifiers: dict[str, Notifier] | None = None) -> World:
        """The shared test clinic on a freshly migrated database, dispatching manually."""
        w = make_world(
            storage=SqlStorage(self.url, migrate=True), dispatch="manual", notifiers=notifiers
        )
        self.opened.append(w.cb)
        return w

    def another(self, w: World, *, notifiers: dict[str, Notifier] | None = None) -> Carebook:
        """A second Carebook on the same database: another process of the host app."""
        other = w.another(SqlStorage(self.url), notifiers=notifiers)
        self.opened.append(other)
        return other


@pytest.fixture
def processes(db_url: str) -> Iterator[Processes]:
    opened = Processes(db_url)
    try:
        yield opened
    finally:
        for cb in opened.opened:
            cb.close()


@pytest.fixture
def world(processes: Processes) -> World:
    return processes.world()


Another = Callable[..., Carebook]


@pytest.fixture
def another(processes: Processes, world: World) -> Another:
    """Opens another Carebook on the database of ``world``."""

    def open_another(*, notifiers: dict[str, Notifier] | None = None) -> Carebook:
        return processes.another(world, notifiers=notifiers)

    return open_another


def test_a_booking_is_seen_by_another_carebook(world: World, another: Another) -> None:
    w = world
    booked = w.book(w.alice, at(9, 30))

    other = another()
    assert other.queries.get_appointment(Actor.system(), booked.id) == booked
    assert at(9, 30) not in w.starts(cb=other)
    assert w.appointments(cb=other) == [booked]


def test_an_idempotent_retry_in_another_carebook_returns_the_same_appointment(
    world: World, another: Another
) -> None:
    w = world
    command = w.command(w.alice, at(10), key="client-key-1")
    first = w.cb.booking.book(Actor.patient(w.alice.id), command)
    before = w.snapshot()

    elsewhere = another().booking.book(Actor.patient(w.alice.id), command)

    assert elsewhere == first
    assert w.snapshot() == before  # nothing new stored, no second event
    with pytest.raises(IdempotencyConflictError):
        another().booking.book(Actor.patient(w.alice.id), attrs.evolve(command, start=at(11)))
    assert w.snapshot() == before


def test_a_completed_session_is_seen_by_another_carebook(world: World, another: Another) -> None:
    w = world
    booked = w.book(w.alice, at(10))
    w.cb.lifecycle.confirm(w.staff, booked.id)
    w.clock.set(at(9, 50))
    w.cb.lifecycle.check_in(Actor.patient(w.alice.id), booked.id)
    w.clock.set(at(10, 1))
    w.cb.lifecycle.start_session(w.staff, booked.id)
    w.clock.set(at(10, 29))

    done = w.cb.lifecycle.complete_session(w.staff, booked.id)

    other = another()
    assert other.queries.get_appointment(Actor.system(), booked.id) == done
    assert at(10) not in w.starts(cb=other)  # a fulfilled appointment still occupies its time


def test_a_calendar_change_by_another_carebook_is_seen_at_once(
    world: World, another: Another
) -> None:
    """Each Carebook keeps decoded calendars; a change committed elsewhere must win."""
    w = world
    assert at(10) in w.starts()  # this Carebook has now decoded the calendar
    another().admin.set_working_plan(
        Actor.admin(),
        w.pr.id,
        WorkingPlan(location_id=w.loc.id, hours=WeeklyHours.every_day("13:00-17:00")),
    )

    starts = w.starts()

    assert at(10) not in starts
    assert min(starts) == at(13)
    with pytest.raises(RuleRejectedError) as caught:
        w.book(w.alice, at(10))
    assert caught.value.reason_code == "practitioner_unavailable"


def test_every_carebook_sees_the_outbox_and_one_dispatch_marks_it_for_all(
    world: World, another: Another
) -> None:
    w = world
    w.book(w.alice, at(10))
    pending = w.cb.events.pending(1000)

    assert another().events.pending(1000) == pending  # committed: every process sees it
    assert w.cb.events.dispatch() == len(pending)
    assert another().events.pending() == []


def test_a_redelivered_event_never_notifies_twice_even_from_another_carebook(
    processes: Processes,
) -> None:
    """Delivery state lives in the database: a notifier that already sent for an event
    does not send again when the event is redelivered, whichever process redelivers it."""
    first, second = RecordingNotifier(), FlakyNotifier()
    w = processes.world(notifiers={"first": first, "second": second})
    w.cb.events.dispatch()  # the set-up's calendar events
    booked = w.book(w.alice, at(10))

    assert w.cb.events.dispatch() == 0  # "second" failed: the event stays pending
    assert [n.appointment_id for n in first.sent] == [booked.id]
    assert second.sent == []
    (pending,) = w.cb.events.pending()

    again_first, again_second = RecordingNotifier(), RecordingNotifier()
    other = processes.another(w, notifiers={"first": again_first, "second": again_second})
    w.clock.advance(seconds=RetryPolicy().base_delay_seconds)  # past "second"'s backoff
    assert other.events.dispatch() == 1
    assert other.events.dispatch() == 0
    assert w.cb.events.dispatch() == 0

    assert again_first.sent == []  # "first" already sent this one: not again
    assert [n.event_id for n in again_second.sent] == [pending.event_id]
    assert [n.appointment_id for n in first.sent] == [booked.id]
    assert w.cb.events.pending() == []


def test_two_carebooks_dispatching_at_once_notify_each_booking_once(
    world: World, processes: Processes
) -> None:
    """Two processes drain the same outbox at the same moment: the publisher may see an
    event twice (delivery is at least once), but the inbox lets each notification out once."""
    w = world
    w.cb.events.dispatch()
    patients = [w.new_patient() for _ in range(8)]
    booked = [w.book(p, at(9, 30 * n)) for n, p in enumerate(patients)]
    notifiers = [RecordingNotifier(), RecordingNotifier()]
    dispatchers = [processes.another(w, notifiers={"recording": n}) for n in notifiers]
    barrier = threading.Barrier(len(dispatchers))
    errors: list[BaseException] = []

    def drain(cb: Carebook) -> None:
        try:
            barrier.wait(timeout=30)
            cb.events.dispatch()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(cb,)) for cb in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    sent = [n for notifier in notifiers for n in notifier.sent]
    assert sorted(str(n.appointment_id) for n in sent) == sorted(str(b.id) for b in booked)
    assert len({n.event_id for n in sent}) == len(booked)
    assert w.cb.events.pending() == []


def test_two_carebooks_moving_into_one_slot_leave_exactly_one_there(
    world: World, another: Another
) -> None:
    """Two processes reschedule two patients' visits into the same free slot at once:
    one move wins, the other is refused with a slot refusal and its visit stays where it
    was, booked; nothing deadlocks, nothing is left half moved."""
    w = world
    first = w.book(w.alice, at(10), actor=w.staff)
    second = w.book(w.bob, at(11), actor=w.staff)
    other = another()
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def move(name: str, cb: Carebook, appointment_id: AppointmentId) -> None:
        barrier.wait()
        try:
            outcomes[name] = cb.lifecycle.reschedule(
                w.staff, RescheduleAppointment(appointment_id=appointment_id, start=at(14))
            )
        except (RuleRejectedError, SlotUnavailableError) as refused:
            outcomes[name] = refused

    threads = [
        threading.Thread(target=move, args=("first", w.cb, first.id)),
        threading.Thread(target=move, args=("second", other, second.id)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    moved = [o for o in outcomes.values() if not isinstance(o, Exception)]
    refused = [o for o in outcomes.values() if isinstance(o, Exception)]
    assert len(moved) == 1 and len(refused) == 1, outcomes
    loser = refused[0]
    assert getattr(loser, "reason_code", None) in {"practitioner_busy", "slot_unavailable"}
    at_two = [a for a in w.appointments() if a.start == at(14)]
    assert len(at_two) == 1
    stayed = second if outcomes["first"] is moved[0] else first
    assert w.cb.queries.get_appointment(Actor.system(), stayed.id) == stayed


def test_two_carebooks_sending_reminders_at_once_send_each_once(
    world: World, another: Another
) -> None:
    """Two processes run the reminder scan at the same moment over 16 visits: each visit
    gets its one due reminder between them (the ledger key decides), none twice."""
    w = world
    patients = [w.new_patient() for _ in range(16)]
    booked = [
        w.book(patient, at(9).add(minutes=30 * n), actor=w.staff)
        for n, patient in enumerate(patients)
    ]
    other = another()  # shares the world's clock
    w.clock.set(at(8))
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def scan(cb: Carebook) -> None:
        barrier.wait()
        counts.append(cb.reminders.send_due(Actor.system()))

    threads = [threading.Thread(target=scan, args=(cb,)) for cb in (w.cb, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    due = [e for e in w.cb.events.pending(1000) if isinstance(e, ReminderDue)]
    assert len(counts) == 2 and sum(counts) == len(due) == len(booked)
    assert {e.appointment_id for e in due} == {a.id for a in booked}
    assert w.cb.reminders.send_due(Actor.system()) == 0
