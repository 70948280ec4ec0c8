"""``carebook worker`` as a process, on a real database: SQLite (one worker, a second is
refused) and PostgreSQL (two workers share the work and never do one item twice)."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from carebook import Actor
from carebook.scheduling import AppointmentStatus
from carebook.testing.world import World, at, make_world
from carebook_sqlalchemy import SqlStorage
from carebook_sqlalchemy.engine import make_engine

FAST = {
    "CAREBOOK_POLL_INTERVAL": "0.05",
    "CAREBOOK_PERIOD_DISPATCH": "0.1",
    "CAREBOOK_PERIOD_EXPIRE_HOLDS": "0.1",
    "CAREBOOK_PERIOD_RESUME_SAGAS": "0.5",
    "CAREBOOK_PERIOD_SWEEP_WALKINS": "0.5",
    "CAREBOOK_NOTIFIERS": "logging",
    "CAREBOOK_LOG_LEVEL": "INFO",
}


def start_worker(url: str, name: str, **extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREBOOK_")}
    env.update(FAST, CAREBOOK_DATABASE_URL=url, CAREBOOK_WORKER_NAME=name, **extra)
    return subprocess.Popen(
        [sys.executable, "-m", "carebook", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_worker(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAREBOOK_")}
    return subprocess.run(
        [sys.executable, "-m", "carebook", "worker", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not get there in time")
        time.sleep(0.05)


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    return process.returncode, err


@pytest.fixture
def clinic(sqlite_url: str) -> Iterator[World]:
    w = make_world(storage=SqlStorage(sqlite_url, migrate=True), dispatch="manual")
    yield w
    w.cb.close()


def outbox_left(w: World) -> int:
    return len(w.cb.events.pending(1000))


def fewer_than(w: World, count: int) -> bool:
    return outbox_left(w) < count


def test_a_worker_does_the_work_and_stops_cleanly_on_sigterm(
    clinic: World, sqlite_url: str
) -> None:
    w = clinic
    hold = w.hold(w.alice, at(10))  # the world's clock is in 2025: long expired by now
    w.book(w.bob, at(11), actor=w.staff)
    assert outbox_left(w) >= 2

    worker = start_worker(sqlite_url, "w-sqlite")
    try:
        wait_for(
            lambda: (
                w.cb.queries.get_appointment(Actor.system(), hold.id).status
                is AppointmentStatus.CANCELLED
                and outbox_left(w) == 0
            )
        )
        second = run_worker(env={**FAST, "CAREBOOK_DATABASE_URL": sqlite_url})
        assert second.returncode == 1
        assert (
            second.stderr.strip()
            .splitlines()[-1]
            .startswith("error: another carebook worker runs on this SQLite database")
        )
    finally:
        code, err = stop(worker)
    assert code == 0, err
    assert "SIGTERM received" in err and "stopped after" in err
    assert "holds_expired=1" in err and "events_dispatched=" in err
    assert w.bob.contact_ref is not None and w.bob.contact_ref not in err
    # the lock went with the process: the next worker starts
    again = run_worker("--once", env={**FAST, "CAREBOOK_DATABASE_URL": sqlite_url})
    assert again.returncode == 0, again.stderr


def test_an_unmigrated_database_is_exit_1_with_the_command_to_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = run_worker("--once", env={"CAREBOOK_DATABASE_URL": url})
    assert result.returncode == 1
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert "carebook-sqlalchemy upgrade" in line


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "no database URL"),
        ({"CAREBOOK_BATCH_SIZE": "many"}, "CAREBOOK_BATCH_SIZE must be a whole number"),
        ({"CAREBOOK_PERIOD_TEATIME": "1"}, "names no job"),
        ({"CAREBOOK_DATABASE_URL": "sqlite://"}, "not an in-memory one"),
    ],
)
def test_bad_configuration_is_exit_2_with_one_line_and_starts_nothing(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    database = tmp_path / "never.db"
    full = {"CAREBOOK_DATABASE_URL": f"sqlite:///{database}", **env}
    if not env:
        full = {}
    result = run_worker("--once", env=full)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert says in result.stderr
    assert not database.exists()


def test_a_missing_config_file_is_exit_2(tmp_path: Path) -> None:
    result = run_worker("--config", str(tmp_path / "nope.toml"), env={})
    assert (result.returncode, result.stderr.count("\n")) == (2, 1)


@pytest.mark.postgres
def test_two_workers_on_postgresql_share_the_outbox_and_deliver_each_once(pg_url: str) -> None:
    w = make_world(storage=SqlStorage(pg_url, migrate=True), dispatch="manual")
    try:
        patients = [w.new_patient() for _ in range(12)]
        for n, patient in enumerate(patients):
            w.book(patient, at(9).add(minutes=30 * n), actor=w.staff)
        holds = [w.hold(p, at(16)) for p in patients[:1]]
        expected = outbox_left(w)
        assert expected >= 13

        workers = [start_worker(pg_url, f"w{n}", CAREBOOK_BATCH_SIZE="2") for n in range(2)]
        try:
            wait_for(
                lambda: (
                    outbox_left(w) == 0
                    and all(
                        w.cb.queries.get_appointment(Actor.system(), h.id).status
                        is AppointmentStatus.CANCELLED
                        for h in holds
                    )
                )
            )
            time.sleep(0.3)  # a last round each, to show they stay idle
        finally:
            results = [stop(p) for p in workers]
        assert [code for code, _ in results] == [0, 0], results
        logs = "".join(err for _, err in results)
        sent = [ln for ln in logs.splitlines() if "notify kind=appointment_booked" in ln]
        assert len(sent) == len(patients)  # each booking's notice exactly once, across both
        engine = make_engine(pg_url)
        try:
            with engine.connect() as connection:
                twice = connection.execute(
                    text("SELECT count(*) FROM deliveries WHERE attempts <> 1")
                ).scalar()
                leased = connection.execute(
                    text("SELECT count(*) FROM deliveries WHERE claim IS NOT NULL")
                ).scalar()
        finally:
            engine.dispose()
        assert (twice, leased) == (0, 0)
    finally:
        w.cb.close()


KILLS = 16 if os.environ.get("CAREBOOK_STRESS_SCALE") == "full" else 3
"""SIGKILL rounds of the takeover test: 3 in CI, 16 with CAREBOOK_STRESS_SCALE=full."""


@pytest.mark.postgres
def test_a_worker_killed_mid_dispatch_loses_nothing(pg_url: str) -> None:
    """Kill a worker with SIGKILL while it delivers, again and again; a fresh one takes
    over once the leases end. Every booking's notice is sent at least once (a second
    send only for a kill between a send and its record), and nothing stays claimed."""
    w = make_world(storage=SqlStorage(pg_url, migrate=True), dispatch="manual")
    try:
        patients = [w.new_patient() for _ in range(10 * KILLS)]
        for n, patient in enumerate(patients):
            day = n // 16
            start = at(9).add(days=day, minutes=30 * (n % 16))
            w.book(patient, start, actor=w.staff)
        slow = {"CAREBOOK_BATCH_SIZE": "1", "CAREBOOK_LEASE_SECONDS": "1"}
        logs: list[str] = []
        total = outbox_left(w)
        for _ in range(KILLS):
            victim = start_worker(pg_url, "victim", **slow)
            before = outbox_left(w)
            wait_for(functools.partial(fewer_than, w, before), timeout=60)  # it is delivering
            victim.kill()
            _, err = victim.communicate(timeout=30)
            logs.append(err)
        assert 0 < outbox_left(w) < total  # the victims got part of the way
        survivor = start_worker(pg_url, "survivor", **slow)
        try:
            wait_for(lambda: outbox_left(w) == 0, timeout=120)
        finally:
            code, err = stop(survivor)
        logs.append(err)
        assert code == 0, err
        sent = [ln for ln in "".join(logs).splitlines() if "notify kind=appointment_booked" in ln]
        recipients = {ln.split("to=patient:")[1].split()[0] for ln in sent}
        assert recipients == {str(p.id) for p in patients}
        assert len(sent) <= len(patients) + KILLS  # at most one repeat per kill
        engine = make_engine(pg_url)
        try:
            with engine.connect() as connection:
                left = connection.execute(
                    text("SELECT count(*) FROM deliveries WHERE status <> 'delivered'")
                ).scalar()
        finally:
            engine.dispose()
        assert left == 0
    finally:
        w.cb.close()
