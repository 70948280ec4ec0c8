"""The reminder scan's cost does not grow with history (issue 12, "Performance").

``reminder_scan``: the median of one worker tick (``cb.reminders.send_due``, the clock a
minute on each time, as the worker's 60-second period does) with 10,000 upcoming
appointments and 1,000,000 past ones, on PostgreSQL. Baseline: the same ticks with
10,000 past appointments, measured first in the same database. Targets: ratio <= 1.5
and a median <= 20 ms (reported, not asserted).

The clinic, the upcoming appointments and the first 10,000 past ones go in through the
storage port; the other 990,000 past ones are copies made in SQL (``INSERT ... SELECT``,
each shifted back in time so that nobody is double-booked). They are as the scan sees
history: ``booked`` appointments that started before now, each with its two reminders in
the ledger. The baseline and the full history live in two databases, and their ticks
alternate, so that drift in the machine's speed falls on both. The full size shrinks
with ``CAREBOOK_BENCH_REMINDER_PAST`` (default 1,000,000).
"""

from __future__ import annotations

import os
import statistics
import time
from typing import TYPE_CHECKING

import pendulum
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from carebook import Actor, Carebook, CarebookConfig, bootstrap
from carebook.builtin.clocks import ManualClock
from carebook.testing.bench import bench_line
from carebook.testing.builders import SmallClinic, small_clinic

if TYPE_CHECKING:
    from tests.benchmarks.test_bench_storage import (
        detail,
        pg_admin_url,
        render_url,
        scratch_database,
    )
else:  # by module name, like the other benchmarks (see _bench_workers)
    from test_bench_storage import detail, pg_admin_url, render_url, scratch_database

__all__ = ["pg_admin_url"]  # the fixture, shared with the storage benchmarks

NOW = pendulum.datetime(2026, 6, 1, 12, tz="UTC")
UPCOMING = 10_000
PAST_BASE = 10_000
PAST_FULL = int(os.environ.get("CAREBOOK_BENCH_REMINDER_PAST", "1000000"))
STAFF = 25  # practitioners, each with their own patient: 400 half-hour slots each
TICKS = 40


def _carebook(url: URL, clock: ManualClock) -> Carebook:
    return bootstrap(
        CarebookConfig(
            storage="sqlalchemy",
            storage_options={"url": render_url(url), "migrate": True},
            notifiers=(),
            dispatch="manual",
        ),
        clock=clock,
    )


def _fill(cb: Carebook) -> SmallClinic:
    """The clinic, 10,000 upcoming appointments over the next 8 days and 10,000 past."""
    clinic = small_clinic(practitioners=STAFF, resources=0, patients=STAFF, timezone="UTC")
    with cb.storage.unit_of_work(write=True) as uow:
        clinic.save(uow)
        uow.commit()
    slots = UPCOMING // STAFF
    for sign, first in ((1, NOW.add(minutes=30)), (-1, NOW.subtract(minutes=30))):
        for n in range(STAFF):
            batch = [
                clinic.appointment(
                    first.add(minutes=sign * 30 * i),
                    practitioner=clinic.practitioners[n],
                    patient=clinic.patients[n],
                    created_at=NOW.subtract(days=30),
                )
                for i in range(slots)
            ]
            with cb.storage.unit_of_work(write=True) as uow:
                for appointment in batch:
                    uow.appointments.add(appointment, now=NOW.subtract(days=30))
                uow.commit()
    return clinic


def _copy_history(url: URL, copies: int) -> None:
    """``copies`` more of each past appointment, the k-th shifted back k * 9 days."""
    engine = create_engine(url, poolclass=NullPool)
    now = int(NOW.timestamp())
    shift = 9 * 24 * 3600
    columns = (
        "organisation_id, location_id, practitioner_id, patient_id, status, "
        "start_at, occupied_start, occupied_end, hold_expires_at, blocks_time, "
        "idempotency_key, version, data"
    )
    with engine.begin() as connection:
        for k in range(1, copies + 1):
            connection.execute(
                text(
                    f"INSERT INTO appointments (id, {columns}) "
                    "SELECT gen_random_uuid(), organisation_id, location_id, practitioner_id, "
                    "patient_id, status, start_at - :d, occupied_start - :d, occupied_end - :d, "
                    "hold_expires_at, blocks_time, NULL, version, data "
                    "FROM appointments WHERE start_at < :now AND start_at >= :now - :shift"
                ),
                {"d": k * shift, "shift": shift, "now": now},
            )
    engine.dispose()


def _settle_history(url: URL) -> None:
    """The ledger a real history leaves: both reminders of every past appointment sent
    (so the ledger grows with history too), then fresh planner statistics."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO reminders_sent (appointment_id, offset_minutes, start_at, sent_at) "
                "SELECT a.id, o.minutes, a.start_at, a.start_at - o.minutes * 60 "
                "FROM appointments a CROSS JOIN (VALUES (1440), (120)) AS o(minutes) "
                "WHERE a.start_at < :now ON CONFLICT DO NOTHING"
            ),
            {"now": int(NOW.timestamp())},
        )
        connection.exec_driver_sql("ANALYZE")
        counts = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM appointments), (SELECT count(*) FROM reminders_sent)"
            )
        ).one()
    engine.dispose()
    detail(f"{url.database}: {counts[0]:,} appointments, {counts[1]:,} ledger entries")


def _tick(cb: Carebook, clock: ManualClock) -> tuple[float, int]:
    """One worker tick a minute after the last: its time (s) and the reminders it sent."""
    clock.advance(minutes=1)
    begin = time.perf_counter()
    sent = cb.reminders.send_due(Actor.system())
    return time.perf_counter() - begin, sent


def _prepare(url: URL, copies: int) -> tuple[Carebook, ManualClock]:
    clock = ManualClock(NOW)
    cb = _carebook(url, clock)
    began = time.perf_counter()
    _fill(cb)
    first = cb.reminders.send_due(Actor.system())  # the backlog: everything due at NOW
    _copy_history(url, copies)
    _settle_history(url)
    detail(f"set-up {time.perf_counter() - began:.1f} s; first tick sent {first:,} reminders")
    return cb, clock


def test_bench_reminder_scan(pg_admin_url: URL) -> None:
    with scratch_database(pg_admin_url) as base_url, scratch_database(pg_admin_url) as full_url:
        base, base_clock = _prepare(base_url, 0)
        full, full_clock = _prepare(full_url, max(0, PAST_FULL // PAST_BASE - 1))
        # Interleaved, so that the machine's own drift touches both alike.
        samples: dict[str, list[float]] = {"base": [], "full": []}
        sent = {"base": 0, "full": 0}
        for _ in range(TICKS):
            for name, cb, clock in (("base", base, base_clock), ("full", full, full_clock)):
                seconds, count = _tick(cb, clock)
                samples[name].append(seconds)
                sent[name] += count
        base.close()
        full.close()
    base_ms, full_ms = (statistics.median(samples[n]) * 1000 for n in ("base", "full"))
    detail(f"{PAST_BASE:,} past: median {base_ms:.2f} ms, {sent['base']} sent in {TICKS} ticks")
    detail(f"{PAST_FULL:,} past: median {full_ms:.2f} ms, {sent['full']} sent in {TICKS} ticks")
    assert sent["base"] == sent["full"] > 0  # the same due reminders, found in both
    bench_line("reminder_scan", full_ms, "ms", "reminder_scan_10k_past", full_ms / base_ms)
