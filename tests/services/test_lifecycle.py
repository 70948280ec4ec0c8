"""Lifecycle use cases: the explicit transition table driven through the services, the
full path to fulfilled, session windows, no-show grace, cancel notice, freeing slots,
entered-in-error, transition observers.

The flows every storage runs (the full path to fulfilled, a cancellation
freeing its slot) are written once in :mod:`carebook.testing.flows`;
``test_flows.py`` runs them on memory.
"""

from __future__ import annotations

from collections.abc import Callable

import pendulum
import pytest

from carebook import (
    Actor,
    ForbiddenError,
    InvalidTransitionError,
    RuleRejectedError,
)
from carebook.domain import events as ev
from carebook.domain.events import EventStamp
from carebook.domain.scheduling.appointment import TRANSITIONS, Action
from carebook.domain.scheduling.rules import BUILTIN_RULES
from carebook.ports import UnitOfWork
from carebook.scheduling import (
    Appointment,
    AppointmentStatus,
    CancelAppointment,
    RescheduleAppointment,
)
from carebook.services.context import Deps, TransitionObserver
from carebook.services.lifecycle import transitions as lifecycle
from carebook.testing.world import World, at, make_world

S = AppointmentStatus
AT_START = at(9, 50)
"""Ten minutes before the start: check-in and session start are both in time."""
AFTER_GRACE = at(10, 20)
"""Twenty minutes after the start: past the no-show grace, before the end (10:30)."""


# --- the transition table, driven through the services ---------------------------------

SERVICE_ACTIONS = [a for a in Action if a is not Action.EXPIRE]
"""Every action a use case can ask for. ``expire`` is only reached through
expire_holds, which picks proposed holds only; tests/unit/test_appointment.py covers it."""


def action_time(action: Action) -> pendulum.DateTime:
    # Booking a hold must happen before the start; everything else after the grace.
    return AT_START if action in (Action.REQUEST, Action.BOOK) else AFTER_GRACE


def reach(w: World, status: AppointmentStatus, action: Action) -> Appointment:
    """Alice's 10:00 appointment in ``status``, with the clock where ``action`` runs."""
    staff = w.staff
    if status is S.PROPOSED:
        w.clock.set(min(action_time(action), AT_START))
        return w.hold(w.alice, at(10))
    if status is S.PENDING:
        return w.book(w.alice, at(10))
    booked = w.book(w.alice, at(10), actor=staff)
    if status is S.BOOKED:
        return booked
    if status is S.CANCELLED:
        return w.cb.lifecycle.cancel(staff, CancelAppointment(appointment_id=booked.id))
    if status is S.ENTERED_IN_ERROR:
        return w.cb.lifecycle.enter_in_error(staff, booked.id)
    if status is S.NOSHOW:
        w.clock.set(AFTER_GRACE)
        return w.cb.lifecycle.mark_no_show(staff, booked.id)
    w.clock.set(AT_START)
    arrived = w.cb.lifecycle.check_in(staff, booked.id)
    if status is S.ARRIVED:
        if action is Action.COMPLETE:  # completing needs a running session
            return w.cb.lifecycle.start_session(staff, booked.id)
        return arrived
    assert status is S.FULFILLED
    w.cb.lifecycle.start_session(staff, booked.id)
    return w.cb.lifecycle.complete_session(staff, booked.id)


def act(w: World, action: Action, appointment: Appointment) -> Appointment:
    staff, aid = w.staff, appointment.id
    calls: dict[Action, Callable[[], Appointment]] = {
        # A patient turning a hold into a booking asks for confirmation (request);
        # staff book it outright (book).
        Action.REQUEST: lambda: w.cb.booking.book(
            Actor.patient(w.alice.id), w.command(w.alice, at(10), hold_id=aid)
        ),
        Action.BOOK: lambda: w.cb.booking.book(staff, w.command(w.alice, at(10), hold_id=aid)),
        Action.CONFIRM: lambda: w.cb.lifecycle.confirm(staff, aid),
        Action.CHECK_IN: lambda: w.cb.lifecycle.check_in(staff, aid),
        Action.START_SESSION: lambda: w.cb.lifecycle.start_session(staff, aid),
        Action.COMPLETE: lambda: w.cb.lifecycle.complete_session(staff, aid),
        Action.CANCEL: lambda: w.cb.lifecycle.cancel(staff, CancelAppointment(appointment_id=aid)),
        Action.NO_SHOW: lambda: w.cb.lifecycle.mark_no_show(staff, aid),
        Action.ENTER_IN_ERROR: lambda: w.cb.lifecycle.enter_in_error(staff, aid),
        Action.RESCHEDULE: lambda: w.cb.lifecycle.reschedule(
            staff,
            RescheduleAppointment(
                appointment_id=aid, start=at(11), override_reason="after the start"
            ),
        ),
    }
    return calls[action]()


def _practical(status: AppointmentStatus, action: Action) -> bool:
    # A hold cannot be booked once the start has passed (the in_past rule comes first).
    return not (action in (Action.REQUEST, Action.BOOK) and status in (S.FULFILLED, S.NOSHOW))


REFUSED = [
    pytest.param(s, a, id=f"{s.value}-{a.name.lower()}")
    for s in S
    for a in SERVICE_ACTIONS
    if (s, a) not in TRANSITIONS and _practical(s, a)
]
ALLOWED = [
    pytest.param(s, a, id=f"{s.value}-{a.name.lower()}")
    for s in S
    for a in SERVICE_ACTIONS
    if (s, a) in TRANSITIONS
]


def test_the_service_level_cases_cover_the_table() -> None:
    assert len(ALLOWED) == len([k for k in TRANSITIONS if k[1] is not Action.EXPIRE])
    assert len(REFUSED) + len(ALLOWED) == len(S) * len(SERVICE_ACTIONS) - 4


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_an_action_not_in_the_table_is_an_invalid_transition_and_changes_nothing(
    status: AppointmentStatus, action: Action
) -> None:
    w = make_world(dispatch="manual", min_notice=0)
    appointment = reach(w, status, action)
    assert appointment.status is status
    w.clock.set(max(w.clock.now(), action_time(action)))
    before = w.snapshot()

    with pytest.raises(InvalidTransitionError) as caught:
        act(w, action, appointment)

    assert caught.value.entity == "appointment"
    assert w.snapshot() == before
    assert w.cb.queries.get_appointment(Actor.system(), appointment.id) == appointment


@pytest.mark.parametrize(("status", "action"), ALLOWED)
def test_an_action_in_the_table_leads_to_its_target_status(
    status: AppointmentStatus, action: Action
) -> None:
    w = make_world(dispatch="manual", min_notice=0)
    appointment = reach(w, status, action)
    w.clock.set(max(w.clock.now(), action_time(action)))

    changed = act(w, action, appointment)

    assert changed.id == appointment.id
    assert changed.status is TRANSITIONS[(status, action)]
    assert changed.version == appointment.version + 1
    assert w.cb.queries.get_appointment(Actor.system(), appointment.id) == changed


# --- the whole path ------------------------------------------------------------------------


# --- sessions --------------------------------------------------------------------------


def arrived_at_nine(w: World) -> Appointment:
    booked = w.book(w.alice, at(10), actor=w.staff)
    w.clock.set(at(9))
    return w.cb.lifecycle.check_in(w.staff, booked.id)


@pytest.mark.parametrize(
    ("when", "allowed"),
    [
        pytest.param(
            at(
                9,
                29,
            ),
            False,
            id="31-min-before",
        ),
        pytest.param(at(9, 30), True, id="30-min-before"),
        pytest.param(at(10), True, id="at-start"),
        pytest.param(at(11), True, id="60-min-after"),
        pytest.param(at(11).add(seconds=1), False, id="60-min-1s-after"),
    ],
)
def test_a_session_starts_only_within_the_policy_window(
    when: pendulum.DateTime, allowed: bool
) -> None:
    w = make_world(dispatch="manual")  # default window: 30 min before to 60 min after
    arrived = arrived_at_nine(w)
    w.clock.set(when)
    if allowed:
        assert w.cb.lifecycle.start_session(w.staff, arrived.id).session is not None
        return
    before = w.snapshot()
    with pytest.raises(RuleRejectedError) as caught:
        w.cb.lifecycle.start_session(w.staff, arrived.id)
    assert caught.value.reason_code == "outside_session_window"
    assert w.snapshot() == before


def test_the_session_window_comes_from_the_policy() -> None:
    w = make_world(dispatch="manual", session_window_before=5, session_window_after=0)
    arrived = arrived_at_nine(w)
    w.clock.set(at(9, 54))
    with pytest.raises(RuleRejectedError, match="outside_session_window"):
        w.cb.lifecycle.start_session(w.staff, arrived.id)
    w.clock.set(at(9, 55))
    assert w.cb.lifecycle.start_session(w.staff, arrived.id).session is not None


@pytest.mark.parametrize("status", [S.PENDING, S.BOOKED])
def test_a_session_is_only_for_an_arrived_patient(status: AppointmentStatus) -> None:
    w = make_world(dispatch="manual")
    appointment = w.book(w.alice, at(10), actor=None if status is S.PENDING else w.staff)
    assert appointment.status is status
    w.clock.set(at(10))
    before = w.snapshot()
    with pytest.raises(InvalidTransitionError):
        w.cb.lifecycle.start_session(w.staff, appointment.id)
    assert w.snapshot() == before


def test_a_session_cannot_start_twice() -> None:
    w = make_world(dispatch="manual")
    arrived = arrived_at_nine(w)
    w.clock.set(at(9, 45))
    started = w.cb.lifecycle.start_session(w.staff, arrived.id)
    before = w.snapshot()
    with pytest.raises(InvalidTransitionError):
        w.cb.lifecycle.start_session(w.staff, arrived.id)
    assert w.snapshot() == before
    assert w.cb.queries.get_appointment(Actor.system(), arrived.id) == started


def test_completing_needs_a_running_session() -> None:
    w = make_world(dispatch="manual")
    arrived = arrived_at_nine(w)
    before = w.snapshot()
    with pytest.raises(InvalidTransitionError):
        w.cb.lifecycle.complete_session(w.staff, arrived.id)
    assert w.snapshot() == before


def test_an_appointment_in_session_cannot_be_cancelled() -> None:
    w = make_world(dispatch="manual")
    arrived = arrived_at_nine(w)
    w.clock.set(at(9, 45))
    w.cb.lifecycle.start_session(w.staff, arrived.id)
    before = w.snapshot()
    with pytest.raises(InvalidTransitionError):
        w.cb.lifecycle.cancel(w.staff, CancelAppointment(appointment_id=arrived.id))
    assert w.snapshot() == before


def test_check_in_after_the_end_is_too_late() -> None:
    w = make_world(dispatch="manual")
    booked = w.book(w.alice, at(10), actor=w.staff)
    w.clock.set(at(10, 30))
    before = w.snapshot()
    with pytest.raises(RuleRejectedError) as caught:
        w.cb.lifecycle.check_in(Actor.patient(w.alice.id), booked.id)
    assert caught.value.reason_code == "too_late"
    assert w.snapshot() == before


# --- no-show -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grace", "when", "allowed"),
    [
        (
            15,
            at(
                10,
                14,
            ),
            False,
        ),
        (15, at(10, 15), True),
        (40, at(10, 39), False),
        (40, at(10, 40), True),
    ],
)
def test_no_show_only_after_the_grace(grace: int, when: pendulum.DateTime, allowed: bool) -> None:
    w = make_world(dispatch="manual", no_show_grace=grace)
    booked = w.book(w.alice, at(10), actor=w.staff)
    w.clock.set(when)
    if allowed:
        assert w.cb.lifecycle.mark_no_show(w.staff, booked.id).status is S.NOSHOW
        (event,) = [e for e in w.cb.events.pending(1000) if isinstance(e, ev.AppointmentNoShow)]
        assert event.appointment_id == booked.id
        return
    before = w.snapshot()
    with pytest.raises(RuleRejectedError) as caught:
        w.cb.lifecycle.mark_no_show(w.staff, booked.id)
    assert caught.value.reason_code == "too_early_for_no_show"
    assert w.snapshot() == before


# --- cancel ----------------------------------------------------------------------------------


def test_a_patient_cancels_own_appointment_with_enough_notice() -> None:
    w = make_world(cancel_notice=120)
    booked = w.book(w.alice, at(10))
    w.clock.set(at(8))  # exactly the notice: still allowed
    cancelled = w.cb.lifecycle.cancel(
        Actor.patient(w.alice.id), CancelAppointment(appointment_id=booked.id)
    )
    assert cancelled.status is S.CANCELLED
    assert cancelled.cancel_reason == "patient_request"
    assert [(n.kind, n.recipient_role) for n in w.sent][-2:] == [
        ("appointment_cancelled", "patient"),
        ("appointment_cancelled", "practitioner"),
    ]


def test_a_patient_cannot_cancel_within_the_notice_but_staff_can() -> None:
    w = make_world(dispatch="manual", cancel_notice=120)
    booked = w.book(w.alice, at(10))
    w.clock.set(at(8, 0).add(seconds=1))
    before = w.snapshot()

    with pytest.raises(RuleRejectedError) as caught:
        w.cb.lifecycle.cancel(
            Actor.patient(w.alice.id), CancelAppointment(appointment_id=booked.id)
        )
    assert caught.value.reason_code == "cancel_notice"
    assert w.snapshot() == before

    cancelled = w.cb.lifecycle.cancel(
        w.staff, CancelAppointment(appointment_id=booked.id, reason="clinic_request")
    )
    assert cancelled.status is S.CANCELLED
    assert cancelled.cancel_reason == "clinic_request"
    (event,) = [e for e in w.cb.events.pending(1000) if isinstance(e, ev.AppointmentCancelled)]
    assert (event.reason, event.by) == ("clinic_request", "staff")


def test_an_admin_also_overrides_the_cancel_notice() -> None:
    w = make_world(cancel_notice=120)
    booked = w.book(w.alice, at(10))
    w.clock.set(at(9, 59))
    assert (
        w.cb.lifecycle.cancel(Actor.admin(), CancelAppointment(appointment_id=booked.id)).status
        is S.CANCELLED
    )


def test_a_cancellation_note_stays_out_of_events_and_notifications() -> None:
    w = make_world()
    seen = w.record_events()
    booked = w.book(w.alice, at(10))
    note = "patient says the knee is much better now"
    w.cb.lifecycle.cancel(
        Actor.patient(w.alice.id), CancelAppointment(appointment_id=booked.id, note=note)
    )
    assert note not in repr(seen)
    assert note not in repr(w.sent)
    assert note not in repr(w.appointments())


# --- entered in error ----------------------------------------------------------------------


def test_entered_in_error_frees_the_slot_and_is_final() -> None:
    w = make_world(dispatch="manual")
    booked = w.book(w.alice, at(10), actor=w.staff)

    marked = w.cb.lifecycle.enter_in_error(w.staff, booked.id)

    assert marked.status is S.ENTERED_IN_ERROR
    (event,) = [e for e in w.cb.events.pending(1000) if isinstance(e, ev.AppointmentEnteredInError)]
    assert event.appointment_id == booked.id
    assert at(10) in w.starts()
    before = w.snapshot()
    for again in (w.cb.lifecycle.enter_in_error, w.cb.lifecycle.confirm, w.cb.lifecycle.check_in):
        with pytest.raises(InvalidTransitionError):
            again(w.staff, booked.id)
    assert w.snapshot() == before


def test_a_patient_cannot_mark_own_appointment_entered_in_error() -> None:
    w = make_world(dispatch="manual")
    booked = w.book(w.alice, at(10))
    before = w.snapshot()
    with pytest.raises(ForbiddenError):
        w.cb.lifecycle.enter_in_error(Actor.patient(w.alice.id), booked.id)
    assert w.snapshot() == before


# --- transition observers ------------------------------------------------------------------


def test_every_transition_observer_sees_before_and_after_and_its_events_are_appended() -> None:
    w = make_world(dispatch="manual")
    booked = w.book(w.alice, at(10), actor=w.staff)
    w.clock.set(AT_START)
    seen: list[tuple[str, S, S]] = []

    def observer(name: str) -> TransitionObserver:
        def observe(
            uow: UnitOfWork,
            stamp: EventStamp,
            actor: Actor,
            before: Appointment,
            after: Appointment,
        ) -> list[ev.Event]:
            seen.append((name, before.status, after.status))
            change = ev.CalendarChanged(
                **stamp.meta(),  # type: ignore[arg-type]
                organisation_id=after.organisation_id,
                entity="observer",
                entity_id=after.id,
                change=name,
                actor=actor.kind.value,
            )
            return [change]

        return observe

    deps = Deps(
        storage=w.cb.storage,
        clock=w.clock,
        rules=BUILTIN_RULES,
        after_commit=lambda: None,
        transition_observers=(observer("first"), observer("second")),
    )
    arrived = lifecycle.check_in(deps, w.staff, booked.id)

    assert arrived.status is S.ARRIVED
    assert seen == [("first", S.BOOKED, S.ARRIVED), ("second", S.BOOKED, S.ARRIVED)]
    changes = [e for e in w.cb.events.pending(1000) if isinstance(e, ev.CalendarChanged)]
    assert [(c.entity, c.change) for c in changes if c.entity_id == booked.id] == [
        ("observer", "first"),
        ("observer", "second"),
    ]


def test_a_failing_transition_observer_rolls_the_transition_back() -> None:
    w = make_world(dispatch="manual")
    booked = w.book(w.alice, at(10), actor=w.staff)
    w.clock.set(AT_START)

    def refuse(
        uow: UnitOfWork, stamp: EventStamp, actor: Actor, before: Appointment, after: Appointment
    ) -> list[ev.Event]:
        raise RuleRejectedError("observer_refused", "the observer refuses")

    deps = Deps(
        storage=w.cb.storage,
        clock=w.clock,
        rules=BUILTIN_RULES,
        after_commit=lambda: None,
        transition_observers=(refuse,),
    )
    before = w.snapshot()
    with pytest.raises(RuleRejectedError):
        lifecycle.check_in(deps, w.staff, booked.id)
    assert w.snapshot() == before
