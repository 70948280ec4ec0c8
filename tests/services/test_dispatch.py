"""Event dispatch after commit: inline and manual delivery, redelivery of a failing
consumer after its backoff without duplicate notifications, pluggy observers, id-only
notifications. Dead letters, admin retries and run_pending: test_deliveries.py.

The flows every storage runs (inline and manual dispatch, a notifier failing
after another sent) are written once in :mod:`carebook.testing.flows`;
``test_flows.py`` runs them on memory.
"""

from __future__ import annotations

import uuid
from typing import Any

import attrs
import pendulum

from carebook import Actor, Event, hookimpl
from carebook.builtin.notifiers import RecordingNotifier
from carebook.builtin.publishers import InProcessPublisher
from carebook.domain import events as ev
from carebook.domain.delivery import RetryPolicy
from carebook.plugins import make_plugin_manager
from carebook.scheduling import AppointmentStatus, CancelAppointment
from carebook.testing.flows import booked_events
from carebook.testing.world import at, make_world


class FailsOnce:
    """A consumer that raises the first time it sees an event of ``kind``."""

    def __init__(self, kind: type[Event]) -> None:
        self.kind = kind
        self.failed = False
        self.seen: list[Event] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, self.kind) and not self.failed:
            self.failed = True
            raise RuntimeError("subscriber is down")
        self.seen.append(event)


class Observer:
    """A pluggy plugin that records every event it is shown."""

    def __init__(self, fail_first: type[Event] | None = None) -> None:
        self.events: list[Event] = []
        self.contexts: list[str] = []
        self.fail_first = fail_first

    @hookimpl
    def carebook_on_event(self, event: Event, context: Any) -> None:
        if self.fail_first is not None and isinstance(event, self.fail_first):
            self.fail_first = None
            raise RuntimeError("observer is down")
        self.events.append(event)
        self.contexts.append(context.instance_name)


# --- inline and manual ------------------------------------------------------------------------


def test_manual_dispatch_delivers_in_batches_beyond_one_hundred_events() -> None:
    w = make_world(dispatch="manual")
    seen = w.record_events()
    for n in range(120):
        w.cb.admin.add_resource(Actor.admin(), location_id=w.loc.id, name=f"R{n}", category="room")
    total = len(w.cb.events.pending(1000))
    assert total > 120

    assert w.cb.events.dispatch() == total
    assert len(seen) == total
    assert w.cb.events.pending() == []


# --- failures and redelivery ----------------------------------------------------------------


def test_a_failing_consumer_alone_is_retried_once_its_backoff_has_passed() -> None:
    w = make_world()
    publisher = w.cb.publisher
    assert isinstance(publisher, InProcessPublisher)
    steady: list[Event] = []
    publisher.subscribe(steady.append)
    flaky = FailsOnce(ev.AppointmentBooked)
    publisher.subscribe(flaky)

    booked = w.book(w.alice, at(10))  # the command itself succeeds

    assert flaky.failed
    assert w.cb.queries.get_appointment(Actor.system(), booked.id) == booked
    (pending,) = w.cb.events.pending()
    assert isinstance(pending, ev.AppointmentBooked)
    assert [n.event_id for n in w.sent] == [pending.event_id], "the notifier was not held back"
    assert w.cb.events.dispatch() == 0, "the publisher waits for its backoff"

    w.clock.advance(seconds=RetryPolicy().base_delay_seconds)
    assert w.cb.events.dispatch() == 1

    assert [e.event_id for e in flaky.seen] == [pending.event_id]
    assert {e.event_id for e in steady} == {pending.event_id}  # at least once
    assert [n.event_id for n in w.sent] == [pending.event_id]
    assert w.cb.events.pending() == []
    assert w.cb.events.dispatch() == 0
    assert len(w.sent) == 1


def test_a_failing_event_does_not_hold_back_later_events() -> None:
    w = make_world(dispatch="manual")
    w.cb.events.dispatch()  # drain the set-up
    publisher = w.cb.publisher
    assert isinstance(publisher, InProcessPublisher)
    flaky = FailsOnce(ev.AppointmentBooked)
    publisher.subscribe(flaky)
    first = w.book(w.alice, at(10), actor=w.staff)
    cancelled = w.cb.lifecycle.cancel(w.staff, CancelAppointment(appointment_id=first.id))

    assert w.cb.events.dispatch() == 1  # the cancellation went through, the booking did not

    assert [type(e) for e in flaky.seen] == [ev.AppointmentCancelled]
    (left,) = w.cb.events.pending()
    assert isinstance(left, ev.AppointmentBooked)
    assert cancelled.status is AppointmentStatus.CANCELLED
    w.clock.advance(minutes=1)
    assert w.cb.events.dispatch() == 1
    assert w.cb.events.pending() == []


def test_a_cancellation_notifies_patient_and_practitioner_once_each_despite_redelivery() -> None:
    first, second = RecordingNotifier(), RecordingNotifier()
    w = make_world(dispatch="manual", notifiers={"first": first, "second": second})
    w.cb.events.dispatch()
    booked = w.book(w.alice, at(10))
    w.cb.lifecycle.cancel(Actor.patient(w.alice.id), CancelAppointment(appointment_id=booked.id))
    publisher = w.cb.publisher
    assert isinstance(publisher, InProcessPublisher)
    publisher.subscribe(FailsOnce(ev.AppointmentCancelled))

    w.cb.events.dispatch()
    w.cb.events.dispatch()

    for notifier in (first, second):
        assert sorted((n.kind, n.recipient_role) for n in notifier.sent) == [
            ("appointment_booked", "patient"),
            ("appointment_cancelled", "patient"),
            ("appointment_cancelled", "practitioner"),
        ]
    (to_practitioner,) = [n for n in first.sent if n.recipient_role == "practitioner"]
    assert to_practitioner.recipient_id == w.pr.id


# --- pluggy observers -------------------------------------------------------------------------


def test_a_plugin_observer_receives_every_event_with_the_carebook_name() -> None:
    observer = Observer()
    pm = make_plugin_manager(autoload=False, plugins=[observer])
    w = make_world(plugin_manager=pm, name="north-clinic")
    seen = w.record_events()  # subscribed after set-up: compare from here on

    setup = list(observer.events)
    assert setup and all(isinstance(e, ev.CalendarChanged) for e in setup)
    appointment = w.book(w.alice, at(10))
    w.cb.lifecycle.confirm(w.staff, appointment.id)
    w.hold(w.bob, at(11))
    w.clock.advance(minutes=11)
    w.cb.lifecycle.expire_holds(Actor.system())

    after_setup = observer.events[len(setup) :]
    assert [e.event_id for e in after_setup] == [e.event_id for e in seen]
    assert [type(e) for e in after_setup] == [
        ev.AppointmentBooked,
        ev.AppointmentConfirmed,
        ev.AppointmentHeld,
        ev.AppointmentCancelled,
    ]
    assert set(observer.contexts) == {"north-clinic"}


def test_a_failing_plugin_observer_sees_the_event_again_after_its_backoff() -> None:
    observer = Observer(fail_first=ev.AppointmentBooked)
    pm = make_plugin_manager(autoload=False, plugins=[observer])
    w = make_world(plugin_manager=pm)

    booked = w.book(w.alice, at(10))

    assert booked_events(observer.events) == []
    assert len(w.cb.events.pending()) == 1
    assert len(w.sent) == 1, "the notifier did not wait for the observer"
    w.clock.advance(minutes=1)
    assert w.cb.events.dispatch() == 1
    assert [e.appointment_id for e in booked_events(observer.events)] == [booked.id]
    assert len(w.sent) == 1


def test_two_carebooks_dispatch_only_their_own_events() -> None:
    one, two = Observer(), Observer()
    w1 = make_world(plugin_manager=make_plugin_manager(autoload=False, plugins=[one]), name="one")
    w2 = make_world(plugin_manager=make_plugin_manager(autoload=False, plugins=[two]), name="two")
    a1 = w1.book(w1.alice, at(10))
    w2.book(w2.alice, at(11))

    assert [e.appointment_id for e in booked_events(one.events)] == [a1.id]
    assert set(one.contexts) == {"one"}
    assert set(two.contexts) == {"two"}
    assert {e.event_id for e in one.events}.isdisjoint({e.event_id for e in two.events})
    assert len(w1.sent) == len(w2.sent) == 1


# --- ids only -----------------------------------------------------------------------------------

SECRET = "tel:+44 7700 900123 alice.smith@example.org"


def test_notifications_and_events_carry_ids_only() -> None:
    w = make_world()
    seen = w.record_events()
    alice = w.new_patient(contact_ref=SECRET)
    note = "patient mentioned her divorce"
    appointment = w.book(alice, at(10))
    w.cb.lifecycle.confirm(w.staff, appointment.id)
    w.cb.lifecycle.cancel(
        Actor.patient(alice.id), CancelAppointment(appointment_id=appointment.id, note=note)
    )

    assert len(w.sent) == 4
    allowed_roles = {"patient", "practitioner"}
    for notification in w.sent:
        fields = attrs.asdict(notification)
        assert set(fields) == {
            "kind",
            "recipient_role",
            "recipient_id",
            "appointment_id",
            "event_id",
            "correlation_id",
            "locale",
        }
        assert notification.recipient_role in allowed_roles
        assert isinstance(notification.recipient_id, uuid.UUID)
        assert isinstance(notification.appointment_id, uuid.UUID)
        assert isinstance(notification.event_id, uuid.UUID)
        assert notification.appointment_id == appointment.id
        assert notification.recipient_id in (alice.id, w.pr.id)
    for event in [e for e in seen if not isinstance(e, ev.CalendarChanged)]:
        for name, value in attrs.asdict(event, recurse=False).items():
            assert isinstance(value, uuid.UUID | pendulum.DateTime | str), name
            if isinstance(value, str) and name != "correlation_id":
                assert len(value) <= 64, name
    everything = repr(w.sent) + repr(seen)
    assert SECRET not in everything
    assert note not in everything


def test_an_expired_hold_sends_no_notification() -> None:
    w = make_world()
    w.hold(w.alice, at(10))
    w.clock.advance(minutes=11)
    assert len(w.cb.lifecycle.expire_holds(Actor.system())) == 1
    assert w.sent == []
    assert w.cb.events.pending() == []
