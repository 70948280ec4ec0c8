"""Booking-saga benchmarks (issue 4, "Performance").

- ``saga_tps_pg``: complete sagas per second (request, authorise, capture, confirm) on
  PostgreSQL with the simulated gateway, 8 client processes on non-conflicting slots.
  Baseline: ``booking_tps_pg_8proc`` (plain bookings, the storage benchmark's workers and
  clinic), measured in the same run. Target ratio >= 0.3 (reported, not asserted).
- ``saga_tps_sqlite``: the same with one process on a SQLite file, against plain
  bookings on SQLite in the same run.

A saga writes three transactions where a booking writes one (the request with its hold,
price and quota; the confirmation with the payment's result; the gateway calls between
them), so about a third of the booking rate is what the design allows. The plans, the
clinic, the worker protocol and the databases are those of ``test_bench_storage.py``.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from carebook.testing.bench import bench_line

if TYPE_CHECKING:
    from tests.benchmarks._bench_workers import BookingPlan, WorkerResult
    from tests.benchmarks._saga_bench_workers import saga_worker
    from tests.benchmarks.test_bench_storage import (
        CLIENTS,
        booking_plans,
        detail,
        pg_admin_url,
        render_url,
        run_workers,
        scratch_database,
    )
else:  # imported by module name, as the spawned workers import them
    from _bench_workers import BookingPlan, WorkerResult
    from _saga_bench_workers import saga_worker
    from test_bench_storage import (
        CLIENTS,
        booking_plans,
        detail,
        pg_admin_url,
        render_url,
        run_workers,
        scratch_database,
    )

__all__ = ["pg_admin_url"]  # the fixture, shared with the storage benchmarks

TARGET = 0.3


def _count(url: str, sql: str) -> int:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql(sql).scalar() or 0)
    finally:
        engine.dispose()


def _tps(results: list[WorkerResult]) -> float:
    errors = [f"worker {r.index}:\n{r.error}" for r in results if r.error]
    assert not errors, "\n".join(errors)
    wall = max(r.finished for r in results) - min(r.started for r in results)
    return sum(r.booked for r in results) / wall


def _report(results: list[WorkerResult], stored: int, warmup: int) -> None:
    latencies = sorted(x for r in results for x in r.latencies)
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[int(0.95 * (len(latencies) - 1))] * 1000
    done = sum(r.booked for r in results)
    cpu_ms = sum(r.cpu_seconds for r in results) / max(1, done) * 1000
    detail(
        f"sagas={done} failed={sum(r.failed for r in results)} processes={len(results)} "
        f"latency_ms p50={p50:.2f} p95={p95:.2f}; client CPU per saga {cpu_ms:.2f} ms"
    )
    for r in results:
        for failure in r.failures:
            detail(f"worker {r.index} failure: {failure}")
    profiled = [r for r in results if r.profile]
    if profiled:
        per_saga = profiled[0].statements / max(1, profiled[0].profile_bookings)
        detail(f"{per_saga:.1f} SQL statements per saga; cProfile, top 15 by cumulative time:")
        detail(profiled[0].profile)
    # Correctness only: every saga confirmed, every one stored.
    assert sum(r.failed for r in results) == 0, "workers own disjoint slots: no saga may fail"
    total = sum(r.booked + r.profile_bookings for r in results) + len(results) * warmup
    assert stored == total


def test_bench_saga_tps_pg(pg_admin_url: URL) -> None:
    with scratch_database(pg_admin_url) as db:
        url = render_url(db)
        baseline = _tps(run_workers(booking_plans(url)))
    with scratch_database(pg_admin_url) as db:
        url = render_url(db)
        plans = booking_plans(url)
        results = run_workers(plans, saga_worker)
        tps = _tps(results)
        stored = _count(url, "SELECT count(*) FROM booking_sagas WHERE status = 'confirmed'")
    ratio = tps / baseline
    bench_line("saga_tps_pg", tps, "tps", "booking_tps_pg_8proc", ratio)
    detail(
        f"booking_tps_pg_8proc={baseline:.1f} (same run) target_ratio>={TARGET} "
        f"{'met' if ratio >= TARGET else 'NOT met'}; cpus={os.cpu_count()} clients={CLIENTS}"
    )
    _report(results, stored, plans[0].warmup)


def _single(plan: BookingPlan) -> list[BookingPlan]:
    return [dataclasses.replace(plan, profile=False)]


def test_bench_saga_tps_sqlite(tmp_path: Path) -> None:
    started = time.perf_counter()
    booking_url = f"sqlite:///{tmp_path / 'bookings.db'}"
    baseline = _tps(run_workers(_single(booking_plans(booking_url)[0])))
    saga_url = f"sqlite:///{tmp_path / 'sagas.db'}"
    plans = _single(booking_plans(saga_url)[0])
    results = run_workers(plans, saga_worker)
    tps = _tps(results)
    stored = _count(saga_url, "SELECT count(*) FROM booking_sagas WHERE status = 'confirmed'")
    bench_line("saga_tps_sqlite", tps, "tps", "booking_tps_sqlite_1proc", tps / baseline)
    detail(
        f"booking_tps_sqlite_1proc={baseline:.1f} (same run, one process, WAL file); "
        f"whole benchmark {time.perf_counter() - started:.0f} s"
    )
    _report(results, stored, plans[0].warmup)
