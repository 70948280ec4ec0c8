"""Reschedules through the public API: part of :class:`~carebook.testing.flows.ServiceFlows`,
so every storage runs it.

A move is one unit of work: the new slot passes every reservation rule with the
appointment's own time left out, the old slot stays held until the new one commits, and
a refused move changes nothing (appointments, outbox and notifications compared before
and after). :class:`RescheduleFlows` needs the ``make_world`` fixture of ``ServiceFlows``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from carebook import Actor, RuleRejectedError
from carebook.domain import events as ev
from carebook.errors import (
    ForbiddenError,
    IdempotencyConflictError,
    InvalidTransitionError,
    NotFoundError,
    ValidationError,
)
from carebook.scheduling import AppointmentStatus, CancelAppointment, RescheduleAppointment
from carebook.testing.world import T0, World, at

__all__ = ["RescheduleFlows"]

S = AppointmentStatus
MakeWorld = Callable[..., World]


def _moved_events(w: World) -> list[ev.AppointmentRescheduled]:
    return [e for e in w.cb.events.pending(1000) if isinstance(e, ev.AppointmentRescheduled)]


def _move(w: World, actor: Actor, appointment_id: Any, start: Any, **kw: Any) -> Any:
    command = RescheduleAppointment(appointment_id=appointment_id, start=start, **kw)
    return w.cb.lifecycle.reschedule(actor, command)


class RescheduleFlows:
    """``cb.lifecycle.reschedule`` on the storage under test."""

    def test_a_move_keeps_the_appointment_and_frees_the_old_slot(
        self, make_world: MakeWorld
    ) -> None:
        w = make_world(dispatch="manual")
        booked = w.book(w.alice, at(10), actor=w.staff)
        moved = _move(w, Actor.patient(w.alice.id), booked.id, at(14))

        assert (moved.id, moved.status, moved.service_ids) == (
            booked.id,
            S.BOOKED,
            booked.service_ids,
        )
        assert (moved.start, moved.end) == (at(14), at(14, 30))
        assert moved.version == booked.version + 1
        assert [(m.from_start, m.to_start, m.by) for m in moved.moves] == [
            (at(10), at(14), "patient")
        ]
        assert w.cb.queries.get_appointment(Actor.system(), booked.id) == moved
        assert at(10) in w.starts(w.bob) and at(14) not in w.starts(w.bob)
        w.book(w.bob, at(10))  # the old slot is free for someone else
        (event,) = _moved_events(w)
        assert (event.previous_start, event.start, event.reschedules) == (at(10), at(14), 1)
        assert event.appointment_id == booked.id and event.overridden is False

    def test_the_patient_and_practitioner_hear_of_the_move_once_each(
        self, make_world: MakeWorld
    ) -> None:
        w = make_world()
        booked = w.book(w.alice, at(10), actor=w.staff)
        before = len(w.sent)
        _move(w, w.staff, booked.id, at(11))
        sent = w.sent[before:]
        assert sorted((n.kind, n.recipient_role) for n in sent) == [
            ("appointment_rescheduled", "patient"),
            ("appointment_rescheduled", "practitioner"),
        ]
        assert {n.recipient_id for n in sent} == {w.alice.id, w.pr.id}

    def test_moving_to_another_practitioner_tells_both(self, make_world: MakeWorld) -> None:
        w = make_world()
        other = w.builder.practitioner("Dr Blue", w.loc)
        both = w.builder.service("Check-up", practitioners=[w.pr, other])
        booked = w.book(w.alice, at(10), actor=w.staff, services=(both,))
        before = len(w.sent)
        moved = _move(w, w.staff, booked.id, at(10), practitioner_id=other.id)
        assert moved.practitioner_id == other.id and moved.start == at(10)
        roles = {(n.recipient_role, n.recipient_id) for n in w.sent[before:]}
        assert roles == {
            ("patient", w.alice.id),
            ("practitioner", other.id),
            ("previous_practitioner", w.pr.id),
        }
        w.book(w.bob, at(10))  # Dr Grey is free again at ten

    def test_a_move_may_overlap_its_own_old_time(self, make_world: MakeWorld) -> None:
        w = make_world(dispatch="manual")
        booked = w.book(w.alice, at(10), actor=w.staff)
        moved = _move(w, w.staff, booked.id, at(10, 15))
        assert moved.start == at(10, 15)

    def test_a_move_onto_taken_time_is_refused_and_changes_nothing(
        self, make_world: MakeWorld
    ) -> None:
        w = make_world(dispatch="manual")
        booked = w.book(w.alice, at(10), actor=w.staff)
        w.book(w.bob, at(14), actor=w.staff)
        before = w.snapshot()
        with pytest.raises(RuleRejectedError) as refused:
            _move(w, Actor.patient(w.alice.id), booked.id, at(14, 15))
        assert refused.value.reason_code == "practitioner_busy"
        assert w.snapshot() == before
        assert w.cb.queries.get_appointment(Actor.system(), booked.id) == booked

    def test_the_reservation_rules_judge_the_new_slot(self, make_world: MakeWorld) -> None:
        w = make_world(dispatch="manual")
        booked = w.book(w.alice, at(10), actor=w.staff)
        before = w.snapshot()
        cases = (
            (T0.subtract(hours=1), "in_past"),
            (T0.add(minutes=30), "minimum_notice"),
            (at(10).add(days=200), "beyond_horizon"),
            (at(10, 7), "slot_not_offered"),
        )
        for start, code in cases:
            with pytest.raises(RuleRejectedError) as refused:
                _move(w, w.staff, booked.id, start)
            assert refused.value.reason_code == code
        assert w.snapshot() == before

    def test_notice_binds_patients_and_staff_override_it_with_a_recorded_reason(
        self, make_world: MakeWorld, caplog: pytest.LogCaptureFixture
    ) -> None:
        w = make_world(dispatch="manual", reschedule_notice=27 * 60)
        booked = w.book(w.alice, at(10), actor=w.staff)  # 26 hours ahead of T0
        before = w.snapshot()
        for actor in (Actor.patient(w.alice.id), w.staff):
            with pytest.raises(RuleRejectedError) as refused:
                _move(w, actor, booked.id, at(14))
            assert refused.value.reason_code == "reschedule_notice"
        assert w.snapshot() == before

        reason = "practitioner called in sick; patient agreed by phone"
        with caplog.at_level(logging.DEBUG):
            moved = _move(w, w.staff, booked.id, at(14), override_reason=reason)
        assert moved.moves[-1].override_reason == reason
        assert moved.moves[-1].by == "staff"
        (event,) = _moved_events(w)
        assert event.overridden is True
        assert reason not in repr(event) and reason not in caplog.text
        assert reason not in repr(moved)

    def test_a_patient_may_not_override(self, make_world: MakeWorld) -> None:
        w = make_world(dispatch="manual", reschedule_notice=27 * 60)
        booked = w.book(w.alice, at(10), actor=w.staff)
        before = w.snapshot()
        with pytest.raises(ForbiddenError):
            _move(w, Actor.patient(w.alice.id), booked.id, at(14), override_reason="please")
        assert w.snapshot() == before

    def test_the_limit_counts_moves(self, make_world: MakeWorld) -> None:
        w = make_world(dispatch="manual", max_reschedules=2)
        booked = w.book(w.alice, at(10), actor=w.staff)
        patient = Actor.patient(w.alice.id)
        _move(w, patient, booked.id, at(11))
        _move(w, patient, booked.id, at(12))
        before = w.snapshot()
        with pytest.raises(RuleRejectedError) as refused:
            _move(w, patient, booked.id, at(13))
        assert refused.value.reason_code == "reschedule_limit"
        assert w.snapshot() == before
        third = _move(w, w.staff, booked.id, at(13), override_reason="clinic moved the session")
        assert len(third.moves) == 3

    def test_a_retry_with_the_same_key_moves_once(self, make_world: MakeWorld) -> None:
        w = make_world(dispatch="manual")
        booked = w.book(w.alice, at(10), actor=w.staff)
        patient = Actor.patient(w.alice.id)
        first = _move(w, patient, booked.id, at(14), idempotency_key="move-1")
        again = _move(w, patient, booked.id, at(14), idempotency_key="move-1")
        assert again == first
        assert len(_moved_events(w)) == 1
        before = w.snapshot()
        with pytest.raises(IdempotencyConflictError):
            _move(w, patient, booked.id, at(15), idempotency_key="move-1")
        assert w.snapshot() == before

    def test_who_may_move_what(self, make_world: MakeWorld) -> None:
        w = make_world(dispatch="manual")
        booked = w.book(w.alice, at(10), actor=w.staff)
        elsewhere = w.builder.location("Market Square")
        before = w.snapshot()
        with pytest.raises(NotFoundError):
            _move(w, Actor.patient(w.bob.id), booked.id, at(14))
        with pytest.raises(ForbiddenError):
            _move(w, Actor.staff(elsewhere.id), booked.id, at(14))
        assert w.snapshot() == before

    def test_only_pending_or_booked_appointments_move(self, make_world: MakeWorld) -> None:
        w = make_world(dispatch="manual")
        booked = w.book(w.alice, at(10), actor=w.staff)
        w.cb.lifecycle.cancel(w.staff, CancelAppointment(appointment_id=booked.id))
        before = w.snapshot()
        with pytest.raises(InvalidTransitionError):
            _move(w, w.staff, booked.id, at(14))
        assert w.snapshot() == before
        pending = w.book(w.bob, at(11))
        assert pending.status is S.PENDING
        assert _move(w, Actor.patient(w.bob.id), pending.id, at(12)).status is S.PENDING

    def test_moving_to_the_same_slot_is_bad_input(self, make_world: MakeWorld) -> None:
        w = make_world(dispatch="manual")
        booked = w.book(w.alice, at(10), actor=w.staff)
        before = w.snapshot()
        with pytest.raises(ValidationError):
            _move(w, w.staff, booked.id, at(10))
        assert w.snapshot() == before
