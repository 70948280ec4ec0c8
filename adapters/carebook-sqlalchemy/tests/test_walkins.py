"""Walk-ins on SQLite and PostgreSQL: the queue end to end, bad input, and races.

``db_url`` (conftest) is a fresh database per test: a SQLite file, then PostgreSQL.
The clinic is ``carebook.testing.walkin_world`` on the sqlalchemy storage.
"""

from __future__ import annotations

import importlib
import itertools
import multiprocessing
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from carebook import (
    Actor,
    NotFoundError,
    PatientId,
    RuleRejectedError,
)
from carebook.domain.events import WaitTimeChanged
from carebook.domain.instants import to_epoch
from carebook.domain.walkins.queue import CheckedIn, CheckInOutcome, NoAvailability, QueueStatus
from carebook.errors import AlreadyCheckedInError
from carebook.scheduling import Appointment, AppointmentStatus, PatientKind
from carebook.testing.walkin_world import T0, WalkInClinic, make_walkin_clinic
from carebook_sqlalchemy import SqlStorage

TESTS_DIR = Path(__file__).resolve().parent


def open_clinic(url: str, **options: Any) -> WalkInClinic:
    return make_walkin_clinic(
        storage="sqlalchemy", storage_options={"url": url, "migrate": True}, **options
    )


@pytest.fixture
def clinic(db_url: str) -> Iterator[WalkInClinic]:
    clinic = open_clinic(db_url)
    clinic.clock.set(T0.add(hours=1))  # 09:00
    yield clinic
    clinic.cb.close()


def reserved(outcome: CheckInOutcome) -> CheckedIn:
    assert isinstance(outcome, CheckedIn), outcome
    return outcome


def causes(clinic: WalkInClinic) -> list[str]:
    return [e.cause for e in clinic.cb.events.pending(1000) if isinstance(e, WaitTimeChanged)]


def assert_no_shared_time(appointments: list[Appointment]) -> None:
    by_practitioner: dict[object, list[tuple[int, int]]] = {}
    for a in appointments:
        if a.occupies(T0):
            by_practitioner.setdefault(a.practitioner_id, []).append(a.occupied_epochs)
    for spans in by_practitioner.values():
        spans.sort()
        assert all(end <= nxt for (_, end), (nxt, _) in itertools.pairwise(spans))


# -- the queue end to end ------------------------------------------------------------------


def test_a_walk_in_morning_is_stored_and_read_back(clinic: WalkInClinic) -> None:
    first, second = clinic.at()
    clinic.on_duty(first)
    new = reserved(clinic.walk_in(clinic.patients[0]))
    returning = reserved(clinic.walk_in(clinic.patients[1]))
    assert (new.appointment.end - new.appointment.start).in_minutes() == 30
    assert (returning.appointment.end - returning.appointment.start).in_minutes() == 15
    assert returning.wait_minutes == 30
    clinic.on_duty(second)
    clinic.cb.lifecycle.start_session(clinic.staff, new.appointment.id)
    clinic.clock.advance(minutes=35)
    clinic.cb.lifecycle.complete_session(clinic.staff, new.appointment.id)
    left = clinic.cb.walkins.leave_queue(Actor.patient(clinic.patients[1].id), returning.entry.id)
    assert left.status is QueueStatus.LEFT
    assert causes(clinic) == [
        "on_duty",
        "check_in",
        "check_in",
        "on_duty",
        "session_started",
        "session_completed",
        "left_queue",
    ]
    with clinic.cb.storage.unit_of_work() as uow:
        [stats] = uow.walkins.durations([clinic.loc.id])
        assert (stats.kind, stats.mean_seconds) == (PatientKind.NEW, 35 * 60)
        assert uow.walkins.active_entries([clinic.loc.id]) == []
        stored = uow.walkins.get_entry(new.entry.id)
        assert stored is not None and stored.status is QueueStatus.DONE
        patient = uow.patients.get(clinic.patients[0].id)
        assert patient is not None and patient.kind is PatientKind.RETURNING
    [row] = clinic.cb.walkins.wait_times(Actor.admin(), clinic.org.id)
    assert (row.wait_minutes, row.practitioners_on_duty, row.accepting) == (0, 2, True)


def test_a_no_show_is_swept_and_announced(clinic: WalkInClinic) -> None:
    clinic.on_duty(clinic.at()[0])
    outcome = reserved(clinic.walk_in(clinic.patients[1]))
    clinic.clock.advance(minutes=15)
    result = clinic.cb.walkins.sweep(Actor.system(), clinic.org.id)
    assert result.no_shows == (outcome.entry.id,)
    appointment = clinic.cb.queries.get_appointment(Actor.admin(), outcome.appointment.id)
    assert (appointment.status, appointment.cancel_reason) == (
        AppointmentStatus.CANCELLED,
        "no_show",
    )
    assert causes(clinic)[-1] == "no_show"


def test_a_refused_walk_in_changes_nothing_in_the_database(clinic: WalkInClinic) -> None:
    clinic.on_duty(clinic.at()[0])
    for patient in clinic.patients[:3]:  # 30 + 15 + 30 minutes
        reserved(clinic.walk_in(patient))
    before = clinic.snapshot()
    refused = clinic.walk_in(clinic.patients[3])
    assert isinstance(refused, NoAvailability)
    assert (refused.reason_code, refused.wait_minutes) == ("wait_limit_exceeded", 75)
    assert clinic.snapshot() == before


def test_bad_check_ins_are_typed_errors_and_change_nothing(clinic: WalkInClinic) -> None:
    clinic.on_duty(clinic.at()[0])
    reserved(clinic.walk_in(clinic.patients[1]))
    before = clinic.snapshot()
    with pytest.raises(AlreadyCheckedInError):
        clinic.walk_in(clinic.patients[1])
    with pytest.raises(NotFoundError):
        clinic.walk_in(make_walkin_clinic().patients[0])
    annex = clinic.cb.admin.add_location(
        Actor.admin(), organisation_id=clinic.org.id, name="Annex", timezone="Europe/London"
    )
    snapshot_after_set_up = clinic.snapshot()
    with pytest.raises(RuleRejectedError):  # no walk-ins configured there
        clinic.walk_in(clinic.patients[3], location=annex, actor=Actor.admin())
    assert clinic.snapshot() == snapshot_after_set_up
    assert snapshot_after_set_up.entries == before.entries


def test_the_estimate_costs_the_same_statements_whatever_the_history(sqlite_url: str) -> None:
    clinic = open_clinic(sqlite_url, patients=0)
    clinic.clock.set(T0.add(hours=1))
    clinic.on_duty(*clinic.at())
    assert isinstance(clinic.cb.storage, SqlStorage)
    engine = clinic.cb.storage.engine
    counts = []
    for visits in (2, 20):
        for _ in range(visits):
            patient = clinic.new_patient(PatientKind.RETURNING)
            outcome = reserved(clinic.walk_in(patient))
            clinic.clock.set(max(clinic.clock.now(), outcome.appointment.start))
            clinic.cb.lifecycle.start_session(clinic.staff, outcome.appointment.id)
            clinic.clock.advance(minutes=10)
            clinic.cb.lifecycle.complete_session(clinic.staff, outcome.appointment.id)
        with statements(engine) as seen:
            clinic.cb.walkins.wait_times(Actor.admin(), clinic.org.id)
        counts.append(len(seen))
    assert counts[0] == counts[1] <= 8
    clinic.cb.close()


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


# -- races -----------------------------------------------------------------------------------


def _reserved_appointments(clinic: WalkInClinic, patients: list[PatientId]) -> list[Appointment]:
    found: list[Appointment] = []
    for patient in patients:
        found += clinic.cb.queries.patient_appointments(Actor.system(), patient)
    return found


def test_concurrent_walk_ins_in_threads_never_share_a_practitioners_time(db_url: str) -> None:
    clinic = open_clinic(db_url, practitioners=3, patients=18, wait_limit=120)
    clinic.clock.set(T0.add(hours=1))
    clinic.on_duty(*clinic.at())
    outcomes: list[str] = []
    barrier = threading.Barrier(len(clinic.patients))

    def walk_in(n: int) -> None:
        barrier.wait(timeout=60)
        try:
            result = clinic.walk_in(clinic.patients[n])
            outcomes.append("reserved" if isinstance(result, CheckedIn) else result.reason_code)
        except Exception as exc:  # counted and checked below
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=walk_in, args=(n,)) for n in range(len(clinic.patients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert set(outcomes) <= {"reserved", "wait_limit_exceeded"}, outcomes
    appointments = _reserved_appointments(clinic, [p.id for p in clinic.patients])
    assert len(appointments) == outcomes.count("reserved") >= 3
    assert_no_shared_time(appointments)
    queue = clinic.cb.walkins.queue(clinic.staff, clinic.loc.id)
    assert {e.appointment_id for e in queue} == {a.id for a in appointments}
    clinic.cb.close()


def test_concurrent_walk_ins_in_processes_never_share_a_practitioners_time(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    workers_count, each = 4, 6
    clinic = open_clinic(db_url, practitioners=3, patients=workers_count * each, wait_limit=120)
    clinic.clock.set(T0.add(hours=1))
    clinic.on_duty(*clinic.at())
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    workers = importlib.import_module("_walkin_workers")
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers_count)
    results: Any = ctx.Queue()
    patient_ids = [p.id for p in clinic.patients]
    processes = [
        ctx.Process(
            target=workers.walk_in,
            args=(
                n,
                db_url,
                to_epoch(clinic.clock.now()),
                clinic.loc.id,
                patient_ids[n * each : (n + 1) * each],
                barrier,
                results,
            ),
            daemon=True,
        )
        for n in range(workers_count)
    ]
    for process in processes:
        process.start()
    try:
        reports = [results.get(timeout=300) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():  # only our own children, by their handle
                process.terminate()
                process.join(timeout=10)
    crashes = [crash for _, _, crash in reports if crash]
    assert not crashes, "\n".join(crashes)
    outcomes = [o for _, found, _ in reports for o in found]
    assert len(outcomes) == workers_count * each
    assert set(outcomes) <= {"reserved", "wait_limit_exceeded"}, outcomes
    appointments = _reserved_appointments(clinic, patient_ids)
    assert len(appointments) == outcomes.count("reserved") >= 3
    assert_no_shared_time(appointments)
    queue = clinic.cb.walkins.queue(clinic.staff, clinic.loc.id)
    assert len(queue) == len(appointments)
    clinic.cb.close()
