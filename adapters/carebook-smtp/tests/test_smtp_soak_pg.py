"""The reliability soak (issue 12, "Reliability"): bookings, cancellations, reminders and
e-mail through two ``carebook worker`` processes on PostgreSQL, one of them SIGKILLed
and restarted again and again, and nothing lost, doubled or left claimed.

The scene: a real SMTP server (:class:`~carebook_smtp.testing.SmtpTestServer`) in this
process; two workers (``python -m carebook worker --config FILE``, the ``smtp`` channel
to that server, the ``static`` contact directory giving every patient and practitioner
an address, fast periods, a 3-second lease, batches of 5); four booking processes
(``_soak_bookers.py``), each in an organisation of its own, booking and cancelling for
the whole run on the real system clock. Every ``min(10, duration / 3)`` seconds one
worker (the two in turn) is SIGKILLed and started again at once (two kills at 15 s,
five at 60 s). Then the bookers stop,
the outbox drains, the survivors get SIGTERM, and the database and the mailbox are
compared: every expectation is computed from the database (the outbox's events, the
appointments and their policies), nothing is counted in advance.

**Reminders inside a short run.** Slot starts and reminder offsets are whole minutes, so
a reminder's own time is on a minute boundary, and a 15-second run may contain none.
Quiet hours move a reminder earlier to the start of the quiet period, to the second
(docs/reminders.md), so each organisation's policy is the default offsets (24 h, 2 h)
with quiet hours starting at a moment inside the run and lasting 12 hours; its reminder
visits start in the 12 hours after that moment plus 24 hours. Their 24-hour reminder is
due at that moment: for the visits booked before it, a burst of reminders falling due
during the run; for those booked after, a late one, sent at the next scan. The moments
are the kill marks first (each kill comes 0.3 s after its mark, in the middle of that
burst, so that it cuts deliveries in flight), then half-way between them. Far visits
(three days on and more) are owed no reminder in the run, and get none.

**What a kill may double.** Delivery is at least once (docs/operations.md): a worker
killed after a send and before its record leaves a claim whose lease runs out, and the
next worker sends again with the same idempotency key, so the same ``Message-ID``. The
test asserts exactly that and no more: each expected ``Message-ID`` arrives, none that
is not expected, a ``Message-ID`` arrives twice only for a delivery that took more than
one attempt, and the repeats are at most one batch per kill.

Size: 15 s of booking by default (CI); 60 s with ``CAREBOOK_SOAK_SECONDS=60`` or
``CAREBOOK_STRESS_SCALE=full`` (``nox -s stress``). PostgreSQL comes from
``CAREBOOK_PG_URL`` (default: the local server, user postgres, database test); without
one the test skips, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pendulum
import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from carebook import Actor, CarebookConfig, Money, bootstrap
from carebook.domain.messaging import OutboundMessage
from carebook.events import (
    AppointmentBooked,
    AppointmentCancelled,
    Event,
    ReminderDue,
    leaves_core,
)
from carebook.reminders import DEFAULT_POLICY, ReminderPolicy, due_at
from carebook.scheduling import PatientKind
from carebook.serialization import event_from_json
from carebook.services.dispatch import notifications_for
from carebook.testing.clinic import ClinicBuilder
from carebook_smtp.mime import message_id
from carebook_smtp.testing import SmtpTestServer

FULL = os.environ.get("CAREBOOK_STRESS_SCALE", "").strip().lower() == "full"
SECONDS = float(os.environ.get("CAREBOOK_SOAK_SECONDS") or (60 if FULL else 15))
KILL_EVERY = min(10.0, SECONDS / 3)
"""A SIGKILL every 10 s, or three in the run's length when it is shorter (5 s at 15 s:
kills at 5 s and 10 s; at 60 s, kills at 10, 20, 30, 40 and 50 s)."""
KILL_DELAY = 0.3
"""Each kill comes this long after its mark, and the first organisations' quiet hours
start on the marks: a kill lands while that organisation's burst of reminders is being
sent, so it interrupts deliveries in flight instead of an idle worker."""


def kill_marks() -> list[float]:
    """Seconds into the run of the kills' marks (each kill at its mark + KILL_DELAY)."""
    marks: list[float] = []
    mark = KILL_EVERY
    while mark + KILL_DELAY < SECONDS - 0.5:
        marks.append(mark)
        mark += KILL_EVERY
    return marks


def quiet_starts() -> list[float]:
    """Seconds into the run at which each organisation's quiet hours start (so its
    reminders are due): the kill marks first, then half-way between marks, in order."""
    halves = [m - KILL_EVERY / 2 for m in [*kill_marks(), SECONDS]]
    starts = kill_marks() + [h for h in halves if 1.0 <= h <= SECONDS - 1.0]
    assert len(starts) >= BOOKERS, "the run is too short for one reminder moment per booker"
    return starts[:BOOKERS]


BOOKERS = 4
PRACTITIONERS = 6  # per organisation, each paired with one patient
RATE = 6.0  # bookings a second per booker (and a cancellation after about 30% of them)
SLOT_MINUTES = 5
QUIET_SECONDS = 12 * 3600
CANCEL_MARGIN = 1.0  # a booker cancels a visit only this long before its reminder
LEASE_SECONDS = 3
BATCH = 5
DRAIN_TIMEOUT = 60.0
SENDER = "desk@soak.test"
TIMEZONE = "UTC"
BUILTIN_CONSUMERS = ("publisher", "subscriber:hooks", "subscriber:sagas")
"""Every event's consumers besides the notifiers (docs/operations.md, "Delivery
semantics"); a notification's consumer is ``notifier:smtp:<kind>:<role>``."""

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HERE = Path(__file__).resolve().parent


# -- PostgreSQL: the pattern of carebook-sqlalchemy's tests/conftest.py, in small ----------
@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty database on the server of ``CAREBOOK_PG_URL``, dropped afterwards;
    skip if the server is unreachable, or fail under ``CI=true``."""
    admin = make_url(os.environ.get("CAREBOOK_PG_URL") or DEFAULT_PG_URL)
    if admin.drivername == "postgresql":
        admin = admin.set(drivername="postgresql+psycopg")
    name = f"carebook_t_{secrets.token_hex(6)}"
    engine = create_engine(
        admin,
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            message = (
                f"PostgreSQL not reachable at {admin.render_as_string(hide_password=True)} "
                f"({detail}); set CAREBOOK_PG_URL to a server where the user may create "
                "databases"
            )
            if os.environ.get("CI") == "true":
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        try:
            yield admin.set(database=name).render_as_string(hide_password=False)
        finally:
            with engine.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


# -- the clinics ---------------------------------------------------------------------------
def _clinics(url: str) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """Migrate, then one organisation per booker: a location open around the clock,
    practitioners working around the clock, a 5-minute service, patients paired with
    practitioners. Returns the bookers' plans (without times) and the address book."""
    cb = bootstrap(
        CarebookConfig(
            storage="sqlalchemy",
            storage_options={"url": url, "migrate": True},
            notifiers=(),
            dispatch="manual",
        )
    )
    plans: list[dict[str, Any]] = []
    addresses: dict[str, dict[str, str]] = {}
    try:
        for k in range(BOOKERS):
            clinic = ClinicBuilder.create(
                cb,
                f"Soak Clinic {k}",
                min_notice=0,
                slot_interval=SLOT_MINUTES,
                require_confirmation=False,
            )
            location = clinic.location("Office", timezone=TIMEZONE, hours="00:00-24:00")
            practitioners = [
                clinic.practitioner(f"Practitioner {k}.{j}", location, hours="00:00-24:00")
                for j in range(PRACTITIONERS)
            ]
            service = clinic.service(
                practitioners=practitioners, duration=SLOT_MINUTES, price=Money(4000, "GBP")
            )
            patients = [
                clinic.patient(kind=PatientKind.RETURNING, contact_ref=f"soak-{k}-{j}")
                for j in range(PRACTITIONERS)
            ]
            for j, practitioner in enumerate(practitioners):
                addresses[str(practitioner.id)] = {"email": f"pr-{k}-{j}@soak.test"}
                addresses[f"soak-{k}-{j}"] = {"email": f"pa-{k}-{j}@soak.test"}
            plans.append(
                {
                    "index": k,
                    "url": url,
                    "organisation_id": str(clinic.org.id),
                    "location_id": str(location.id),
                    "service_id": str(service.id),
                    "practitioner_ids": [str(p.id) for p in practitioners],
                    "patient_ids": [str(p.id) for p in patients],
                    "slot_minutes": SLOT_MINUTES,
                    "quiet_seconds": QUIET_SECONDS,
                    "cancel_margin": CANCEL_MARGIN,
                    "rate": RATE,
                    "seed": 1000 + k,
                }
            )
    finally:
        cb.close()
    return plans, addresses


def _policy(quiet_from: int) -> ReminderPolicy:
    start = pendulum.from_timestamp(quiet_from, tz=TIMEZONE)
    end = start.add(seconds=QUIET_SECONDS)
    return ReminderPolicy(
        offsets=DEFAULT_POLICY.offsets,
        quiet_from=dt.time(start.hour, start.minute, start.second),
        quiet_until=dt.time(end.hour, end.minute, end.second),
    )


def _set_policies(url: str, plans: list[dict[str, Any]]) -> dict[str, ReminderPolicy]:
    cb = bootstrap(CarebookConfig(storage="sqlalchemy", storage_options={"url": url}, notifiers=()))
    policies: dict[str, ReminderPolicy] = {}
    try:
        for plan in plans:
            policy = _policy(plan["quiet_from"])
            cb.reminders.set_policy(Actor.admin(), plan["organisation_id"], policy)
            policies[plan["organisation_id"]] = policy
    finally:
        cb.close()
    return policies


# -- the worker processes ------------------------------------------------------------------
def _toml(value: Any) -> str:
    """A TOML inline value (strings as JSON strings, which TOML reads alike)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for {type(value).__name__}")


def write_worker_config(
    path: Path, url: str, smtp: SmtpTestServer, addresses: Mapping[str, Mapping[str, str]]
) -> Path:
    """The workers' TOML: nested channel and contact options cannot be env variables."""
    worker = {
        "database_url": url,
        "poll_interval": 0.05,
        "batch_size": BATCH,
        "log_level": "INFO",
        "notifiers": [],
        "channels": ["smtp"],
        "contacts": "static",
        "lease_seconds": LEASE_SECONDS,
    }
    periods = {
        "dispatch": 0.1,
        "send_reminders": 0.2,
        "expire_holds": 0.5,
        "resume_sagas": 0.5,
        "sweep_walkins": 0.5,
    }
    smtp_options = smtp.options(sender=SENDER, timeout=5)
    lines = ["[worker]", *(f"{k} = {_toml(v)}" for k, v in worker.items())]
    lines += ["", "[worker.periods]", *(f"{k} = {_toml(v)}" for k, v in periods.items())]
    lines += ["", "[worker.channel_options.smtp]"]
    lines += [f"{k} = {_toml(v)}" for k, v in smtp_options.items()]
    lines += ["", "[worker.contacts_options.addresses]"]
    lines += [f"{json.dumps(k)} = {_toml(v)}" for k, v in addresses.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


class Workers:
    """The worker processes of the run: each one's log file, and how each ended."""

    def __init__(self, config: Path, logs: Path) -> None:
        self.config = config
        self.logs = logs
        self.running: list[subprocess.Popen[bytes]] = []
        self.started = 0
        self.ended: list[tuple[str, int]] = []  # (how it was stopped, exit status)
        self.victims_started: list[bool] = []  # each killed worker had started its jobs
        self._files: list[Path] = []
        self._log_of: dict[int, Path] = {}

    def start(self) -> subprocess.Popen[bytes]:
        self.started += 1
        name = f"soak-worker-{self.started}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAREBOOK_")}
        env["CAREBOOK_WORKER_NAME"] = name
        log = self.logs / f"{name}.log"
        self._files.append(log)
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "carebook", "worker", "--config", str(self.config)],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        self._log_of[process.pid] = log
        return process

    def kill(self, index: int) -> None:
        """SIGKILL the worker at ``index`` and start a new one in its place."""
        victim = self.running[index]
        log = self._log_of[victim.pid].read_text(errors="replace")
        self.victims_started.append(" started: jobs " in log)
        victim.kill()
        self.ended.append(("SIGKILL", victim.wait(timeout=30)))
        self.running[index] = self.start()

    def stop_all(self) -> None:
        for process in self.running:
            process.send_signal(signal.SIGTERM)
        for process in self.running:
            try:
                status = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                status = process.wait(timeout=30)
            self.ended.append(("SIGTERM", status))
        self.running.clear()

    def text(self) -> str:
        return "".join(f.read_text(errors="replace") for f in self._files if f.exists())


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


# -- what the database holds ---------------------------------------------------------------
def _scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar() or 0)


def _undispatched(engine: Engine) -> int:
    return _scalar(engine, "SELECT count(*) FROM outbox WHERE dispatched_at IS NULL")


def _events(engine: Engine) -> list[Event]:
    with engine.connect() as connection:
        payloads = connection.execute(text("SELECT payload FROM outbox ORDER BY position"))
        return [event_from_json(p) for p in payloads.scalars()]


def _deliveries(engine: Engine) -> dict[tuple[str, str], tuple[str, int, str | None]]:
    """(event id, consumer) -> (status, attempts, claim)."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT event_id, consumer, status, attempts, claim FROM deliveries")
        )
        return {(str(r[0]), r[1]): (r[2], r[3], r[4]) for r in rows}


def _appointments(engine: Engine) -> list[tuple[str, str, str, int]]:
    """(id, organisation id, status, start epoch) of every appointment."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, organisation_id, status, start_at FROM appointments")
        )
        return [(str(r[0]), str(r[1]), r[2], int(r[3])) for r in rows]


def _message_id(event_id: str, kind: str, role: str) -> str:
    """The Message-ID carebook-smtp gives a notification (through its own function)."""
    key = SimpleNamespace(idempotency_key=f"{event_id}:{kind}:{role}")
    return message_id(cast(OutboundMessage, key), SENDER)


# -- the soak ------------------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.timeout(240 if SECONDS <= 20 else 600)
def test_soak_two_killed_workers_send_every_notice_and_reminder_once(
    pg_url: str, tmp_path: Path
) -> None:
    began = time.monotonic()
    plans, addresses = _clinics(pg_url)
    engine = create_engine(pg_url, poolclass=NullPool)
    with SmtpTestServer() as smtp:
        config = write_worker_config(tmp_path / "worker.toml", pg_url, smtp, addresses)
        workers = Workers(config, tmp_path)
        bookers: list[subprocess.Popen[bytes]] = []
        try:
            workers.running = [workers.start(), workers.start()]
            wait_for(
                lambda: workers.text().count(" started: jobs ") >= 2, 30, "the workers to start"
            )
            # The run's clock: bookers start now and book until stop_at.
            # quiet_from is whole seconds: so is the run's start, and the marks with it.
            run_start = float(math.ceil(time.time() + 1.0))
            stop_at = run_start + SECONDS
            for plan, start in zip(plans, quiet_starts(), strict=True):
                plan["quiet_from"] = math.ceil(run_start + start)
                plan["stop_at"] = stop_at
            policies = _set_policies(pg_url, plans)
            for plan in plans:
                plan_file = tmp_path / f"booker-{plan['index']}.json"
                plan_file.write_text(json.dumps(plan))
                log = tmp_path / f"booker-{plan['index']}.log"
                with log.open("wb") as sink:
                    bookers.append(
                        subprocess.Popen(
                            [
                                sys.executable,
                                str(HERE / "_soak_bookers.py"),
                                str(plan_file),
                                str(tmp_path / f"booker-{plan['index']}.report.json"),
                            ],
                            stdout=sink,
                            stderr=subprocess.STDOUT,
                        )
                    )
            kills = 0
            for mark in kill_marks():
                time.sleep(max(0.0, run_start + mark + KILL_DELAY - time.time()))
                assert all(b.poll() in (None, 0) for b in bookers), "a booker failed early"
                workers.kill(kills % 2)
                kills += 1
            for booker in bookers:
                booker.wait(timeout=stop_at - time.time() + 60)
            booked_until = time.monotonic()
            # Drain: the reminders of every quiet start are due by now (all are before
            # stop_at); a few scans, then every event out of the outbox, claims of the
            # killed workers included (their leases run out).
            time.sleep(1.0)
            wait_for(lambda: _undispatched(engine) == 0, DRAIN_TIMEOUT, "the outbox to drain")
            time.sleep(0.5)
            assert _undispatched(engine) == 0, "new events after the drain"
            checked_at = time.time()
            drained = time.monotonic()
        finally:
            for booker in bookers:
                if booker.poll() is None:
                    booker.kill()
                    booker.wait(timeout=30)
            workers.stop_all()
        mailbox = smtp.mailbox
    worker_logs = workers.text()
    reports = [
        json.loads((tmp_path / f"booker-{p['index']}.report.json").read_text()) for p in plans
    ]
    events = _events(engine)
    deliveries = _deliveries(engine)
    appointments = _appointments(engine)
    engine.dispose()

    # The bookers did what they say, and the kills happened; SIGTERM exits 0.
    assert [b.returncode for b in bookers] == [0] * BOOKERS, [r.get("error") for r in reports]
    assert all("error" not in r for r in reports)
    booked = sum(r["booked"] for r in reports)
    cancelled = sum(r["cancelled"] for r in reports)
    assert kills >= 1 and workers.victims_started == [True] * kills
    assert [how for how, _ in workers.ended] == ["SIGKILL"] * kills + ["SIGTERM"] * 2
    assert [status for how, status in workers.ended if how == "SIGKILL"] == [-9] * kills
    assert [status for how, status in workers.ended if how == "SIGTERM"] == [0, 0], worker_logs
    assert worker_logs.count("SIGTERM received") == 2
    assert "@soak.test" not in worker_logs  # addresses are patient data: never logged
    soak_orgs = {p["organisation_id"] for p in plans}
    ours = [a for a in appointments if a[1] in soak_orgs]
    assert len(ours) == booked > 0
    assert sum(1 for a in ours if a[2] == "cancelled") == cancelled

    # 1. Every event reached every consumer: out of the outbox, each consumer delivered,
    #    nothing dead, pending or still claimed (no lease left behind).
    expected_mail: dict[str, str] = {}  # Message-ID -> address
    mail_delivery: dict[str, tuple[str, str]] = {}  # Message-ID -> (event id, consumer)
    missing: list[tuple[str, str]] = []
    patient_ref = {
        pa: f"soak-{p['index']}-{j}" for p in plans for j, pa in enumerate(p["patient_ids"])
    }
    for event in events:
        if not leaves_core(event):
            continue
        event_id = str(event.event_id)
        consumers = list(BUILTIN_CONSUMERS)
        for n in notifications_for(event):
            consumer = f"notifier:smtp:{n.kind}:{n.recipient_role}"
            consumers.append(consumer)
            key = patient_ref.get(str(n.recipient_id), str(n.recipient_id))
            if key in addresses:  # the set-up's own events have no reachable recipient
                mid = _message_id(event_id, n.kind, n.recipient_role)
                expected_mail[mid] = addresses[key]["email"]
                mail_delivery[mid] = (event_id, consumer)
        missing += [(event_id, c) for c in consumers if (event_id, c) not in deliveries]
    assert missing == []
    unsettled = {k: v for k, v in deliveries.items() if v[0] != "delivered" or v[2] is not None}
    assert unsettled == {}

    # 2. Every expected e-mail arrived, to its recipient, and none that was not expected;
    #    a Message-ID twice only for a delivery re-sent after a kill (more than one attempt).
    received = Counter(str(m.message["Message-ID"]) for m in mailbox)
    assert set(received) == set(expected_mail)
    to = {str(m.message["Message-ID"]): m.rcpt_tos for m in mailbox}
    assert {mid: (address,) for mid, address in expected_mail.items()} == to
    repeats = {mid: n for mid, n in received.items() if n > 1}
    resent = {mid: deliveries[mail_delivery[mid]][1] for mid in repeats}
    assert all(attempts >= 2 for attempts in resent.values()), resent
    assert sum(n - 1 for n in repeats.values()) <= kills * BATCH

    # 3. Reminders: exactly one for every visit still booked whose reminder time came
    #    during the run; none for a visit cancelled before its reminder time, nor for
    #    visits whose reminder is not due yet.
    cancelled_at = {
        str(e.appointment_id): e.occurred_at.timestamp()
        for e in events
        if isinstance(e, AppointmentCancelled)
    }
    reminders = Counter(str(e.appointment_id) for e in events if isinstance(e, ReminderDue))
    reminder_mails = Counter(
        str(e.appointment_id)
        for e in events
        if isinstance(e, ReminderDue)
        for n in notifications_for(e)
        if _message_id(str(e.event_id), n.kind, n.recipient_role) in received
    )
    booked_at = {
        str(e.appointment_id): e.occurred_at.timestamp()
        for e in events
        if isinstance(e, AppointmentBooked)
    }
    reminded_at = {
        str(e.appointment_id): e.occurred_at.timestamp()
        for e in events
        if isinstance(e, ReminderDue)
    }
    owed: dict[str, float] = {}  # appointment id -> its reminder time
    not_owed: list[str] = []
    for appointment_id, organisation_id, status, start in ours:
        policy = policies[organisation_id]
        dues = [
            due_at(pendulum.from_timestamp(start), offset, policy, TIMEZONE).timestamp()
            for offset in policy.offsets
        ]
        inside = [d for d in dues if d <= checked_at]
        assert len(inside) <= 1, "the set-up gives each visit at most one reminder in the run"
        assert not any(checked_at - 1.0 < d <= checked_at for d in dues), "too close to call"
        if not inside:
            not_owed.append(appointment_id)
        elif status == "cancelled":
            assert cancelled_at[appointment_id] < inside[0] - 0.5, "cancelled around its reminder"
            not_owed.append(appointment_id)
        else:
            owed[appointment_id] = inside[0]
    assert owed, "no reminder fell due in the run"
    assert any(a[2] == "cancelled" and a[0] in not_owed for a in ours)
    assert {a: reminders[a] for a in owed} == dict.fromkeys(owed, 1)
    assert {a: reminder_mails[a] for a in owed} == dict.fromkeys(owed, 1)
    assert [a for a in not_owed if reminders[a]] == []
    early = {a: due - reminded_at[a] for a, due in owed.items() if reminded_at[a] < due}
    assert early == {}  # never before its time
    on_time = sum(1 for a, due in owed.items() if booked_at[a] < due)

    retried = sum(1 for _, attempts, _ in deliveries.values() if attempts > 1)
    elapsed = time.monotonic() - began
    print(
        f"\nsoak: {SECONDS:.0f} s booking, {kills} SIGKILLs (every {KILL_EVERY:g} s), "
        f"{booked} booked, {cancelled} cancelled, {len(events)} events, "
        f"{len(deliveries)} deliveries ({retried} took over after a lease ran out), "
        f"{len(mailbox)} e-mails ({len(received)} distinct, "
        f"{sum(n - 1 for n in repeats.values())} repeated after a kill), "
        f"{len(owed)} reminders owed and sent once ({on_time} booked before their "
        f"reminder time, {len(owed) - on_time} after: sent late), "
        f"{len(not_owed)} visits owed none; drained {drained - booked_until:.1f} s "
        f"after the bookers stopped; total {elapsed:.1f} s"
    )
