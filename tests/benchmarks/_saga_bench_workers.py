"""Client processes for the saga benchmarks (``test_bench_saga.py``).

The same plans, results, slots and phases as the booking workers of
:mod:`_bench_workers` (imported from there, by module name, for the reason its docstring
gives): each worker books its own practitioners' slots, but through the whole booking
saga (request, authorise, capture, confirm) with its own simulated payment gateway, and
counts a saga when it is ``confirmed``.
"""

from __future__ import annotations

import cProfile
import pstats
import time
import traceback
import uuid
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import TYPE_CHECKING, Any

import pendulum

from carebook import Actor, CarebookConfig, RequestBooking, SagaStatus, bootstrap
from carebook.builtin.clocks import ManualClock
from carebook.builtin.payments import SimulatedPaymentGateway
from carebook.errors import CarebookError

if TYPE_CHECKING:
    from tests.benchmarks._bench_workers import (
        BARRIER_TIMEOUT,
        BookingPlan,
        WorkerResult,
        _cpu_ticks,
        _slots,
        profile_text,
        sql_engine,
    )
else:
    from _bench_workers import (
        BARRIER_TIMEOUT,
        BookingPlan,
        WorkerResult,
        _cpu_ticks,
        _slots,
        profile_text,
        sql_engine,
    )

__all__ = ["saga_worker"]


def saga_worker(plan: BookingPlan, barrier: Barrier, results: Queue[WorkerResult]) -> None:
    """Warm up, wait for everyone, run sagas for ``plan.seconds``; then a profiled phase."""
    result = WorkerResult(plan.index)
    try:
        _run(plan, barrier, result)
    except BaseException:
        result.error = traceback.format_exc()
        barrier.abort()
    results.put(result)


def _run(plan: BookingPlan, barrier: Barrier, result: WorkerResult) -> None:
    now = pendulum.parse(plan.now)
    assert isinstance(now, pendulum.DateTime)
    config = CarebookConfig(
        storage="sqlalchemy", storage_options={"url": plan.url}, notifiers=(), dispatch="manual"
    )
    gateway = SimulatedPaymentGateway(id_prefix=f"pi_bench{plan.index}_")  # unique ids
    cb = bootstrap(config, clock=ManualClock(now), payment_gateway=gateway)
    staff = Actor.staff(plan.location_id, ref=f"bench-{plan.index}")
    slots = _slots(plan)
    made = 0

    def saga_next() -> bool:
        nonlocal made
        practitioner, patient, start = next(slots)
        made += 1
        command = RequestBooking(
            location_id=plan.location_id,
            practitioner_id=practitioner,
            patient_id=patient,
            service_ids=(plan.service_id,),
            start=start,
            idempotency_key=f"saga-{plan.index}-{made}-{uuid.uuid4().hex[:8]}",
        )
        try:
            saga = cb.sagas.request(staff, command, advance=True)  # paid within the call
        except CarebookError as exc:
            failure = f"{type(exc).__name__}: {exc}"
        else:
            if saga.status is SagaStatus.CONFIRMED:
                return True
            failure = f"saga ended {saga.status.value}: {saga.failure_reason}"
        result.failed += 1
        if len(result.failures) < 5:
            result.failures.append(failure)
        return False

    try:
        for _ in range(plan.warmup):
            saga_next()
        result.failed = 0
        result.failures.clear()
        barrier.wait(BARRIER_TIMEOUT)

        busy0, total0 = _cpu_ticks()
        cpu0 = time.process_time()
        result.started = time.monotonic()
        deadline = result.started + plan.seconds
        while True:
            begin = time.perf_counter()
            ok = saga_next()
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
        engine = sql_engine(cb)
        if profile is not None and engine is not None:
            from sqlalchemy import event

            def count(*_: Any) -> None:
                statements[0] += 1

            event.listen(engine, "before_cursor_execute", count)
        deadline = time.monotonic() + plan.profile_seconds
        if profile is not None:
            profile.enable()
        while time.monotonic() < deadline:
            if saga_next():
                result.profile_bookings += 1
        if profile is not None:
            profile.disable()
            result.profile = profile_text(profile)
            result.profile_own = profile_text(profile, 10, pstats.SortKey.TIME)
            result.statements = statements[0]
    finally:
        cb.close()
