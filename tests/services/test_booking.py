"""Booking use cases: search then book, confirmation policy, double booking, idempotency,
holds, concurrency, several services, resources, correlation ids.

Everything is set up through the public API on a Carebook with a manual clock.

The flows every storage runs (searching and booking, double booking, idempotent
retries, holds) are written once in :mod:`carebook.testing.flows`;
``test_flows.py`` runs them on memory.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from carebook import (
    Actor,
    Interval,
    Money,
    RuleRejectedError,
    SlotUnavailableError,
    ValidationError,
    scheduling,
)
from carebook.domain import events as ev
from carebook.scheduling import (
    Appointment,
    AppointmentStatus,
    AvailabilityQuery,
    CancelAppointment,
    Patient,
)
from carebook.testing.world import T0, add_practitioner, at, make_world

# --- booking a searched slot ----------------------------------------------------------


def test_patient_booking_is_pending_when_policy_requires_confirmation() -> None:
    w = make_world()
    assert w.org.policy.require_confirmation is True  # the default

    booked = w.book(w.alice, at(10))

    assert booked.status is AppointmentStatus.PENDING
    assert [n.kind for n in w.sent] == ["appointment_booked"]


def test_staff_booking_is_booked_without_confirmation() -> None:
    w = make_world()
    booked = w.book(w.alice, at(10), actor=w.staff)
    assert booked.status is AppointmentStatus.BOOKED


def test_admin_booking_is_booked_without_confirmation() -> None:
    w = make_world()
    booked = w.book(w.alice, at(10), actor=Actor.admin())
    assert booked.status is AppointmentStatus.BOOKED


def test_patient_booking_is_booked_when_policy_needs_no_confirmation() -> None:
    w = make_world(require_confirmation=False)
    booked = w.book(w.alice, at(10))
    assert booked.status is AppointmentStatus.BOOKED


def test_location_policy_overrides_the_organisation_policy() -> None:
    w = make_world()
    w.cb.admin.update_location(
        Actor.admin(), w.loc.id, policy=scheduling.BookingPolicy(require_confirmation=False)
    )
    assert w.book(w.alice, at(10)).status is AppointmentStatus.BOOKED


# --- double booking --------------------------------------------------------------------


def test_the_practitioner_is_free_again_right_after_the_appointment() -> None:
    w = make_world()
    w.book(w.alice, at(10))
    assert w.book(w.bob, at(10, 30)).start == at(10, 30)


def test_another_practitioner_may_take_the_same_time() -> None:
    w = make_world()
    other = add_practitioner(w.cb, w.org, w.loc, "Dr Black")
    both = w.cb.admin.add_service(
        Actor.admin(),
        organisation_id=w.org.id,
        name="Check-up",
        duration=30,
        price=Money(3000, "GBP"),
        practitioner_ids={w.pr.id, other.id},
    )
    a = w.book(w.alice, at(10), services=(both,))
    b = w.book(w.bob, at(10), services=(both,), practitioner=other)
    assert (a.start, b.start) == (at(10), at(10))


def test_a_patient_cannot_be_in_two_places_at_once() -> None:
    w = make_world(dispatch="manual")
    other = add_practitioner(w.cb, w.org, w.loc, "Dr Black")
    both = w.cb.admin.add_service(
        Actor.admin(),
        organisation_id=w.org.id,
        name="Check-up",
        duration=30,
        price=Money(3000, "GBP"),
        practitioner_ids={w.pr.id, other.id},
    )
    w.book(w.alice, at(10), services=(both,))
    before = w.snapshot()

    with pytest.raises(RuleRejectedError) as caught:
        w.book(w.alice, at(10, 15), services=(both,), practitioner=other)

    assert caught.value.reason_code == "patient_busy"
    assert w.snapshot() == before


def test_buffers_keep_the_practitioner_busy_around_the_service() -> None:
    w = make_world(dispatch="manual")
    buffered = w.cb.admin.add_service(
        Actor.admin(),
        organisation_id=w.org.id,
        name="Adjustment",
        duration=30,
        buffer_before=10,
        buffer_after=5,
        price=Money(4000, "GBP"),
        practitioner_ids={w.pr.id},
    )
    first = w.book(w.alice, at(10), services=(buffered,))
    assert (first.occupied_start, first.start, first.end, first.occupied_end) == (
        at(9, 50),
        at(10),
        at(10, 30),
        at(10, 35),
    )

    with pytest.raises(RuleRejectedError) as caught:
        w.book(w.bob, at(10, 30), services=(buffered,))  # its buffer starts at 10:20
    assert caught.value.reason_code == "practitioner_busy"

    assert w.book(w.bob, at(10, 45), services=(buffered,)).occupied_start == at(10, 35)


# --- idempotency -------------------------------------------------------------------------


def test_retry_after_the_appointment_changed_returns_its_current_state() -> None:
    w = make_world()
    command = w.command(w.alice, at(10), key="retry-me")
    first = w.cb.booking.book(Actor.patient(w.alice.id), command)
    confirmed = w.cb.lifecycle.confirm(w.staff, first.id)

    again = w.cb.booking.book(Actor.patient(w.alice.id), command)

    assert again.id == first.id
    assert again == confirmed
    assert len(w.appointments()) == 1


def test_idempotency_keys_are_scoped_to_the_patient() -> None:
    w = make_world()
    alices = w.cb.booking.book(w.staff, w.command(w.alice, at(10), key="shared"))
    bobs = w.cb.booking.book(w.staff, w.command(w.bob, at(11), key="shared"))

    assert bobs.id != alices.id
    assert (alices.patient_id, bobs.patient_id) == (w.alice.id, w.bob.id)
    assert len(w.appointments()) == 2


def test_a_refused_booking_does_not_burn_its_idempotency_key() -> None:
    w = make_world()
    w.book(w.alice, at(10))
    with pytest.raises(RuleRejectedError):
        w.book(w.bob, at(10), key="bob-1")
    # The same key now names a different, successful request.
    assert w.book(w.bob, at(11), key="bob-1").start == at(11)


# --- holds ---------------------------------------------------------------------------------


def test_a_hold_is_proposed_until_the_policy_hold_time() -> None:
    w = make_world(dispatch="manual", hold_minutes=20)
    held = w.hold(w.alice, at(10))

    assert held.status is AppointmentStatus.PROPOSED
    assert held.hold_expires_at == T0.add(minutes=20)
    assert w.appointments() == [held]
    (event,) = [e for e in w.cb.events.pending(1000) if isinstance(e, ev.AppointmentHeld)]
    assert event.appointment_id == held.id
    assert event.expires_at == held.hold_expires_at


@pytest.mark.parametrize("differs_in", ["start", "service", "practitioner"])
def test_booking_with_a_hold_for_a_different_slot_is_a_validation_error(differs_in: str) -> None:
    w = make_world(dispatch="manual")
    other = add_practitioner(w.cb, w.org, w.loc, "Dr Black")
    other_service = w.cb.admin.add_service(
        Actor.admin(),
        organisation_id=w.org.id,
        name="Follow-up",
        duration=30,
        price=Money(3000, "GBP"),
        practitioner_ids={w.pr.id, other.id},
    )
    held = w.hold(w.alice, at(10))
    command = {
        "start": w.command(w.alice, at(11), hold_id=held.id),
        "service": w.command(w.alice, at(10), services=(other_service,), hold_id=held.id),
        "practitioner": w.command(
            w.alice, at(10), services=(other_service,), practitioner=other, hold_id=held.id
        ),
    }[differs_in]
    before = w.snapshot()

    with pytest.raises(ValidationError, match="hold"):
        w.cb.booking.book(Actor.patient(w.alice.id), command)

    assert w.snapshot() == before
    assert w.cb.queries.get_appointment(Actor.system(), held.id) == held


def test_a_live_hold_blocks_another_patient() -> None:
    w = make_world(dispatch="manual")
    w.hold(w.alice, at(10))
    w.clock.advance(minutes=9, seconds=59)
    before = w.snapshot()

    with pytest.raises(RuleRejectedError) as caught:
        w.book(w.bob, at(10))

    assert caught.value.reason_code == "practitioner_busy"
    assert w.snapshot() == before
    assert at(10) not in w.starts(w.bob)


def test_expire_holds_before_rebooking_also_frees_the_slot() -> None:
    w = make_world()
    held = w.hold(w.alice, at(10))
    w.clock.advance(minutes=11)
    assert w.cb.lifecycle.expire_holds(Actor.system()) == [held.id]
    assert w.book(w.bob, at(10)).start == at(10)
    # An expired hold announces nothing to the patient.
    assert [n.kind for n in w.sent] == ["appointment_booked"]


# --- concurrency ---------------------------------------------------------------------------


def test_eight_threads_booking_the_same_slot_produce_exactly_one_appointment() -> None:
    w = make_world()
    racers = [w.new_patient() for _ in range(8)]
    barrier = threading.Barrier(len(racers))
    outcomes: list[Appointment | Exception] = []
    lock = threading.Lock()

    def race(patient: Patient) -> None:
        barrier.wait()
        try:
            outcome: Appointment | Exception = w.book(patient, at(10))
        except Exception as exc:  # collected and checked below
            outcome = exc
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=race, args=(p,)) for p in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(outcomes) == 8
    winners = [o for o in outcomes if isinstance(o, Appointment)]
    losers = [o for o in outcomes if not isinstance(o, Appointment)]
    assert len(winners) == 1
    for loser in losers:
        assert isinstance(loser, SlotUnavailableError | RuleRejectedError), repr(loser)
        if isinstance(loser, RuleRejectedError):
            assert loser.reason_code == "practitioner_busy"
    stored = [a for a in w.appointments() if a.start == at(10)]
    assert stored == winners
    assert len(w.sent) == 1


# --- several services, resources ---------------------------------------------------------


def test_several_services_run_back_to_back_in_one_appointment() -> None:
    w = make_world(dispatch="manual")
    massage = w.cb.admin.add_service(
        Actor.admin(),
        organisation_id=w.org.id,
        name="Massage",
        duration=15,
        price=Money(2000, "GBP"),
        practitioner_ids={w.pr.id},
    )
    query = AvailabilityQuery(service_ids=(w.svc.id, massage.id), window=Interval(at(10), at(11)))
    offered = w.cb.booking.search_availability(Actor.patient(w.alice.id), w.org.id, query).first()[
        0
    ]
    assert (offered.start, offered.end) == (at(10), at(10, 45))

    booked = w.book(w.alice, at(10), services=(w.svc, massage))

    assert booked.service_ids == (w.svc.id, massage.id)
    assert (booked.start, booked.end) == (at(10), at(10, 45))
    with pytest.raises(RuleRejectedError) as caught:
        w.book(w.bob, at(10, 30))
    assert caught.value.reason_code == "practitioner_busy"
    assert w.book(w.bob, at(10, 45)).start == at(10, 45)


def test_booking_returns_the_room_the_service_needs() -> None:
    w = make_world()
    other = add_practitioner(w.cb, w.org, w.loc, "Dr Black")
    laser = w.cb.admin.add_service(
        Actor.admin(),
        organisation_id=w.org.id,
        name="Laser",
        duration=30,
        price=Money(9000, "GBP"),
        practitioner_ids={w.pr.id, other.id},
        needs={"laser-room"},
    )
    room = w.cb.admin.add_resource(
        Actor.admin(), location_id=w.loc.id, name="Room 1", category="laser-room"
    )

    first = w.book(w.alice, at(10), services=(laser,))
    assert first.resource_ids == (room.id,)

    # The only room is taken, so the second practitioner cannot use it at 10:00.
    with pytest.raises(RuleRejectedError) as caught:
        w.book(w.bob, at(10), services=(laser,), practitioner=other)
    assert caught.value.reason_code == "resource_unavailable"

    second_room = w.cb.admin.add_resource(
        Actor.admin(), location_id=w.loc.id, name="Room 2", category="laser-room"
    )
    second = w.book(w.bob, at(10), services=(laser,), practitioner=other)
    assert second.resource_ids == (second_room.id,)


def test_a_service_without_needs_books_no_resource() -> None:
    w = make_world()
    w.cb.admin.add_resource(Actor.admin(), location_id=w.loc.id, name="Room 1", category="room")
    assert w.book(w.alice, at(10)).resource_ids == ()


# --- correlation ids -----------------------------------------------------------------------


def test_every_event_and_notification_carries_the_correlation_id_passed_in() -> None:
    w = make_world()
    seen = w.record_events()
    staff, patient = w.staff, Actor.patient(w.alice.id)

    def run(correlation_id: str, call: Any) -> None:
        events_before, sent_before = len(seen), len(w.sent)
        call(correlation_id)
        new_events, new_sent = seen[events_before:], w.sent[sent_before:]
        assert new_events, correlation_id
        assert {e.correlation_id for e in new_events} == {correlation_id}
        assert {n.correlation_id for n in new_sent} <= {correlation_id}

    hold_cmd = w.hold_command(w.alice, at(10))
    held: list[Appointment] = []
    run("c-hold", lambda c: held.append(w.cb.booking.hold(patient, hold_cmd, correlation_id=c)))
    book_cmd = w.command(w.alice, at(10), hold_id=held[0].id)
    run("c-book", lambda c: w.cb.booking.book(patient, book_cmd, correlation_id=c))
    appointment_id = held[0].id
    run("c-confirm", lambda c: w.cb.lifecycle.confirm(staff, appointment_id, correlation_id=c))
    w.clock.set(at(9, 45))
    run("c-arrive", lambda c: w.cb.lifecycle.check_in(patient, appointment_id, correlation_id=c))
    run("c-start", lambda c: w.cb.lifecycle.start_session(staff, appointment_id, correlation_id=c))
    run(
        "c-done", lambda c: w.cb.lifecycle.complete_session(staff, appointment_id, correlation_id=c)
    )
    other = w.book(w.bob, at(14), actor=staff, correlation_id="c-other")
    run(
        "c-cancel",
        lambda c: w.cb.lifecycle.cancel(
            staff, CancelAppointment(appointment_id=other.id), correlation_id=c
        ),
    )
    w.hold(w.bob, at(15))
    w.clock.advance(minutes=11)
    run("c-expire", lambda c: w.cb.lifecycle.expire_holds(Actor.system(), correlation_id=c))
    run(
        "c-admin",
        lambda c: w.cb.admin.add_location(
            Actor.admin(),
            organisation_id=w.org.id,
            name="Annex",
            timezone="Europe/London",
            correlation_id=c,
        ),
    )
    assert len(w.sent) >= 6


def test_without_a_correlation_id_one_is_generated_and_shared() -> None:
    w = make_world()
    seen = w.record_events()
    w.book(w.alice, at(10))
    (event,) = seen
    assert event.correlation_id
    assert [n.correlation_id for n in w.sent] == [event.correlation_id]


def test_log_lines_of_a_command_carry_its_correlation_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = make_world()
    with caplog.at_level(logging.DEBUG, logger="carebook"):
        w.book(w.alice, at(10), correlation_id="c-log")
    records = [r for r in caplog.records if r.name.startswith("carebook")]
    assert records
    for record in records:
        assert getattr(record, "correlation_id", None) == "c-log", record.getMessage()
        assert "c-log" in record.getMessage()
