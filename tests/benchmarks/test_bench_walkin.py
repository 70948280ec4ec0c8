"""Walk-ins with the memory storage: check-ins per second at one busy location, and the
cost of one wait-estimate update with 200 people queued across 20 locations.

- ``walkin_checkin``: 200 returning walk-ins checked in one after another at one
  location with 10 practitioners on duty (each a search, the booking path, a queue entry
  and an announced estimate). Baseline: booking the very same slots through ``cb.booking.book``.
- ``walkin_checkin_wait_update_200q_20loc``: recomputing and announcing one location's estimate
  (what every queue change does), with 10,000 past visits stored. Baseline: the same
  queues with 200 past visits; the ratio must stay near 1 (the update reads the queue,
  not the history).
"""

from __future__ import annotations

import time
import uuid

import pendulum
import pytest

from carebook import Actor
from carebook.domain.events import EventStamp
from carebook.domain.walkins.queue import CheckedIn, QueueEntry, QueueEntryId, QueueStatus
from carebook.domain.walkins.waittime import DurationStats
from carebook.scheduling import AppointmentStatus, BookAppointment, PatientKind
from carebook.services.walkins import queue as walkin_queue
from carebook.testing import builders
from carebook.testing.bench import bench_line, median_seconds
from carebook.testing.walkin_world import T0, WalkInClinic, make_walkin_clinic

CHECK_INS = 200
FAST_POLICY = {"min_notice": 0, "slot_interval": 5}


def _busy_clinic() -> WalkInClinic:
    clinic = make_walkin_clinic(practitioners=10, patients=0, wait_limit=1440, policy=FAST_POLICY)
    for _ in range(CHECK_INS):
        clinic.new_patient(PatientKind.RETURNING)
    clinic.clock.set(T0.add(hours=1))
    clinic.on_duty(*clinic.at())
    return clinic


def _check_in_all(clinic: WalkInClinic) -> tuple[float, list[tuple[int, pendulum.DateTime]]]:
    """Check every patient in; the seconds taken and each reservation's (practitioner
    index, start)."""
    index = {p.id: n for n, p in enumerate(clinic.at())}
    began = time.perf_counter()
    outcomes = [clinic.walk_in(patient) for patient in clinic.patients]
    seconds = time.perf_counter() - began
    slots = []
    for outcome in outcomes:
        assert isinstance(outcome, CheckedIn)
        slots.append((index[outcome.appointment.practitioner_id], outcome.appointment.start))
    return seconds, slots


def _book_all(clinic: WalkInClinic, slots: list[tuple[int, pendulum.DateTime]]) -> float:
    """Book the same slots for the same number of patients through ``cb.booking.book``."""
    team = clinic.at()
    commands = [
        BookAppointment(
            location_id=clinic.loc.id,
            practitioner_id=team[practitioner].id,
            patient_id=patient.id,
            service_ids=[clinic.service.id],
            start=start,
            idempotency_key=f"bench-{patient.id}",
        )
        for patient, (practitioner, start) in zip(clinic.patients, slots, strict=True)
    ]
    began = time.perf_counter()
    for command in commands:
        clinic.cb.booking.book(clinic.staff, command)
    return time.perf_counter() - began


def test_bench_walkin_checkin_one_busy_location() -> None:
    walk_in_times, book_times = [], []
    for _ in range(3):
        seconds, slots = _check_in_all(_busy_clinic())
        walk_in_times.append(seconds)
        baseline = _busy_clinic()
        book_times.append(_book_all(baseline, slots))
        assert len(baseline.snapshot().appointments) == CHECK_INS
    walk_in = sorted(walk_in_times)[1]
    book = sorted(book_times)[1]
    rate, book_rate = CHECK_INS / walk_in, CHECK_INS / book
    bench_line("walkin_checkin", rate, "checkins/s", "book_same_slots", rate / book_rate)
    print(f"  check-ins={CHECK_INS} book_rate={book_rate:.1f}/s")
    assert rate >= 50, f"only {rate:.1f} check-ins per second"


def _queued_network(history: int) -> tuple[WalkInClinic, list[QueueEntry]]:
    """20 locations, 3 practitioners each on duty, 10 patients queued at each, and
    ``history`` completed visits stored before today."""
    clinic = make_walkin_clinic(
        locations=20, practitioners=3, patients=0, wait_limit=1440, policy=FAST_POLICY
    )
    clinic.clock.set(T0.add(hours=1))
    for location in clinic.locations:
        clinic.on_duty(*clinic.at(location), location=location)
        for _ in range(10):
            patient = clinic.new_patient(PatientKind.RETURNING)
            assert isinstance(clinic.walk_in(patient, location=location), CheckedIn)
    _store_history(clinic, history)
    with clinic.cb.storage.unit_of_work() as uow:
        queued = uow.walkins.active_entries([loc.id for loc in clinic.locations])
    assert len(queued) == 200
    return clinic, queued


def _store_history(clinic: WalkInClinic, visits: int) -> None:
    """``visits`` fulfilled appointments with done queue entries, on past days."""
    with clinic.cb.storage.unit_of_work(write=True) as uow:
        for n in range(visits):
            patient = builders.patient(clinic.org, kind=PatientKind.RETURNING)
            uow.patients.save(patient)
            location = clinic.locations[n % len(clinic.locations)]
            practitioner = clinic.at(location)[n % 3]
            start = T0.subtract(days=1 + n // 1000, minutes=15 * (n % 1000) + 15)
            appointment = builders.appointment(
                location=location,
                practitioner=practitioner,
                patient=patient,
                services=[clinic.service],
                start=start,
                status=AppointmentStatus.FULFILLED,
            )
            uow.appointments.add(appointment, now=T0)
            uow.walkins.add_entry(
                QueueEntry(
                    id=QueueEntryId(uuid.uuid4()),
                    organisation_id=clinic.org.id,
                    location_id=location.id,
                    patient_id=patient.id,
                    appointment_id=appointment.id,
                    practitioner_id=practitioner.id,
                    kind=PatientKind.RETURNING,
                    channel="desk",
                    walk_in=True,
                    status=QueueStatus.DONE,
                    checked_in_at=start,
                    reserved_start=start,
                    reserved_end=appointment.end,
                    started_at=start,
                    ended_at=appointment.end,
                )
            )
        for location in clinic.locations:
            uow.walkins.save_durations(
                DurationStats(
                    location_id=location.id,
                    kind=PatientKind.RETURNING,
                    samples=max(1, visits // 20),
                    mean_seconds=14 * 60,
                )
            )
        uow.commit()


def _update_seconds(clinic: WalkInClinic) -> float:
    """Median time of one estimate update (recompute and announce), rolled back."""
    with clinic.cb.storage.unit_of_work() as uow:
        settings = uow.walkins.settings_for(clinic.org.id)
    stamp = EventStamp(clinic.clock.now(), "bench", uuid.uuid4)
    turn = iter(range(10**9))

    def update() -> None:
        chosen = settings[next(turn) % len(settings)]
        with clinic.cb.storage.unit_of_work(write=True) as uow:
            estimate, events = walkin_queue.publish(uow, stamp, chosen, "bench")
            assert events and estimate.waiting + estimate.in_session == 10

    return median_seconds(update, repeat=201, warmup=20)


@pytest.fixture(scope="module")
def networks() -> tuple[WalkInClinic, WalkInClinic]:
    return _queued_network(10_000)[0], _queued_network(200)[0]


def test_bench_walkin_wait_update_does_not_grow_with_history(
    networks: tuple[WalkInClinic, WalkInClinic],
) -> None:
    long_history, short_history = networks
    long_seconds = _update_seconds(long_history)
    short_seconds = _update_seconds(short_history)
    ratio = long_seconds / short_seconds
    bench_line(
        "walkin_checkin_wait_update_200q_20loc",
        long_seconds * 1e6,
        "us",
        "same_queues_short_history",
        ratio,
    )
    everything = median_seconds(
        lambda: long_history.cb.walkins.wait_times(Actor.admin(), long_history.org.id), repeat=51
    )
    print(f"  history=10000 visits; all 20 estimates (wait_times) {everything * 1000:.2f} ms")
    assert ratio < 1.5, "an estimate update must not grow with the history"
