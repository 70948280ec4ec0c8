"""Booking processes for the dispatch-lag benchmark (``test_bench_dispatch.py``).

Started with the ``spawn`` start method, so each child is a fresh interpreter that
imports this module by name (see ``_bench_workers`` for why that resolves). Each one
bootstraps its own Carebook on the benchmark's PostgreSQL database with the real system
clock and ``dispatch="manual"`` (the worker processes deliver), books slots of its own
practitioners and patients only (no two processes ever compete for a slot), and paces
itself: the n-th booking is due at ``start_at + n / rate`` (open loop; a process that
falls behind books at once until it has caught up, and says how far behind it fell).

It reports, for every measured booking, the appointment id and the wall-clock time
(``time.time()``) at which ``cb.booking.book`` returned, that is just after its commit.
"""

from __future__ import annotations

import time
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import pendulum

from carebook import (
    Actor,
    CarebookConfig,
    LocationId,
    PatientId,
    PractitionerId,
    ServiceId,
    bootstrap,
)
from carebook.scheduling import BookAppointment

__all__ = ["BARRIER_TIMEOUT", "PacedPlan", "PacedResult", "paced_booker"]

BARRIER_TIMEOUT = 120.0


@dataclass(frozen=True)
class PacedPlan:
    """What one booking process does in one phase."""

    index: int
    phase: str
    url: str
    location_id: LocationId
    service_id: ServiceId
    practitioner_ids: tuple[PractitionerId, ...]
    patient_ids: tuple[PatientId, ...]
    first_day: int
    """Epoch seconds of the first day (midnight UTC) this process books into."""
    slot_minutes: int
    rate: float
    """Bookings a second this process offers."""
    seconds: float
    warmup: int


@dataclass
class PacedResult:
    index: int
    commits: list[tuple[str, float]] = field(default_factory=list)
    """(appointment id, epoch seconds just after the commit) of each measured booking."""
    started: float = 0.0  # time.time() at the measured start
    finished: float = 0.0
    behind: float = 0.0  # the most seconds a booking started after its due time
    cpu_seconds: float = 0.0
    error: str = ""


def _slots(plan: PacedPlan) -> Iterator[tuple[PractitionerId, PatientId, pendulum.DateTime]]:
    """Back-to-back slots from ``first_day``: practitioner k with patient k."""
    start = plan.first_day
    while True:
        moment = pendulum.from_timestamp(start)
        for practitioner, patient in zip(plan.practitioner_ids, plan.patient_ids, strict=True):
            yield practitioner, patient, moment
        start += plan.slot_minutes * 60


def paced_booker(plan: PacedPlan, barrier: Barrier, results: Queue[PacedResult]) -> None:
    """Warm up, wait for everyone, then book at ``plan.rate`` for ``plan.seconds``."""
    result = PacedResult(plan.index)
    try:
        _run(plan, barrier, result)
    except BaseException:
        result.error = traceback.format_exc()
        barrier.abort()  # release the others instead of letting them time out
    results.put(result)


def _run(plan: PacedPlan, barrier: Barrier, result: PacedResult) -> None:
    cb = bootstrap(
        CarebookConfig(
            storage="sqlalchemy",
            storage_options={"url": plan.url},
            notifiers=(),
            dispatch="manual",
        )
    )
    staff = Actor.staff(plan.location_id, ref=f"bench-{plan.index}")
    slots = _slots(plan)
    made = 0

    def book() -> str:
        nonlocal made
        practitioner, patient, start = next(slots)
        made += 1
        appointment = cb.booking.book(
            staff,
            BookAppointment(
                location_id=plan.location_id,
                practitioner_id=practitioner,
                patient_id=patient,
                service_ids=(plan.service_id,),
                start=start,
                idempotency_key=f"lag-{plan.phase}-{plan.index}-{made}-{uuid.uuid4().hex[:8]}",
            ),
        )
        return str(appointment.id)

    try:
        for _ in range(plan.warmup):
            book()
        barrier.wait(BARRIER_TIMEOUT)
        cpu0 = time.process_time()
        result.started = time.time()
        began = time.monotonic()
        period = 1.0 / plan.rate
        n = 0
        while True:
            due = began + n * period
            if due - began >= plan.seconds:
                break
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            else:
                result.behind = max(result.behind, -wait)
            appointment_id = book()
            result.commits.append((appointment_id, time.time()))
            n += 1
        result.finished = time.time()
        result.cpu_seconds = time.process_time() - cpu0
    finally:
        cb.close()
