"""Walk-in use cases through the public API: check-in, reservation, the queue, estimates.

The clinic (``carebook.testing.walkin_world``): offices in Europe/London (UTC in March)
open 08:00-20:00, practitioners working the same hours, a 15-minute walk-in visit, and
the clock at Monday 08:00. Events stay in the outbox (manual dispatch) so tests read them.
"""

from __future__ import annotations

import itertools
import json
import threading

import pendulum
import pytest

from carebook import (
    Actor,
    ForbiddenError,
    InvalidTransitionError,
    NotFoundError,
    ValidationError,
)
from carebook.domain.events import Event, WaitTimeChanged
from carebook.domain.walkins.queue import (
    CheckedIn,
    CheckIn,
    CheckInChannel,
    CheckInOutcome,
    NoAvailability,
    QueueStatus,
)
from carebook.errors import IdempotencyConflictError
from carebook.scheduling import (
    AppointmentStatus,
    BookAppointment,
    CancelAppointment,
    PatientKind,
    WeeklyHours,
    WorkingPlan,
)
from carebook.serialization import event_to_json
from carebook.testing.walkin_world import T0, WalkInClinic, make_walkin_clinic

MINUTE = 60


def reserved(outcome: CheckInOutcome) -> CheckedIn:
    assert isinstance(outcome, CheckedIn), outcome
    return outcome


def minutes_of(outcome: CheckInOutcome) -> int:
    appointment = reserved(outcome).appointment
    return int((appointment.end - appointment.start).total_seconds() // MINUTE)


def waits(clinic: WalkInClinic) -> list[WaitTimeChanged]:
    return [e for e in clinic.cb.events.pending(1000) if isinstance(e, WaitTimeChanged)]


def book(clinic: WalkInClinic, practitioner_index: int, start: pendulum.DateTime) -> None:
    """A booked (not yet arrived) appointment, made by staff through cb.booking.book."""
    patient = clinic.new_patient(PatientKind.RETURNING)
    clinic.cb.booking.book(
        clinic.staff,
        BookAppointment(
            location_id=clinic.loc.id,
            practitioner_id=clinic.at()[practitioner_index].id,
            patient_id=patient.id,
            service_ids=[clinic.service.id],
            start=start,
            idempotency_key=f"booked-{patient.id}",
        ),
    )


@pytest.fixture
def clinic() -> WalkInClinic:
    clinic = make_walkin_clinic(practitioners=2, patients=4)
    clinic.clock.set(T0.add(hours=1))  # 09:00
    return clinic


# -- reservation ------------------------------------------------------------------------


def test_new_and_returning_patients_reserve_two_and_one_slots(clinic: WalkInClinic) -> None:
    clinic.on_duty(*clinic.at())
    new, returning = clinic.patients[0], clinic.patients[1]
    assert (new.kind, returning.kind) == (PatientKind.NEW, PatientKind.RETURNING)
    first, second = clinic.walk_in(new), clinic.walk_in(returning)
    assert minutes_of(first) == 30 and minutes_of(second) == 15
    assert reserved(first).appointment.service_ids == (clinic.service.id,) * 2
    assert reserved(second).appointment.service_ids == (clinic.service.id,)
    for outcome in (first, second):
        appointment = reserved(outcome).appointment
        assert appointment.status is AppointmentStatus.ARRIVED
        assert (
            reserved(outcome).entry.walk_in
            and reserved(outcome).entry.status is QueueStatus.WAITING
        )


def test_the_settings_change_the_number_of_slots() -> None:
    clinic = make_walkin_clinic(new_patient_slots=3, returning_patient_slots=2)
    clinic.clock.set(T0.add(hours=1))
    clinic.on_duty(*clinic.at())
    assert minutes_of(clinic.walk_in(clinic.patients[0])) == 45
    assert minutes_of(clinic.walk_in(clinic.patients[1])) == 30
    clinic.cb.walkins.configure(
        Actor.admin(), clinic.loc.id, service_id=clinic.service.id, returning_patient_slots=1
    )
    assert minutes_of(clinic.walk_in(clinic.patients[3])) == 15


def test_the_first_practitioner_free_takes_the_patient_ties_by_name(clinic: WalkInClinic) -> None:
    first, second = clinic.at()
    clinic.on_duty(second, first)
    a = reserved(clinic.walk_in(clinic.patients[1]))
    b = reserved(clinic.walk_in(clinic.patients[3]))
    c = reserved(clinic.walk_in(clinic.patients[0]))
    assert (a.appointment.practitioner_id, a.wait_seconds) == (first.id, 0)
    assert (b.appointment.practitioner_id, b.wait_seconds) == (second.id, 0)
    # Both are busy now; the first one free again (at 09:15) gets the next patient.
    assert c.appointment.practitioner_id == first.id
    assert c.appointment.start == clinic.clock.now().add(minutes=15)
    assert c.wait_minutes == 15


def test_a_walk_in_respects_booked_appointments_and_the_end_of_the_working_day() -> None:
    clinic = make_walkin_clinic(practitioners=1, hours="08:00-09:45", wait_limit=120)
    book(clinic, 0, T0.add(hours=1, minutes=15))  # 09:15-09:30
    clinic.clock.set(T0.add(hours=1, minutes=5))  # 09:05: 10 minutes free before it
    clinic.on_duty(*clinic.at())
    first = reserved(clinic.walk_in(clinic.patients[1]))  # 15 minutes: 09:30-09:45
    assert first.appointment.start == T0.add(hours=1, minutes=30)
    assert first.wait_minutes == 25
    refused = clinic.walk_in(clinic.patients[0])  # the day is full
    assert isinstance(refused, NoAvailability)
    assert refused.reason_code == "no_practitioner_available" and refused.wait_seconds is None


def test_nobody_on_duty_is_no_availability(clinic: WalkInClinic) -> None:
    before = clinic.snapshot()
    outcome = clinic.walk_in(clinic.patients[1])
    assert isinstance(outcome, NoAvailability)
    assert outcome.reason_code == "no_practitioner_available"
    assert clinic.snapshot() == before


# -- the 45-minute boundary --------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "wait", "reserves"),
    [
        (T0.add(hours=2, seconds=1), 44 * MINUTE + 59, True),
        (T0.add(hours=2), 45 * MINUTE, True),
        (T0.add(hours=1, minutes=59, seconds=59), 45 * MINUTE + 1, False),
    ],
    ids=["44:59 reserves", "45:00 reserves", "45:01 refuses"],
)
def test_the_wait_limit_is_exact(now: pendulum.DateTime, wait: int, reserves: bool) -> None:
    clinic = make_walkin_clinic(practitioners=1)
    for quarter in range(3):  # booked 10:00-10:45: the first free start is 10:45
        book(clinic, 0, T0.add(hours=2, minutes=15 * quarter))
    clinic.clock.set(now)
    clinic.on_duty(*clinic.at())
    before = clinic.snapshot()
    outcome = clinic.walk_in(clinic.patients[1])
    assert outcome.wait_seconds == wait
    if reserves:
        assert reserved(outcome).appointment.start == T0.add(hours=2, minutes=45)
        assert clinic.snapshot() != before
    else:
        assert isinstance(outcome, NoAvailability)
        assert (outcome.reason_code, outcome.wait_minutes) == ("wait_limit_exceeded", 46)
        assert clinic.snapshot() == before  # nothing reserved, queued or announced


def test_a_refused_walk_in_reserves_nothing(clinic: WalkInClinic) -> None:
    clinic.on_duty(clinic.at()[0])
    queued = [reserved(clinic.walk_in(p)) for p in clinic.patients[:3]]  # 30 + 15 + 30
    assert [q.wait_minutes for q in queued] == [0, 30, 45]
    before = clinic.snapshot()
    refused = clinic.walk_in(clinic.patients[3])
    assert isinstance(refused, NoAvailability) and refused.reason_code == "wait_limit_exceeded"
    assert (refused.wait_minutes, refused.wait_limit) == (75, 45)
    assert clinic.snapshot() == before


# -- booked appointments ----------------------------------------------------------------


def test_checking_in_for_a_booked_appointment_marks_it_arrived_and_queues_it(
    clinic: WalkInClinic,
) -> None:
    book(clinic, 0, T0.add(hours=2, minutes=30))  # 10:30
    patient = clinic.patients[-1]
    [appointment] = clinic.cb.queries.patient_appointments(Actor.system(), patient.id)
    clinic.on_duty(clinic.at()[0])
    outcome = reserved(
        clinic.cb.walkins.check_in(
            Actor.patient(patient.id),
            CheckIn(
                location_id=clinic.loc.id,
                patient_id=patient.id,
                channel=CheckInChannel.APP,
                appointment_id=appointment.id,
            ),
        )
    )
    assert outcome.appointment.status is AppointmentStatus.ARRIVED
    assert outcome.entry.walk_in is False and outcome.entry.channel is CheckInChannel.APP
    assert outcome.wait_minutes == 90
    types = [e.type for e in clinic.cb.events.pending(1000)][-2:]
    assert types == ["PatientArrived", "WaitTimeChanged"]


def test_the_plain_lifecycle_check_in_queues_the_patient_too(clinic: WalkInClinic) -> None:
    book(clinic, 0, T0.add(hours=2, minutes=30))
    patient = clinic.patients[-1]
    [appointment] = clinic.cb.queries.patient_appointments(Actor.system(), patient.id)
    clinic.cb.lifecycle.check_in(Actor.patient(patient.id), appointment.id)
    [entry] = clinic.cb.walkins.queue(clinic.staff, clinic.loc.id)
    assert (entry.appointment_id, entry.channel) == (appointment.id, CheckInChannel.APP)
    assert waits(clinic)[-1].cause == "check_in"


# -- the queue moving -------------------------------------------------------------------


def test_sessions_move_the_queue_and_teach_the_visit_length(clinic: WalkInClinic) -> None:
    practitioner = clinic.at()[0]
    clinic.on_duty(practitioner)
    patient = clinic.patients[0]  # new: 30 minutes reserved
    outcome = reserved(clinic.walk_in(patient))
    clinic.cb.lifecycle.start_session(clinic.staff, outcome.appointment.id)
    assert clinic.cb.walkins.queue(clinic.staff, clinic.loc.id)[0].status is QueueStatus.IN_SESSION
    clinic.clock.advance(minutes=40)
    clinic.cb.lifecycle.complete_session(clinic.staff, outcome.appointment.id)
    assert clinic.cb.walkins.queue(clinic.staff, clinic.loc.id) == []
    assert [w.cause for w in waits(clinic)][-3:] == [
        "check_in",
        "session_started",
        "session_completed",
    ]
    with clinic.cb.storage.unit_of_work() as uow:
        [stats] = uow.walkins.durations([clinic.loc.id])
        assert (stats.kind, stats.samples, stats.mean_seconds) == (PatientKind.NEW, 1, 40 * MINUTE)
        returning = uow.patients.get(patient.id)
        assert returning is not None and returning.kind is PatientKind.RETURNING
        shift = uow.walkins.duty_of(practitioner.id)
        assert shift is not None and shift.free_since == clinic.clock.now()
    # The next new patient is expected to take the learned 40 minutes, not 30.
    newcomer = clinic.new_patient(PatientKind.NEW)
    reserved(clinic.walk_in(newcomer))
    [row] = clinic.cb.walkins.wait_times(Actor.patient(newcomer.id), clinic.org.id)
    assert row.wait_minutes == 40


def test_leaving_the_queue_cancels_the_reservation(clinic: WalkInClinic) -> None:
    clinic.on_duty(clinic.at()[0])
    patient = clinic.patients[1]
    outcome = reserved(clinic.walk_in(patient, actor=Actor.patient(patient.id)))
    left = clinic.cb.walkins.leave_queue(Actor.patient(patient.id), outcome.entry.id)
    assert left.status is QueueStatus.LEFT
    appointment = clinic.cb.queries.get_appointment(clinic.staff, outcome.appointment.id)
    assert (appointment.status, appointment.cancel_reason) == (
        AppointmentStatus.CANCELLED,
        "left_queue",
    )
    assert waits(clinic)[-1].cause == "left_queue" and waits(clinic)[-1].queue_length == 0
    with pytest.raises(InvalidTransitionError):
        clinic.cb.walkins.leave_queue(Actor.patient(patient.id), outcome.entry.id)
    reserved(clinic.walk_in(patient))  # gone from the queue: may check in again


def test_cancelling_a_queued_appointment_updates_the_queue(clinic: WalkInClinic) -> None:
    clinic.on_duty(clinic.at()[0])
    outcome = reserved(clinic.walk_in(clinic.patients[1]))
    clinic.cb.lifecycle.cancel(
        clinic.staff, CancelAppointment(appointment_id=outcome.appointment.id)
    )
    assert clinic.cb.walkins.queue(clinic.staff, clinic.loc.id) == []
    assert waits(clinic)[-1].cause == "cancelled"


def test_the_estimate_drops_when_a_practitioner_comes_on_duty(clinic: WalkInClinic) -> None:
    first, second = clinic.at()
    clinic.on_duty(first)
    for patient in clinic.patients[:2]:
        reserved(clinic.walk_in(patient))
    assert waits(clinic)[-1].wait_minutes == 45
    clinic.on_duty(second)
    assert (waits(clinic)[-1].cause, waits(clinic)[-1].wait_minutes) == ("on_duty", 0)
    assert waits(clinic)[-1].previous_wait_minutes == 45
    clinic.cb.walkins.off_duty(clinic.staff, clinic.loc.id, second.id)
    assert (waits(clinic)[-1].cause, waits(clinic)[-1].wait_minutes) == ("off_duty", 45)


def test_duty_mistakes_are_typed_errors(clinic: WalkInClinic) -> None:
    other = make_walkin_clinic(locations=2)
    first = other.at()[0]
    other.on_duty(first)
    with pytest.raises(ValidationError):  # no working plan at the second office
        other.on_duty(first, location=other.locations[1])
    both = other.cb.admin.add_practitioner(
        Actor.admin(),
        organisation_id=other.org.id,
        name="Dr Both",
        plans=[
            WorkingPlan(location_id=loc.id, hours=WeeklyHours.every_day("08:00-20:00"))
            for loc in other.locations
        ],
    )
    other.on_duty(both)
    with pytest.raises(InvalidTransitionError):  # on duty at one office at a time
        other.on_duty(both, location=other.locations[1])
    assert other.cb.walkins.on_duty(other.staff, other.loc.id, both.id).location_id == other.loc.id
    with pytest.raises(NotFoundError):
        clinic.cb.walkins.off_duty(clinic.staff, clinic.loc.id, clinic.at()[0].id)
    with pytest.raises(NotFoundError):  # another organisation's practitioner
        clinic.cb.walkins.on_duty(Actor.admin(), clinic.loc.id, first.id)


# -- the sweep: no-shows and falling behind --------------------------------------------


def test_a_waiting_patient_not_seen_after_the_grace_is_a_no_show(clinic: WalkInClinic) -> None:
    clinic.on_duty(clinic.at()[0])
    outcome = reserved(clinic.walk_in(clinic.patients[1]))  # 09:00, practitioner free
    clinic.clock.advance(minutes=14, seconds=59)
    assert clinic.cb.walkins.sweep(Actor.system(), clinic.org.id).no_shows == ()
    clinic.clock.advance(seconds=1)
    result = clinic.cb.walkins.sweep(Actor.system(), clinic.org.id)
    assert result.no_shows == (outcome.entry.id,)
    appointment = clinic.cb.queries.get_appointment(clinic.staff, outcome.appointment.id)
    assert appointment.cancel_reason == "no_show"
    assert waits(clinic)[-1].cause == "no_show"
    with pytest.raises(ForbiddenError):
        clinic.cb.walkins.sweep(clinic.staff, clinic.org.id)


def test_no_show_waits_while_the_practitioner_is_behind(clinic: WalkInClinic) -> None:
    clinic.on_duty(clinic.at()[0])
    first = reserved(clinic.walk_in(clinic.patients[1]))  # 09:00-09:15
    second = reserved(clinic.walk_in(clinic.patients[3]))  # 09:15-09:30
    clinic.cb.lifecycle.start_session(clinic.staff, first.appointment.id)
    clinic.clock.advance(minutes=40)  # the 15-minute session is still running
    result = clinic.cb.walkins.sweep(Actor.system(), clinic.org.id)
    assert result.no_shows == () and result.behind == (clinic.at()[0].id,)
    assert waits(clinic)[-1].cause == "behind_schedule"
    assert waits(clinic)[-1].wait_minutes == 5 + 15  # overrun + the waiting patient
    clinic.cb.lifecycle.complete_session(clinic.staff, first.appointment.id)
    clinic.clock.advance(minutes=15)
    assert clinic.cb.walkins.sweep(Actor.system(), clinic.org.id).no_shows == (second.entry.id,)


# -- wait times across locations ---------------------------------------------------------


def test_wait_times_list_every_location_shortest_first() -> None:
    clinic = make_walkin_clinic(locations=3, practitioners=1, patients=6)
    clinic.clock.set(T0.add(hours=1))
    busy, quiet, empty = clinic.locations
    clinic.on_duty(*clinic.at(busy), location=busy)
    clinic.on_duty(*clinic.at(quiet), location=quiet)
    reserved(clinic.walk_in(clinic.patients[0], location=busy))
    reserved(clinic.walk_in(clinic.patients[1], location=busy))
    reserved(clinic.walk_in(clinic.patients[3], location=quiet))
    rows = clinic.cb.walkins.wait_times(Actor.patient(clinic.patients[5].id), clinic.org.id)
    assert [r.location_id for r in rows] == [quiet.id, busy.id, empty.id]
    assert [r.wait_minutes for r in rows] == [15, 45, None]
    assert [r.accepting for r in rows] == [True, True, False]
    assert [r.queue_length for r in rows] == [1, 2, 0]


# -- who may do what -------------------------------------------------------------------


def test_a_patient_checks_in_only_themselves(clinic: WalkInClinic) -> None:
    clinic.on_duty(clinic.at()[0])
    me, other = clinic.patients[1], clinic.patients[3]
    before = clinic.snapshot()
    with pytest.raises(NotFoundError):
        clinic.walk_in(other, actor=Actor.patient(me.id))
    with pytest.raises(ForbiddenError):
        clinic.walk_in(other, actor=Actor.staff(make_walkin_clinic().loc.id))
    with pytest.raises(ForbiddenError):
        clinic.cb.walkins.on_duty(Actor.patient(me.id), clinic.loc.id, clinic.at()[1].id)
    assert clinic.snapshot() == before
    outcome = reserved(clinic.walk_in(me, actor=Actor.patient(me.id)))
    with pytest.raises(NotFoundError):
        clinic.cb.walkins.leave_queue(Actor.patient(other.id), outcome.entry.id)


# -- idempotency, concurrency, privacy --------------------------------------------------


def test_a_retried_check_in_returns_the_first_answer(clinic: WalkInClinic) -> None:
    clinic.on_duty(clinic.at()[0])
    patient = clinic.patients[1]
    first = reserved(clinic.walk_in(patient, key="app-42", channel=CheckInChannel.APP))
    again = reserved(clinic.walk_in(patient, key="app-42", channel=CheckInChannel.APP))
    assert (again.entry, again.appointment) == (first.entry, first.appointment)
    assert len(clinic.cb.walkins.queue(clinic.staff, clinic.loc.id)) == 1
    with pytest.raises(IdempotencyConflictError):
        clinic.walk_in(patient, key="app-42", channel=CheckInChannel.DESK)


def test_concurrent_walk_ins_never_share_a_practitioners_time() -> None:
    clinic = make_walkin_clinic(practitioners=3, patients=24, wait_limit=120)
    clinic.clock.set(T0.add(hours=1))
    clinic.on_duty(*clinic.at())
    outcomes: list[CheckInOutcome] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(clinic.patients))

    def walk_in(n: int) -> None:
        barrier.wait(timeout=30)
        try:
            outcomes.append(clinic.walk_in(clinic.patients[n]))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=walk_in, args=(n,)) for n in range(len(clinic.patients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    booked = [reserved(o).appointment for o in outcomes if isinstance(o, CheckedIn)]
    refused = [o for o in outcomes if isinstance(o, NoAvailability)]
    assert len(booked) + len(refused) == 24
    assert all(o.reason_code == "wait_limit_exceeded" for o in refused)
    assert {a.practitioner_id for a in booked} == {p.id for p in clinic.at()}
    for practitioner in clinic.at():
        spans = sorted(
            (a.occupied_start, a.occupied_end)
            for a in booked
            if a.practitioner_id == practitioner.id
        )
        assert all(end <= nxt for (_, end), (nxt, _) in itertools.pairwise(spans))
    assert len(clinic.cb.walkins.queue(clinic.staff, clinic.loc.id)) == len(booked)


def test_wait_events_carry_ids_and_minutes_only(clinic: WalkInClinic) -> None:
    clinic.on_duty(clinic.at()[0])
    reserved(clinic.walk_in(clinic.patients[0]))
    event: Event = waits(clinic)[-1]
    payload = set(json.loads(event_to_json(event)))
    assert payload == {
        "type",
        "event_id",
        "occurred_at",
        "correlation_id",
        "organisation_id",
        "location_id",
        "wait_minutes",
        "previous_wait_minutes",
        "queue_length",
        "practitioners_on_duty",
        "cause",
    }


def test_bad_settings_are_refused(clinic: WalkInClinic) -> None:
    with pytest.raises(ValidationError):
        clinic.cb.walkins.configure(
            Actor.admin(), clinic.loc.id, service_id=clinic.service.id, wait_limit=-5
        )
    with pytest.raises(ValidationError):
        clinic.cb.walkins.configure(
            Actor.admin(), clinic.loc.id, service_id=clinic.service.id, colour="blue"
        )
    with pytest.raises(ForbiddenError):
        clinic.cb.walkins.configure(clinic.staff, clinic.loc.id, service_id=clinic.service.id)
    with pytest.raises(NotFoundError):
        clinic.cb.walkins.configure(
            Actor.admin(), clinic.loc.id, service_id=make_walkin_clinic().service.id
        )
