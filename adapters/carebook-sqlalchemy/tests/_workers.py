"""Worker processes for ``test_concurrency.py`` (not a test module: pytest collects nothing here).

The tests start these functions with ``multiprocessing.get_context("spawn")``, so a worker
is a fresh interpreter: it imports this module by name (the test puts this directory on
``sys.path`` before starting processes; spawn hands the parent's ``sys.path`` to the child)
and builds its own Carebook, engine and connections from the database URL. Nothing is
shared with the parent but plain, picklable values.

A worker reports a :class:`Report`: how many attempts ended how, keyed by outcome:
``booked``, or the exception's class name (a carebook error also names its reason code or,
for a refused slot, the constraint in its message). Anything that is not a
:class:`carebook.errors.CarebookError` is reported as ``UNEXPECTED <module>.<class>: ...``.
"""

from __future__ import annotations

import random
import re
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import pendulum

import carebook
from carebook import (
    Actor,
    Carebook,
    CarebookConfig,
    CarebookError,
    LocationId,
    ManualClock,
    OrganisationId,
    PatientId,
    PractitionerId,
    RuleRejectedError,
    ServiceId,
)
from carebook.scheduling import BookAppointment, Patient

__all__ = ["Clinic", "Report", "Workload", "contest"]

SHIFTS_MINUTES = (15, -15, 10, -10, 20, -20, 5, -5)
"""Off-grid offsets for the attempts that must always be refused (the grid is 30 min)."""


@dataclass(frozen=True)
class Clinic:
    """The contested clinic, as the parent process built it."""

    url: str
    now: int
    """The clock every worker uses (epoch seconds)."""
    organisation_id: OrganisationId
    location_id: LocationId
    service_id: ServiceId
    practitioner_ids: tuple[PractitionerId, ...]
    slot_starts: tuple[int, ...]
    """The on-grid starts of each practitioner's working day (epoch seconds)."""
    slot_minutes: int = 30

    @property
    def slots(self) -> list[tuple[PractitionerId, int]]:
        return [(p, s) for p in self.practitioner_ids for s in self.slot_starts]


@dataclass(frozen=True)
class Workload:
    """What one worker does: ``attempts`` bookings, the slots in random order (again and
    again), a share of them moved off the grid."""

    attempts: int
    seed: int
    off_grid_share: float = 0.2
    shared_patients: tuple[PatientId, ...] = ()
    """Book for these patients (shared by all workers); empty: register its own."""


@dataclass
class Report:
    worker: int
    outcomes: dict[str, int] = field(default_factory=dict)
    booked: list[tuple[str, int]] = field(default_factory=list)
    """(practitioner id, start epoch) of every booking this worker won."""
    seconds: float = 0.0
    """Wall time of the contested phase (after the start barrier)."""
    crash: str | None = None


def _outcome(exc: BaseException) -> str:
    if not isinstance(exc, CarebookError):
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"UNEXPECTED {type(exc).__module__}.{type(exc).__qualname__}: {detail[:300]}"
    name = type(exc).__name__
    if isinstance(exc, RuleRejectedError):
        return f"{name}:{exc.reason_code}"
    constraint = re.search(r"\b(ex_\w+|uq_\w+)\b", str(exc))
    return f"{name}:{constraint.group(1)}" if constraint else name


def _plan(
    clinic: Clinic, workload: Workload, rng: random.Random
) -> list[tuple[PractitionerId, int]]:
    slots = clinic.slots
    plan: list[tuple[PractitionerId, int]] = []
    while len(plan) < workload.attempts:
        round_ = list(slots)
        rng.shuffle(round_)
        plan.extend(round_)
    plan = plan[: workload.attempts]
    first, last = clinic.slot_starts[0], clinic.slot_starts[-1]
    for i, (practitioner, start) in enumerate(plan):
        if rng.random() < workload.off_grid_share:
            shift = rng.choice(SHIFTS_MINUTES) * 60
            if not first <= start + shift <= last:  # stay inside the working day
                shift = -shift
            plan[i] = (practitioner, start + shift)
    return plan


def open_carebook(url: str, now: int) -> Carebook:
    """A Carebook of its own on ``url`` (no migration: the parent migrated)."""
    return carebook.bootstrap(
        CarebookConfig(
            storage="sqlalchemy",
            storage_options={"url": url},
            notifiers=(),
            dispatch="manual",
        ),
        clock=ManualClock(pendulum.from_timestamp(now)),
    )


def _own_patients(cb: Carebook, clinic: Clinic, count: int) -> list[PatientId]:
    """Register ``count`` patients of this worker's own, in one transaction."""
    patients = [
        Patient(id=PatientId(uuid.uuid4()), organisation_id=clinic.organisation_id)
        for _ in range(count)
    ]
    with cb.storage.unit_of_work(write=True) as uow:
        for patient in patients:
            uow.patients.save(patient)
        uow.commit()
    return [p.id for p in patients]


def contest(
    index: int, clinic: Clinic, workload: Workload, barrier: Barrier, results: Queue[Report]
) -> None:
    """Process entry point: book ``workload.attempts`` times, report through ``results``."""
    report = Report(worker=index)
    try:
        _contest(index, clinic, workload, barrier, report)
    except BaseException:
        report.crash = traceback.format_exc()
        barrier.abort()  # release the other workers instead of letting them wait
    results.put(report)


def _contest(
    index: int, clinic: Clinic, workload: Workload, barrier: Barrier, report: Report
) -> None:
    rng = random.Random(workload.seed)
    cb = open_carebook(clinic.url, clinic.now)
    try:
        patients = list(workload.shared_patients) or _own_patients(cb, clinic, workload.attempts)
        plan = _plan(clinic, workload, rng)
        staff = Actor.staff(clinic.location_id)
        outcomes: Counter[str] = Counter()
        barrier.wait(timeout=300)
        began = time.perf_counter()
        for n, (practitioner, start) in enumerate(plan):
            patient = patients[n] if not workload.shared_patients else rng.choice(patients)
            command = BookAppointment(
                location_id=clinic.location_id,
                practitioner_id=practitioner,
                patient_id=patient,
                service_ids=(clinic.service_id,),
                start=pendulum.from_timestamp(start),
                idempotency_key=f"worker-{index}-attempt-{n}",
            )
            try:
                booked = cb.booking.book(staff, command)
            except Exception as exc:  # every outcome is counted and checked by the test
                outcomes[_outcome(exc)] += 1
            else:
                outcomes["booked"] += 1
                report.booked.append((str(booked.practitioner_id), start))
        report.seconds = time.perf_counter() - began
        report.outcomes = dict(outcomes)
    finally:
        cb.close()
