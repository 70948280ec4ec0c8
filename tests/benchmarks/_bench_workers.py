"""Client processes for the storage benchmarks (``test_bench_storage.py``).

Started with the ``spawn`` start method, so each child is a fresh interpreter that
unpickles its target by module name. ``spawn`` gives the child the parent's
``sys.path`` before it unpickles anything, and under pytest's default (prepend) import
mode the parent has this folder on ``sys.path`` (it is how ``conftest`` and this module
are imported), so ``_bench_workers`` resolves in the child too.

Each worker bootstraps its own Carebook on the shared PostgreSQL database, books slots
that belong to its own practitioners and patients only (so no two workers ever compete
for a slot), and reports what it did through a queue.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

import pendulum

from carebook import (
    Actor,
    Carebook,
    CarebookConfig,
    bootstrap,
)
from carebook.builtin.clocks import ManualClock
from carebook.domain.ids import LocationId, PatientId, PractitionerId, ServiceId
from carebook.errors import CarebookError
from carebook.scheduling import BookAppointment

__all__ = [
    "BARRIER_TIMEOUT",
    "BookingPlan",
    "WorkerResult",
    "booking_worker",
    "profile_text",
    "raw_sql_worker",
    "run_phases",
    "sql_engine",
]

BARRIER_TIMEOUT = 180.0
"""Seconds a worker waits for the others at a barrier before giving up."""


@dataclass(frozen=True)
class BookingPlan:
    """What one worker books: its own practitioners, each paired with its own patient."""

    index: int
    url: str
    now: str  # ISO 8601, UTC
    location_id: LocationId
    service_id: ServiceId
    practitioner_ids: tuple[PractitionerId, ...]
    patient_ids: tuple[PatientId, ...]
    slot_minutes: int
    warmup: int
    seconds: float
    profile_seconds: float
    profile: bool


@dataclass
class WorkerResult:
    index: int
    booked: int = 0
    failed: int = 0
    started: float = 0.0  # time.monotonic() (system-wide on Linux) at the measured start
    finished: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time in the measured phase
    system_busy: float = -1.0  # share of all CPUs busy in the measured phase (Linux), or -1
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    profile: str = ""
    profile_own: str = ""
    profile_bookings: int = 0
    statements: int = 0
    error: str = ""


def sql_engine(cb: Carebook) -> Any:
    """The SQLAlchemy engine behind ``cb``'s storage, or None for other storages."""
    return getattr(cb.storage, "engine", None)


def profile_text(
    profile: cProfile.Profile, top: int = 15, key: pstats.SortKey = pstats.SortKey.CUMULATIVE
) -> str:
    """The ``top`` functions by ``key`` (cumulative time by default), paths shortened."""
    buffer = io.StringIO()
    stats = pstats.Stats(profile, stream=buffer)
    stats.sort_stats(key).print_stats(top)
    lines = []
    for line in buffer.getvalue().splitlines():
        if not line.strip() or line.lstrip().startswith(("Ordered by", "List reduced")):
            continue
        for marker in ("/site-packages/", "/src/", "/tests/", "/lib/python3.11/"):
            head, sep, tail = line.rpartition(marker)
            if sep:
                start = head.rfind(" ") + 1
                line = head[:start] + tail
                break
        lines.append(line.rstrip())
    return "\n".join(lines)


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs from /proc/stat; (0, 0) where there is none."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def plan_slots(plan: BookingPlan) -> Iterator[tuple[PractitionerId, PatientId, pendulum.DateTime]]:
    """Back-to-back slots from the day after ``now``: practitioner k with patient k, so
    neither a practitioner nor a patient is ever booked twice at one time."""
    now = pendulum.parse(plan.now)
    assert isinstance(now, pendulum.DateTime)
    first = now.start_of("day").add(days=1)
    per_day = 24 * 60 // plan.slot_minutes
    day = 0
    while True:
        base = first.add(days=day)
        for n in range(per_day):
            start = base.add(minutes=n * plan.slot_minutes)
            for practitioner, patient in zip(plan.practitioner_ids, plan.patient_ids, strict=True):
                yield practitioner, patient, start
        day += 1


def booking_worker(plan: BookingPlan, barrier: Barrier, results: Queue[WorkerResult]) -> None:
    """Warm up, wait for everyone, book for ``plan.seconds``; then a profiled phase."""
    result = WorkerResult(plan.index)
    try:
        _run(plan, barrier, result)
    except BaseException:
        result.error = traceback.format_exc()
        barrier.abort()  # release the others instead of letting them time out
    results.put(result)


def _run(plan: BookingPlan, barrier: Barrier, result: WorkerResult) -> None:
    now = pendulum.parse(plan.now)
    assert isinstance(now, pendulum.DateTime)
    config = CarebookConfig(
        storage="sqlalchemy", storage_options={"url": plan.url}, notifiers=(), dispatch="manual"
    )
    cb = bootstrap(config, clock=ManualClock(now))
    staff = Actor.staff(plan.location_id, ref=f"bench-{plan.index}")
    slots = plan_slots(plan)
    made = 0

    def book_next() -> bool:
        nonlocal made
        practitioner, patient, start = next(slots)
        made += 1
        command = BookAppointment(
            location_id=plan.location_id,
            practitioner_id=practitioner,
            patient_id=patient,
            service_ids=(plan.service_id,),
            start=start,
            idempotency_key=f"bench-{plan.index}-{made}-{uuid.uuid4().hex[:8]}",
        )
        try:
            cb.booking.book(staff, command)
        except CarebookError as exc:
            result.failed += 1
            if len(result.failures) < 5:
                result.failures.append(f"{type(exc).__name__}: {exc}")
            return False
        return True

    try:
        run_phases(plan, barrier, result, book_next, sql_engine(cb))
    finally:
        cb.close()


def run_phases(
    plan: BookingPlan,
    barrier: Barrier,
    result: WorkerResult,
    attempt: Callable[[], bool],
    engine: Any,
) -> None:
    """The phases every worker runs: ``plan.warmup`` attempts, the barrier, attempts for
    ``plan.seconds`` (measured), the barrier, then ``plan.profile_seconds`` more, under
    cProfile in the ``plan.profile`` worker (with its SQL statements counted on
    ``engine``), so the profiled one runs under the same contention as the others."""
    for _ in range(plan.warmup):
        attempt()
    result.failed = 0
    result.failures.clear()
    barrier.wait(BARRIER_TIMEOUT)

    busy0, total0 = _cpu_ticks()
    cpu0 = time.process_time()
    result.started = time.monotonic()
    deadline = result.started + plan.seconds
    while True:
        begin = time.perf_counter()
        ok = attempt()
        end = time.monotonic()
        if ok:
            result.booked += 1
            result.latencies.append(time.perf_counter() - begin)
        if end >= deadline:
            break
    result.finished = time.monotonic()
    result.cpu_seconds = time.process_time() - cpu0
    busy1, total1 = _cpu_ticks()
    if total1 > total0:
        result.system_busy = (busy1 - busy0) / (total1 - total0)
    barrier.wait(BARRIER_TIMEOUT)

    profile = cProfile.Profile() if plan.profile else None
    statements = [0]
    if profile is not None and engine is not None:
        from sqlalchemy import event

        def count(*_: Any) -> None:
            statements[0] += 1

        event.listen(engine, "before_cursor_execute", count)
    deadline = time.monotonic() + plan.profile_seconds
    if profile is not None:
        profile.enable()
    while time.monotonic() < deadline:
        if attempt():
            result.profile_bookings += 1
    if profile is not None:
        profile.disable()
        result.profile = profile_text(profile)
        result.profile_own = profile_text(profile, 10, pstats.SortKey.TIME)
        result.statements = statements[0]


_RAW_BOOKING_SQL = (
    "SELECT data FROM appointments WHERE idempotency_key = %(key)s",
    "SELECT patients.data, organisations.calendar_version FROM patients "
    "JOIN organisations ON organisations.id = patients.organisation_id "
    "WHERE patients.id = %(patient)s",
    "SELECT 'practitioner', practitioner_id::text, occupied_start, occupied_end, id::text, "
    "hold_expires_at FROM appointments WHERE practitioner_id = ANY(%(practitioners)s) "
    "AND occupied_end > %(start)s AND occupied_start < %(end)s AND blocks_time "
    "UNION ALL SELECT 'patient', patient_id::text, occupied_start, occupied_end, id::text, "
    "hold_expires_at FROM appointments WHERE patient_id = ANY(%(patients)s) "
    "AND occupied_end > %(start)s AND occupied_start < %(end)s AND blocks_time",
    "INSERT INTO appointments (id, organisation_id, location_id, practitioner_id, "
    "patient_id, status, start_at, occupied_start, occupied_end, hold_expires_at, "
    "blocks_time, idempotency_key, version, data) VALUES (%(id)s, %(organisation)s, "
    "%(location)s, %(practitioner)s, %(patient)s, 'booked', %(start)s, %(start)s, "
    "%(end)s, NULL, true, %(key)s, 1, %(data)s)",
    "INSERT INTO outbox (event_id, correlation_id, type, occurred_at, payload, "
    "dispatched_at) VALUES (%(event)s, %(correlation)s, 'AppointmentBooked', %(now)s, "
    "%(payload)s, NULL)",
)
"""The statements one booking sends on PostgreSQL (see adapters' test_queries), as plain
SQL for the floor measurement: what any client must at least pay for that round trip
pattern, with no library code around it."""


def raw_sql_worker(plan: BookingPlan, barrier: Barrier, results: Queue[WorkerResult]) -> None:
    """Replay a booking's statements with psycopg alone for ``plan.seconds``: the floor
    a Python client of this schema cannot beat on this machine."""
    import psycopg

    result = WorkerResult(plan.index)
    try:
        dsn = plan.url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(dsn) as conn:
            organisation = conn.execute(
                "SELECT organisation_id FROM locations WHERE id = %s", (plan.location_id,)
            ).fetchone()
            assert organisation is not None
            data = "x" * 700  # about the size of a stored appointment document
            payload = "y" * 400  # and of an outbox event
            slots = plan_slots(plan)
            barrier.wait(BARRIER_TIMEOUT)
            cpu0 = time.process_time()
            result.started = time.monotonic()
            deadline = result.started + plan.seconds
            while time.monotonic() < deadline:
                practitioner, patient, start = next(slots)
                begin = int(start.timestamp())
                params = {
                    "key": f"raw-{uuid.uuid4().hex}",
                    "patient": patient,
                    "patients": [patient],
                    "practitioner": practitioner,
                    "practitioners": [practitioner],
                    "start": begin,
                    "end": begin + plan.slot_minutes * 60,
                    "id": uuid.uuid4(),
                    "organisation": organisation[0],
                    "location": plan.location_id,
                    "data": data,
                    "event": uuid.uuid4(),
                    "correlation": uuid.uuid4().hex,
                    "now": begin,
                    "payload": payload,
                }
                with conn.transaction():
                    for sql in _RAW_BOOKING_SQL:
                        cursor = conn.execute(sql, params)
                        if cursor.description is not None:
                            cursor.fetchall()
                result.booked += 1
            result.finished = time.monotonic()
            result.cpu_seconds = time.process_time() - cpu0
    except BaseException:
        result.error = traceback.format_exc()
        barrier.abort()
    results.put(result)
