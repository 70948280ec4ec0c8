"""Liveness under contest on PostgreSQL (issue 10, section 1).

- ``contest_same_slot_pg_8proc``: the p99 latency (ms) of a call in the same-slot contest
  of :mod:`carebook.testing.contest`: 8 processes, each round all after one start with
  one practitioner, a shared room, mixed patients, half of them holding first. Target
  p99 <= 250 ms (asserted). The baseline ``booking_tps_pg_8proc_p99`` is the p99 of
  uncontested bookings by 8 processes (each its own practitioner and patient), measured
  in the same run with the same harness.

Each run gets its own database ``carebook_bench_<hex>``, dropped ``WITH (FORCE)``;
PostgreSQL comes from ``CAREBOOK_PG_URL`` (default: the local server, user postgres,
database test), and without a reachable server the benchmark skips with the reason.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from carebook.testing.bench import bench_line
from carebook.testing.contest import BOOKED, REFUSALS, ContestResult, run_contest, setup_contest

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PROCESSES = 8
ROUNDS = int(os.environ.get("CAREBOOK_BENCH_CONTEST_ROUNDS", "100"))
TARGET_P99_MS = 250.0


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new, empty database ``carebook_bench_<hex>`` (its URL), dropped on exit."""
    admin = make_url(os.environ.get("CAREBOOK_PG_URL") or DEFAULT_PG_URL)
    if admin.drivername == "postgresql":
        admin = admin.set(drivername="postgresql+psycopg")
    name = f"carebook_bench_{secrets.token_hex(6)}"
    engine = create_engine(admin, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            pytest.skip(f"PostgreSQL not reachable ({reason}); set CAREBOOK_PG_URL")
        try:
            url: URL = admin.set(database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            with engine.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


def _contest(uncontested: int = 0) -> ContestResult:
    with scratch_database() as url:
        clinic = setup_contest(url, rounds=ROUNDS, uncontested=uncontested)
        return run_contest(clinic, processes=PROCESSES)


def test_bench_contest_same_slot_pg_8proc() -> None:
    baseline = _contest(uncontested=PROCESSES)
    contest = _contest()
    p99 = contest.percentile(0.99) * 1000
    base_p99 = baseline.percentile(0.99) * 1000
    bench_line("contest_same_slot_pg_8proc", p99, "ms", "booking_tps_pg_8proc_p99", p99 / base_p99)
    print(f"  contest: {PROCESSES} processes x {ROUNDS} rounds: {contest.summary()}", flush=True)
    print(f"  baseline (uncontested): {baseline.summary()}", flush=True)
    print(f"  target p99 <= {TARGET_P99_MS:.0f} ms; cpus={os.cpu_count()}", flush=True)
    assert baseline.outcomes() == {BOOKED: PROCESSES * ROUNDS}
    assert all(len(contest.winners(r)) == 1 for r in contest.rounds)
    assert {c.outcome for c in contest.calls} <= REFUSALS | {BOOKED}
    assert p99 <= TARGET_P99_MS
