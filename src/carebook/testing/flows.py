"""The key use cases, written once, run end to end on every storage.

:class:`ServiceFlows` is a pytest suite like the contract suites: subclass it, name the
subclass ``Test...`` and override its ``storage`` fixture to yield a fresh, empty storage
for each test (and close it afterwards)::

    class TestMyStorageFlows(ServiceFlows):
        @pytest.fixture
        def storage(self) -> Iterator[Storage]:
            storage = MyStorage(...)
            yield storage
            storage.close()

Each test builds a :func:`~carebook.testing.world.make_world` clinic on that storage
(through the ``make_world`` fixture) and drives it through the public API: search and
book, double booking, idempotent retries, holds, the lifecycle, cancelling, reschedules,
reminders, events and notifications. carebook runs it on the memory storage;
carebook-sqlalchemy on SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest

from carebook import Actor, IdempotencyConflictError, Interval, RuleRejectedError
from carebook.builtin.notifiers import RecordingNotifier
from carebook.domain import events as ev
from carebook.domain.delivery import RetryPolicy
from carebook.domain.events import Event
from carebook.domain.notifications import Notification
from carebook.domain.scheduling.appointment import SessionStatus
from carebook.ports import Storage
from carebook.scheduling import (
    AppointmentStatus,
    AvailabilityQuery,
    BookAppointment,
    CancelAppointment,
)
from carebook.testing.hold_flows import HoldFlows
from carebook.testing.messaging_flows import MessagingFlows
from carebook.testing.reminder_flows import ReminderFlows
from carebook.testing.reschedule_flows import RescheduleFlows
from carebook.testing.world import DAY, T0, World, at, make_world

__all__ = ["FlakyNotifier", "MakeWorld", "ServiceFlows", "booked_events"]

S = AppointmentStatus

MakeWorld = Callable[..., World]
""":func:`~carebook.testing.world.make_world` on the storage under test."""


class FlakyNotifier(RecordingNotifier):
    """Records notifications, but fails the first send."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    def send(self, notification: Notification) -> None:
        if self.failures == 0:
            self.failures += 1
            raise ConnectionError("sms gateway unreachable")
        super().send(notification)


def booked_events(events: list[Event]) -> list[ev.AppointmentBooked]:
    """The AppointmentBooked events among ``events``."""
    return [e for e in events if isinstance(e, ev.AppointmentBooked)]


class ServiceFlows(HoldFlows, RescheduleFlows, ReminderFlows, MessagingFlows):
    """The use cases through a Carebook on the storage under test (with the holds of
    :class:`~carebook.testing.hold_flows.HoldFlows`)."""

    @pytest.fixture
    def storage(self) -> Iterator[Storage]:
        """A fresh, empty storage; the adapter's test class overrides this."""
        raise NotImplementedError("override the 'storage' fixture in your test class")

    @pytest.fixture
    def make_world(self, storage: Storage) -> MakeWorld:
        """Builds the test's world on ``storage``; call it once per test."""
        return functools.partial(make_world, storage=storage)

    # -- search and book -----------------------------------------------------------
    def test_booking_a_searched_slot_stores_exactly_that_slot(self, make_world: MakeWorld) -> None:
        w = make_world()
        query = AvailabilityQuery(
            service_ids=(w.svc.id,), window=Interval(DAY, DAY.add(days=1)), patient_id=w.alice.id
        )
        result = w.cb.booking.search_availability(Actor.patient(w.alice.id), w.org.id, query)
        slot = result.first(3)[2]
        assert slot.start == at(9, 30)  # the third start on the 15-minute grid from 09:00

        booked = w.book(w.alice, slot.start)

        assert (booked.start, booked.end) == (slot.start, slot.end)
        assert booked.status is AppointmentStatus.PENDING  # patients' bookings wait for reception
        assert booked.location_id == slot.location_id == w.loc.id
        assert booked.practitioner_id == slot.practitioner_id == w.pr.id
        assert booked.patient_id == w.alice.id
        assert booked.service_ids == (w.svc.id,)
        assert w.cb.queries.get_appointment(Actor.patient(w.alice.id), booked.id) == booked
        assert w.appointments() == [booked]
        assert slot.start not in w.starts()

    @pytest.mark.parametrize("minute", [0, 15])
    def test_double_booking_the_same_practitioner_is_refused_as_practitioner_busy(
        self, make_world: MakeWorld, minute: int
    ) -> None:
        w = make_world(dispatch="manual")
        first = w.book(w.alice, at(10))
        before = w.snapshot()

        with pytest.raises(RuleRejectedError) as caught:
            w.book(w.bob, at(10, minute))

        assert caught.value.reason_code == "practitioner_busy"
        assert w.snapshot() == before
        assert w.appointments() == [first]

    # -- idempotency ---------------------------------------------------------------
    def test_same_key_and_same_request_returns_the_same_appointment_once(
        self, make_world: MakeWorld
    ) -> None:
        w = make_world(dispatch="manual")
        command = w.command(w.alice, at(10), key="retry-me")
        patient = Actor.patient(w.alice.id)

        first = w.cb.booking.book(patient, command)
        before = w.snapshot()
        again = w.cb.booking.book(patient, command)
        # The same request, rebuilt by a client (start in another zone, same instant).
        rebuilt = attrs.evolve(command, start=at(10).in_timezone("Europe/Berlin"))
        third = w.cb.booking.book(patient, rebuilt)

        assert again == first
        assert third == first
        assert w.snapshot() == before  # nothing new stored, no second event
        assert w.appointments() == [first]
        booked = [e for e in w.cb.events.pending(1000) if isinstance(e, ev.AppointmentBooked)]
        assert [e.appointment_id for e in booked] == [first.id]

    @pytest.mark.parametrize(
        "variant",
        [
            pytest.param(lambda w, c: attrs.evolve(c, start=at(11)), id="other-start"),
            pytest.param(
                lambda w, c: attrs.evolve(c, start=at(10).add(seconds=30)), id="other-second"
            ),
        ],
    )
    def test_same_key_with_a_different_request_is_a_conflict_and_changes_nothing(
        self, make_world: MakeWorld, variant: Any
    ) -> None:
        w = make_world(dispatch="manual")
        command = w.command(w.alice, at(10), key="k")
        first = w.cb.booking.book(w.staff, command)
        different: BookAppointment = variant(w, command)
        assert different.idempotency_key == "k"
        before = w.snapshot()

        with pytest.raises(IdempotencyConflictError) as caught:
            w.cb.booking.book(w.staff, different)

        assert caught.value.reason_code == "idempotency_conflict"
        assert w.snapshot() == before
        assert w.appointments() == [first]

    # -- holds ---------------------------------------------------------------------
    @pytest.mark.parametrize(
        ("actor_kind", "status"),
        [("patient", AppointmentStatus.PENDING), ("staff", AppointmentStatus.BOOKED)],
    )
    def test_booking_with_the_hold_id_converts_the_hold(
        self, make_world: MakeWorld, actor_kind: str, status: AppointmentStatus
    ) -> None:
        w = make_world()
        seen = w.record_events()
        held = w.hold(w.alice, at(10))
        assert held.status is AppointmentStatus.PROPOSED
        assert held.hold_expires_at == T0.add(minutes=10)
        assert at(10) not in w.starts(w.bob)
        actor = Actor.patient(w.alice.id) if actor_kind == "patient" else w.staff

        booked = w.cb.booking.book(actor, w.command(w.alice, at(10), hold_id=held.id))

        assert booked.id == held.id
        assert booked.status is status
        assert booked.hold_expires_at is None
        assert (booked.start, booked.end) == (held.start, held.end)
        assert w.appointments() == [booked]
        # The converted hold no longer expires: it keeps its slot after the hold time.
        w.clock.advance(minutes=30)
        assert w.cb.lifecycle.expire_holds(Actor.system()) == []
        assert at(10) not in w.starts()
        (booked_event,) = booked_events(seen)
        assert booked_event.appointment_id == held.id

    def test_an_expired_hold_frees_the_slot_and_expire_holds_cancels_it(
        self, make_world: MakeWorld
    ) -> None:
        w = make_world(dispatch="manual")
        held = w.hold(w.alice, at(10))
        assert w.cb.lifecycle.expire_holds(Actor.system()) == []  # still live

        w.clock.advance(minutes=10)  # the hold is half-open: it ends at exactly 10 minutes
        assert at(10) in w.starts(w.bob)
        bobs = w.book(w.bob, at(10))
        assert bobs.status is AppointmentStatus.PENDING

        expired = w.cb.lifecycle.expire_holds(Actor.system(), correlation_id="sweep-1")

        assert expired == [held.id]
        after = w.cb.queries.get_appointment(Actor.system(), held.id)
        assert after.status is AppointmentStatus.CANCELLED
        assert after.cancel_reason == "hold_expired"
        cancelled = [e for e in w.cb.events.pending(1000) if isinstance(e, ev.AppointmentCancelled)]
        assert len(cancelled) == 1
        assert cancelled[0].appointment_id == held.id
        assert cancelled[0].reason == "hold_expired"
        assert cancelled[0].by == "system"
        assert cancelled[0].correlation_id == "sweep-1"
        assert w.cb.queries.get_appointment(Actor.system(), bobs.id) == bobs  # untouched
        assert w.cb.lifecycle.expire_holds(Actor.system()) == []  # nothing left to expire

    def test_booking_with_an_expired_hold_is_refused_as_hold_expired(
        self, make_world: MakeWorld
    ) -> None:
        w = make_world(dispatch="manual")
        held = w.hold(w.alice, at(10))
        w.clock.advance(minutes=11)
        before = w.snapshot()

        with pytest.raises(RuleRejectedError) as caught:
            w.cb.booking.book(
                Actor.patient(w.alice.id), w.command(w.alice, at(10), hold_id=held.id)
            )

        assert caught.value.reason_code == "hold_expired"
        assert w.snapshot() == before

    # -- the lifecycle -------------------------------------------------------------
    def test_full_path_pending_booked_arrived_session_fulfilled(
        self, make_world: MakeWorld
    ) -> None:
        w = make_world()
        seen = w.record_events()
        patient, staff = Actor.patient(w.alice.id), w.staff

        pending = w.book(w.alice, at(10))
        assert pending.status is S.PENDING
        booked = w.cb.lifecycle.confirm(staff, pending.id)
        assert booked.status is S.BOOKED
        w.clock.set(at(9, 45))
        arrived = w.cb.lifecycle.check_in(patient, pending.id)  # patients check themselves in
        assert arrived.status is S.ARRIVED
        started = w.cb.lifecycle.start_session(staff, pending.id)
        assert started.status is S.ARRIVED
        assert started.session is not None
        assert started.session.status is SessionStatus.IN_PROGRESS
        assert started.session.started_at == at(9, 45)
        w.clock.set(at(10, 25))
        fulfilled = w.cb.lifecycle.complete_session(staff, pending.id)

        assert fulfilled.status is S.FULFILLED
        assert fulfilled.session is not None
        assert fulfilled.session.status is SessionStatus.COMPLETED
        assert fulfilled.session.completed_at == at(10, 25)
        assert [a.version for a in (pending, booked, arrived, started, fulfilled)] == [
            1,
            2,
            3,
            4,
            5,
        ]
        assert [type(e) for e in seen] == [
            ev.AppointmentBooked,
            ev.AppointmentConfirmed,
            ev.PatientArrived,
            ev.SessionStarted,
            ev.SessionCompleted,
        ]
        assert all(getattr(e, "appointment_id", None) == pending.id for e in seen)
        assert [(n.kind, n.recipient_role) for n in w.sent] == [
            ("appointment_booked", "patient"),
            ("appointment_confirmed", "patient"),
            ("patient_arrived", "practitioner"),
            ("session_started", "patient"),
            ("session_completed", "patient"),
        ]
        assert w.cb.queries.get_appointment(patient, pending.id) == fulfilled
        assert at(10) not in w.starts()  # a fulfilled appointment still occupies its time

    def test_a_cancelled_appointment_frees_its_slot(self, make_world: MakeWorld) -> None:
        w = make_world()
        seen = w.record_events()
        booked = w.book(w.alice, at(10))
        assert at(10) not in w.starts()
        cancelled = w.cb.lifecycle.cancel(
            Actor.patient(w.alice.id), CancelAppointment(appointment_id=booked.id)
        )

        assert cancelled.status is S.CANCELLED
        assert at(10) in w.starts()
        rebooked = w.book(w.bob, at(10))
        assert rebooked.start == at(10)
        assert w.cb.queries.get_appointment(Actor.system(), booked.id).status is S.CANCELLED
        (event,) = [e for e in seen if isinstance(e, ev.AppointmentCancelled)]
        assert (event.appointment_id, event.reason, event.by) == (
            booked.id,
            "patient_request",
            "patient",
        )

    # -- events and notifications --------------------------------------------------
    def test_inline_dispatch_delivers_each_event_to_the_publisher_and_the_notifier(
        self, make_world: MakeWorld
    ) -> None:
        w = make_world()
        seen = w.record_events()

        booked = w.book(w.alice, at(10))

        (event,) = seen
        assert isinstance(event, ev.AppointmentBooked)
        assert event.appointment_id == booked.id
        (notification,) = w.sent
        assert notification.kind == "appointment_booked"
        assert notification.event_id == event.event_id
        assert notification.recipient_id == w.alice.id
        assert w.cb.events.pending() == []
        assert w.cb.events.dispatch() == 0  # however often dispatch runs: sent once
        assert w.cb.events.dispatch() == 0
        assert len(w.sent) == 1

    def test_manual_dispatch_keeps_events_pending_until_dispatch(
        self, make_world: MakeWorld
    ) -> None:
        w = make_world(dispatch="manual")
        seen = w.record_events()
        setup_events = w.cb.events.pending(1000)
        assert setup_events, "the calendar set-up is in the outbox too"
        assert all(isinstance(e, ev.CalendarChanged) for e in setup_events)

        booked = w.book(w.alice, at(10))

        assert seen == []
        assert w.sent == []
        pending = w.cb.events.pending(1000)
        assert pending[: len(setup_events)] == setup_events
        assert [e.appointment_id for e in booked_events(pending)] == [booked.id]

        assert w.cb.events.dispatch() == len(pending)

        assert [e.event_id for e in seen] == [e.event_id for e in pending]  # commit order
        assert [n.kind for n in w.sent] == ["appointment_booked"]
        assert w.cb.events.pending() == []
        assert w.cb.events.dispatch() == 0
        assert len(seen) == len(pending)
        assert len(w.sent) == 1

    def test_a_notifier_failing_after_another_sent_never_makes_the_first_send_twice(
        self, make_world: MakeWorld
    ) -> None:
        first, second = RecordingNotifier(), FlakyNotifier()
        w = make_world(notifiers={"first": first, "second": second})

        booked = w.book(w.alice, at(10))

        assert [n.appointment_id for n in first.sent] == [booked.id]
        assert second.sent == []
        assert len(w.cb.events.pending()) == 1
        assert w.cb.events.dispatch() == 0, "the failed send waits for its backoff"

        w.clock.advance(seconds=RetryPolicy().base_delay_seconds)
        assert w.cb.events.dispatch() == 1

        assert [n.appointment_id for n in first.sent] == [booked.id]  # not sent again
        assert [n.appointment_id for n in second.sent] == [booked.id]
        assert w.cb.events.pending() == []
