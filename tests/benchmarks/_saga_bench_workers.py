"""Client processes for the saga benchmarks (``test_bench_saga.py``).

The same plans, results, slots and phases as the booking workers of
:mod:`_bench_workers` (imported from there, by module name, for the reason its docstring
gives): each worker books its own practitioners' slots, but through the whole booking
saga (request, authorise, capture, confirm) with its own simulated payment gateway, and
counts a saga when it is ``confirmed``.
"""

from __future__ import annotations

import traceback
import uuid
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import TYPE_CHECKING

import pendulum

from carebook import Actor, CarebookConfig, bootstrap
from carebook.builtin.clocks import ManualClock
from carebook.builtin.payments import SimulatedPaymentGateway
from carebook.errors import CarebookError
from carebook.payments import RequestBooking, SagaStatus

if TYPE_CHECKING:
    from tests.benchmarks._bench_workers import (
        BookingPlan,
        WorkerResult,
        plan_slots,
        run_phases,
        sql_engine,
    )
else:
    from _bench_workers import (
        BookingPlan,
        WorkerResult,
        plan_slots,
        run_phases,
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
    slots = plan_slots(plan)
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
        run_phases(plan, barrier, result, saga_next, sql_engine(cb))
    finally:
        cb.close()
