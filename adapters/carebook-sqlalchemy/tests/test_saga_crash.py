"""The crash matrix: a worker process is killed with SIGKILL at each instrumented point
of the booking saga, then the system restarts and resumes.

Points (``carebook.services.saga.runtime.CRASH_POINTS``): ``committed`` (a saga change
and its events committed, nothing published yet), ``gateway_called`` (a payment call
returned, its result not recorded yet) and ``compensating`` (between two compensation
steps). On SQLite each run uses a fresh database file; on PostgreSQL the runs of one
point share a database, each with an organisation of its own. Every run has a fresh
ledger file; the worker (a forked
process) requests bookings through the saga with the simulated gateway in ``random``
mode (some declined, so compensations run) and kills itself on the ``k``-th pass through
the point (``k`` drawn per run). The gateway is durable (``ledger_path``: every movement
fsynced to a JSON-lines file), so what the provider did survives the worker exactly as
a real provider's records would. After the kill, a new Carebook (nothing shared with the
dead worker but the database and the ledger file) runs ``resume()`` and ``dispatch()``,
and then:

- no saga is unfinished; each timeline ends in BookingConfirmed or BookingFailed, and
  the outbox is empty (no event lost);
- money captured net (per the ledger) equals the confirmed bookings; no intent was
  captured twice, no saga has two payments, no failed saga keeps money;
- the quota used equals the discounted confirmed bookings;
- a confirmed saga's appointment is booked, a failed one's cancelled.

CI runs ``CAREBOOK_CRASH_RUNS`` (default 5) runs per point; set it to 50 for the full
matrix (``CAREBOOK_CRASH_RUNS=50 python -m pytest .../test_saga_crash.py``).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
from pathlib import Path

import pytest
from sqlalchemy import select

from carebook import Actor, CarebookConfig, bootstrap
from carebook.builtin.clocks import ManualClock
from carebook.builtin.payments import SimulatedPaymentGateway
from carebook.domain.payments.saga import BookingSaga, SagaStatus
from carebook.serialization import loads
from carebook.services.saga.runtime import CRASH_POINTS
from carebook.testing.saga_world import (
    T0,
    SagaClinic,
    make_saga_clinic,
    money_problems,
    quota_problems,
)
from carebook_sqlalchemy import SqlStorage
from carebook_sqlalchemy.schema.sagas import BookingSagaRow

RUNS = int(os.environ.get("CAREBOOK_CRASH_RUNS", "5"))
BOOKINGS = 6


def _config(url: str) -> CarebookConfig:
    return CarebookConfig(
        storage="sqlalchemy",
        storage_options={"url": url},
        notifiers=(),
        saga_options={"webhook_secret": "whsec_crash"},
    )


def _gateway(
    ledger: Path, run: int, mode: str = "success", seed: int = 0
) -> SimulatedPaymentGateway:
    """The run's durable gateway (intent ids unique per run: runs may share a database)."""
    return SimulatedPaymentGateway(
        mode=mode, seed=seed, failure_rate=0.5, ledger_path=ledger, id_prefix=f"pi_run{run}_"
    )


def _worker(
    clinic: SagaClinic, url: str, ledger: Path, point: str, hit: int, seed: int, run: int
) -> None:
    """In the forked child: book through the saga until the ``hit``-th pass through
    ``point``, then die as a killed process does (no clean-up, no flush, no exit code)."""
    gateway = _gateway(ledger, run, mode="random", seed=seed)
    cb = bootstrap(_config(url), clock=ManualClock(T0), payment_gateway=gateway)
    passes = [0]

    def crashpoint(name: str) -> None:
        if name == point:
            passes[0] += 1
            if passes[0] == hit:
                os.kill(os.getpid(), signal.SIGKILL)

    cb.sagas.set_crashpoint(crashpoint)
    for n in range(BOOKINGS):
        command = clinic.command(n, discounted=n % 2 == 0, key=f"crash-{n}")
        cb.sagas.request(Actor.patient(command.patient_id), command)
    os._exit(0)  # the point was passed fewer than ``hit`` times: no crash this run


def _sagas(storage: SqlStorage, organisation_id: object) -> list[BookingSaga]:
    table = BookingSagaRow.__table__
    sql = select(table.c.data).where(table.c.organisation_id == organisation_id)
    with storage.engine.connect() as connection:
        return [loads(data, BookingSaga) for data in connection.execute(sql).scalars()]


def _run(tmp_path: Path, point: str, run: int, pg_url: str | None = None) -> int | None:
    url = pg_url or f"sqlite:///{tmp_path / f'crash-{run}.db'}"
    ledger = tmp_path / f"ledger-{run}.jsonl"
    setup = make_saga_clinic(storage=SqlStorage(url, migrate=True), gateway=_gateway(ledger, run))
    setup.cb.close()  # nothing open in the parent while the worker runs
    draw = random.Random(f"{point}-{run}")
    hit = draw.randint(1, 4 if point == "compensating" else 8)
    child = multiprocessing.get_context("fork").Process(
        target=_worker, args=(setup, url, ledger, point, hit, draw.randint(0, 10_000), run)
    )
    child.start()
    child.join(120)
    assert child.exitcode in (0, -signal.SIGKILL), f"worker ended with {child.exitcode}"

    # The restart: a new Carebook on the same database and ledger file.
    gateway = _gateway(ledger, run)
    cb = bootstrap(_config(url), clock=ManualClock(T0), payment_gateway=gateway)
    storage = cb.storage
    assert isinstance(storage, SqlStorage)
    try:
        cb.sagas.resume()
        cb.events.dispatch()
        sagas = _sagas(storage, setup.org.id)
        assert len(sagas) >= 1
        assert money_problems(sagas, gateway, settled=True) == []
        with storage.unit_of_work() as uow:
            assert quota_problems(sagas, uow.pricing.quota_used) == []
            assert uow.sagas.unfinished() == []
            for saga in sagas:
                last = uow.sagas.timeline(saga.id)[-1].type
                hold = uow.appointments.get(saga.appointment_id)
                assert hold is not None
                if saga.status is SagaStatus.CONFIRMED:
                    assert (last, hold.status.value) == ("BookingConfirmed", "booked")
                else:
                    assert (last, hold.status.value) == ("BookingFailed", "cancelled")
        assert cb.events.pending() == []  # every event of every step was published
        discounted = [s for s in sagas if s.status is SagaStatus.CONFIRMED and s.quota_day]
        assert cb.pricing.quota(Actor.admin(), setup.org.id).used == len(discounted)
    finally:
        cb.close()
    return child.exitcode


@pytest.mark.slow
@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_worker_killed_at_any_point_leaves_nothing_unfinished_or_charged_twice(
    tmp_path: Path, point: str
) -> None:
    exits = [_run(tmp_path, point, run) for run in range(RUNS)]
    assert exits.count(-signal.SIGKILL) >= max(1, RUNS // 2), exits  # most runs really crashed


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("point", CRASH_POINTS)
def test_on_postgres_a_killed_worker_leaves_nothing_unfinished_or_charged_twice(
    tmp_path: Path, point: str, pg_url: str
) -> None:
    exits = [_run(tmp_path, point, run, pg_url) for run in range(RUNS)]
    assert exits.count(-signal.SIGKILL) >= max(1, RUNS // 2), exits
