"""The Appointment aggregate: its explicit transition table, exhaustively; which
statuses occupy time; the events each transition produces; the time guards."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import attrs
import pendulum
import pytest

from carebook.domain import events as ev
from carebook.domain.actors import ActorKind
from carebook.domain.ids import (
    AppointmentId,
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ServiceId,
)
from carebook.domain.scheduling.appointment import (
    OCCUPYING,
    TRANSITIONS,
    Action,
    Appointment,
    AppointmentStatus,
    Move,
    SessionStatus,
    TreatmentSession,
)
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.errors import InvalidTransitionError, RuleRejectedError

S = AppointmentStatus
START = pendulum.datetime(2025, 3, 4, 10, 0, tz="UTC")
END = START.add(minutes=30)
NOW = START.add(minutes=20)
"""After the no-show grace (15 min), before the end, inside the session window."""
POLICY = BookingPolicy()


def appointment(status: AppointmentStatus, **changes: Any) -> Appointment:
    base = Appointment(
        id=AppointmentId(uuid.uuid4()),
        organisation_id=OrganisationId(uuid.uuid4()),
        location_id=LocationId(uuid.uuid4()),
        practitioner_id=PractitionerId(uuid.uuid4()),
        patient_id=PatientId(uuid.uuid4()),
        service_ids=[ServiceId(uuid.uuid4())],
        resource_ids=[],
        start=START,
        end=END,
        occupied_start=START.subtract(minutes=5),
        occupied_end=END.add(minutes=5),
        status=status,
        created_at=START.subtract(days=1),
        hold_expires_at=NOW.add(minutes=5) if status is S.PROPOSED else None,
    )
    return attrs.evolve(base, **changes)


def stamp(now: pendulum.DateTime = NOW, correlation_id: str = "corr-1") -> ev.EventStamp:
    return ev.EventStamp(now, correlation_id, uuid.uuid4)


Result = tuple[Appointment, list[ev.Event]]


def _move(a: Appointment, s: ev.EventStamp) -> Move:
    return Move(
        idempotency_key=None,
        fingerprint="f",
        from_start=a.start,
        to_start=a.start,
        at=s.now,
        by="staff",
    )


PERFORM: dict[Action, Callable[[Appointment, ev.EventStamp], Result]] = {
    Action.REQUEST: lambda a, s: a.finalise_hold(s, confirmed=False),
    Action.BOOK: lambda a, s: a.finalise_hold(s, confirmed=True),
    Action.CONFIRM: lambda a, s: a.confirm(s),
    Action.CHECK_IN: lambda a, s: a.check_in(s),
    Action.START_SESSION: lambda a, s: a.start_session(s, POLICY),
    Action.COMPLETE: lambda a, s: a.complete_session(s),
    Action.CANCEL: lambda a, s: a.cancel(s, reason="patient_request", by="patient"),
    Action.EXPIRE: lambda a, s: a.cancel(s, reason="hold_expired", by="system", expire=True),
    Action.NO_SHOW: lambda a, s: a.no_show(s, POLICY),
    Action.ENTER_IN_ERROR: lambda a, s: a.enter_in_error(s),
    # The slot itself is the service's business: the aggregate moves to what it is given.
    Action.RESCHEDULE: lambda a, s: a.rescheduled(a, s, _move(a, s)),
}

EVENT_OF: dict[Action, type[ev.Event]] = {
    Action.REQUEST: ev.AppointmentBooked,
    Action.BOOK: ev.AppointmentBooked,
    Action.CONFIRM: ev.AppointmentConfirmed,
    Action.CHECK_IN: ev.PatientArrived,
    Action.START_SESSION: ev.SessionStarted,
    Action.COMPLETE: ev.SessionCompleted,
    Action.CANCEL: ev.AppointmentCancelled,
    Action.EXPIRE: ev.AppointmentCancelled,
    Action.NO_SHOW: ev.AppointmentNoShow,
    Action.ENTER_IN_ERROR: ev.AppointmentEnteredInError,
    Action.RESCHEDULE: ev.AppointmentRescheduled,
}

EXPECTED_TABLE: dict[tuple[AppointmentStatus, Action], AppointmentStatus] = {
    (S.PROPOSED, Action.REQUEST): S.PENDING,
    (S.PROPOSED, Action.BOOK): S.BOOKED,
    (S.PROPOSED, Action.CANCEL): S.CANCELLED,
    (S.PROPOSED, Action.EXPIRE): S.CANCELLED,
    (S.PENDING, Action.CONFIRM): S.BOOKED,
    (S.PENDING, Action.CANCEL): S.CANCELLED,
    (S.PENDING, Action.RESCHEDULE): S.PENDING,
    (S.BOOKED, Action.CHECK_IN): S.ARRIVED,
    (S.BOOKED, Action.RESCHEDULE): S.BOOKED,
    (S.BOOKED, Action.CANCEL): S.CANCELLED,
    (S.BOOKED, Action.NO_SHOW): S.NOSHOW,
    (S.ARRIVED, Action.START_SESSION): S.ARRIVED,
    (S.ARRIVED, Action.COMPLETE): S.FULFILLED,
    (S.ARRIVED, Action.CANCEL): S.CANCELLED,
    (S.PROPOSED, Action.ENTER_IN_ERROR): S.ENTERED_IN_ERROR,
    (S.PENDING, Action.ENTER_IN_ERROR): S.ENTERED_IN_ERROR,
    (S.BOOKED, Action.ENTER_IN_ERROR): S.ENTERED_IN_ERROR,
    (S.ARRIVED, Action.ENTER_IN_ERROR): S.ENTERED_IN_ERROR,
    (S.FULFILLED, Action.ENTER_IN_ERROR): S.ENTERED_IN_ERROR,
    (S.CANCELLED, Action.ENTER_IN_ERROR): S.ENTERED_IN_ERROR,
    (S.NOSHOW, Action.ENTER_IN_ERROR): S.ENTERED_IN_ERROR,
}
"""The lifecycle written out by hand, so a change to the table is a visible decision."""


def test_the_transition_table_is_exactly_the_documented_lifecycle() -> None:
    assert TRANSITIONS == EXPECTED_TABLE


def test_final_statuses_only_lead_to_entered_in_error() -> None:
    for status in (S.FULFILLED, S.CANCELLED, S.NOSHOW):
        assert {a for (s, a) in TRANSITIONS if s is status} == {Action.ENTER_IN_ERROR}
    assert not [key for key in TRANSITIONS if key[0] is S.ENTERED_IN_ERROR]


def test_every_action_has_a_method_and_an_event() -> None:
    assert set(PERFORM) == set(Action) == set(EVENT_OF)


def _subject(status: AppointmentStatus, action: Action) -> Appointment:
    """An appointment in ``status`` whose only obstacle to ``action`` is the table."""
    if action is Action.COMPLETE:
        running = TreatmentSession(status=SessionStatus.IN_PROGRESS, started_at=START)
        return appointment(status, session=running)
    return appointment(status)


@pytest.mark.parametrize(
    ("status", "action"),
    [pytest.param(s, a, id=f"{s.value}-{a.name.lower()}") for s in S for a in Action],
)
def test_every_status_and_action_follows_the_table(
    status: AppointmentStatus, action: Action
) -> None:
    subject = _subject(status, action)
    copy = attrs.evolve(subject)
    target = TRANSITIONS.get((status, action))

    if target is None:
        with pytest.raises(InvalidTransitionError) as caught:
            PERFORM[action](subject, stamp())
        assert caught.value.entity == "appointment"
        assert caught.value.current == status.value
        assert caught.value.action == action.value
        assert f"cannot {action.value}" in str(caught.value)
        assert subject == copy
        return

    new, events = PERFORM[action](subject, stamp())

    assert new.status is target
    assert new.version == subject.version + 1
    assert new.id == subject.id
    assert (new.start, new.end) == (subject.start, subject.end)
    assert (new.occupied_start, new.occupied_end) == (subject.occupied_start, subject.occupied_end)
    assert subject == copy, "the aggregate is immutable"
    (event,) = events
    assert type(event) is EVENT_OF[action]
    assert isinstance(event, ev.AppointmentEvent)
    assert event.appointment_id == subject.id
    assert event.patient_id == subject.patient_id
    assert event.practitioner_id == subject.practitioner_id
    assert event.location_id == subject.location_id
    assert event.organisation_id == subject.organisation_id
    assert event.correlation_id == "corr-1"
    assert event.occurred_at == NOW


# --- occupies --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "occupies"),
    [
        (S.PENDING, True),
        (S.BOOKED, True),
        (S.ARRIVED, True),
        (S.FULFILLED, True),
        (S.CANCELLED, False),
        (S.NOSHOW, False),
        (S.ENTERED_IN_ERROR, False),
    ],
)
def test_which_statuses_occupy_their_time(status: AppointmentStatus, occupies: bool) -> None:
    assert appointment(status).occupies(NOW) is occupies
    assert appointment(status).occupies(END.add(days=365)) is occupies
    assert (status in OCCUPYING) is occupies


def test_a_hold_occupies_its_time_only_until_it_expires() -> None:
    expires = NOW.add(minutes=5)
    hold = appointment(S.PROPOSED, hold_expires_at=expires)
    assert hold.occupies(expires.subtract(seconds=1))
    assert not hold.occupies(expires)  # half-open: the expiry instant is free
    assert not hold.occupies(expires.add(minutes=1))


def test_a_hold_without_an_expiry_occupies_nothing() -> None:
    assert not appointment(S.PROPOSED, hold_expires_at=None).occupies(NOW)


def test_a_converted_hold_occupies_for_good() -> None:
    hold = appointment(S.PROPOSED, hold_expires_at=NOW.add(minutes=1))
    booked, _ = hold.finalise_hold(stamp(), confirmed=True)
    assert booked.hold_expires_at is None
    assert booked.occupies(NOW.add(days=1))


def test_occupied_epochs_include_the_buffers() -> None:
    a = appointment(S.BOOKED)
    assert a.occupied_epochs == (
        int(START.subtract(minutes=5).timestamp()),
        int(END.add(minutes=5).timestamp()),
    )


# --- events ----------------------------------------------------------------------------------


def test_a_hold_announces_itself_as_held_with_its_expiry() -> None:
    hold = appointment(S.PROPOSED)
    event = hold.booked_event(stamp())
    assert isinstance(event, ev.AppointmentHeld)
    assert event.expires_at == hold.hold_expires_at
    assert (event.start, event.end) == (START, END)


@pytest.mark.parametrize(
    ("confirmed", "status"), [(False, S.PENDING), (True, S.BOOKED)], ids=["request", "book"]
)
def test_finalising_a_hold_announces_a_booking_with_its_status(
    confirmed: bool, status: AppointmentStatus
) -> None:
    new, (event,) = appointment(S.PROPOSED).finalise_hold(stamp(), confirmed=confirmed)
    assert new.status is status
    assert isinstance(event, ev.AppointmentBooked)
    assert event.status == status.value
    assert (event.start, event.end) == (START, END)


def test_a_cancellation_records_reason_and_actor_kind() -> None:
    new, (event,) = appointment(S.BOOKED).cancel(stamp(), reason="clinic_request", by="staff")
    assert new.cancel_reason == "clinic_request"
    assert isinstance(event, ev.AppointmentCancelled)
    assert (event.reason, event.by) == ("clinic_request", "staff")


def test_one_stamp_gives_each_event_its_own_id() -> None:
    s = stamp()
    a, b = appointment(S.BOOKED), appointment(S.PENDING)
    _, (first,) = a.enter_in_error(s)
    _, (second,) = b.confirm(s)
    assert first.event_id != second.event_id
    assert first.correlation_id == second.correlation_id == "corr-1"


# --- time guards -------------------------------------------------------------------------------


def test_an_expired_hold_cannot_be_finalised() -> None:
    hold = appointment(S.PROPOSED, hold_expires_at=NOW)
    with pytest.raises(RuleRejectedError) as caught:
        hold.finalise_hold(stamp(), confirmed=True)
    assert caught.value.reason_code == "hold_expired"


@pytest.mark.parametrize("late", [END, END.add(hours=2)])
def test_check_in_at_or_after_the_end_is_too_late(late: pendulum.DateTime) -> None:
    with pytest.raises(RuleRejectedError) as caught:
        appointment(S.BOOKED).check_in(stamp(late))
    assert caught.value.reason_code == "too_late"


def test_check_in_just_before_the_end_is_allowed() -> None:
    new, _ = appointment(S.BOOKED).check_in(stamp(END.subtract(seconds=1)))
    assert new.status is S.ARRIVED


@pytest.mark.parametrize(
    ("minutes", "allowed"), [(-31, False), (-30, True), (0, True), (60, True), (61, False)]
)
def test_a_session_starts_only_inside_the_window(minutes: int, allowed: bool) -> None:
    arrived = appointment(S.ARRIVED)
    when = stamp(START.add(minutes=minutes))
    if allowed:
        new, _ = arrived.start_session(when, POLICY)
        assert new.session == TreatmentSession(
            status=SessionStatus.IN_PROGRESS, started_at=when.now
        )
        return
    with pytest.raises(RuleRejectedError) as caught:
        arrived.start_session(when, POLICY)
    assert caught.value.reason_code == "outside_session_window"


def test_a_session_starts_once() -> None:
    started, _ = appointment(S.ARRIVED).start_session(stamp(), POLICY)
    with pytest.raises(InvalidTransitionError):
        started.start_session(stamp(), POLICY)


def test_a_session_completes_once_and_records_its_end() -> None:
    started, _ = appointment(S.ARRIVED).start_session(stamp(START), POLICY)
    done, _ = started.complete_session(stamp(NOW))
    assert done.session is not None
    assert done.session.status is SessionStatus.COMPLETED
    assert (done.session.started_at, done.session.completed_at) == (START, NOW)
    with pytest.raises(InvalidTransitionError):
        done.complete_session(stamp(NOW))


def test_completing_without_a_session_is_refused() -> None:
    with pytest.raises(InvalidTransitionError):
        appointment(S.ARRIVED).complete_session(stamp())


def test_an_appointment_in_session_cannot_be_cancelled() -> None:
    started, _ = appointment(S.ARRIVED).start_session(stamp(), POLICY)
    with pytest.raises(InvalidTransitionError):
        started.cancel(stamp(), reason="patient_request", by="staff")


@pytest.mark.parametrize(("minutes_before", "allowed"), [(120, True), (119, False)])
def test_a_patient_cancels_no_later_than_the_cancel_notice(
    minutes_before: int, allowed: bool
) -> None:
    policy = BookingPolicy(cancel_notice=120)
    booked = appointment(S.BOOKED)
    now = START.subtract(minutes=minutes_before)
    if allowed:
        booked.check_cancel_notice(now, policy, by=ActorKind.PATIENT)
        return
    with pytest.raises(RuleRejectedError) as caught:
        booked.check_cancel_notice(now, policy, by=ActorKind.PATIENT)
    assert caught.value.reason_code == "cancel_notice"


@pytest.mark.parametrize("kind", [k for k in ActorKind if k is not ActorKind.PATIENT])
def test_only_a_patient_is_held_to_the_cancel_notice(kind: ActorKind) -> None:
    policy = BookingPolicy(cancel_notice=120)
    booked = appointment(S.BOOKED)
    with pytest.raises(RuleRejectedError):  # the same moment is too late for the patient
        booked.check_cancel_notice(START, policy, by=ActorKind.PATIENT)
    assert booked.check_cancel_notice(START, policy, by=kind) is None  # type: ignore[func-returns-value]


@pytest.mark.parametrize(("grace", "minutes", "allowed"), [(15, 14, False), (15, 15, True)])
def test_a_no_show_waits_for_the_grace(grace: int, minutes: int, allowed: bool) -> None:
    policy = BookingPolicy(no_show_grace=grace)
    booked = appointment(S.BOOKED)
    when = stamp(START.add(minutes=minutes))
    if allowed:
        assert booked.no_show(when, policy)[0].status is S.NOSHOW
        return
    with pytest.raises(RuleRejectedError) as caught:
        booked.no_show(when, policy)
    assert caught.value.reason_code == "too_early_for_no_show"
