"""A contest for one slot: N processes, R rounds, everyone after the same start each round.

Each round every process goes, at the same moment (a barrier), for one start with the one
practitioner, each for a patient of a small pool (so some patients are wanted by two
processes at once) and for a service that needs the clinic's one room. Every other
process holds the slot first and then books its hold; the others book straight away.
The harness records what each process got per round and how long every call took::

    clinic = setup_contest(url, rounds=15)
    result = run_contest(clinic, processes=8)
    assert all(len(result.winners(r)) == 1 for r in result.rounds)

``setup_contest(url, rounds=15, uncontested=8)`` builds the baseline instead: as many
practitioners and patients as processes, no room, and each process books its own
practitioner's slot for its own patient, straight away, so nobody ever loses.

Each process is started with ``spawn`` and bootstraps its own Carebook from ``clinic.url``
(no migration: :func:`setup_contest` migrates), so the storage must be one that several
processes share: the SQL adapter on PostgreSQL or SQLite. Storages are named in config,
as a host names them (``storage``, ``storage_options``).
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

import pendulum

from carebook import (
    Actor,
    Carebook,
    CarebookConfig,
    CarebookError,
    Interval,
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    RuleRejectedError,
    ServiceId,
    SlotUnavailableError,
    bootstrap,
)
from carebook.builtin.clocks import ManualClock
from carebook.scheduling import AvailabilityQuery, BookAppointment, HoldSlot
from carebook.testing.clinic import ClinicBuilder

__all__ = [
    "BOOKED",
    "REFUSALS",
    "Call",
    "ContestClinic",
    "ContestResult",
    "contender",
    "outcome_of",
    "run_contest",
    "setup_contest",
]

BOOKED = "booked"
"""The outcome of a process that ends the round with the appointment."""
REFUSALS = frozenset(
    {"slot_unavailable", "practitioner_busy", "patient_busy", "resource_unavailable"}
)
"""The outcomes a loser may get: the slot is taken (by the storage's own check, or by a
rule that saw the winner's appointment)."""

NOW = pendulum.datetime(2026, 3, 2, 0, 0, tz="UTC")
"""The clock of every process: the contested starts follow from the next day on."""
SLOT_MINUTES = 15
BARRIER_SECONDS = 120.0
"""How long a process waits for the others at the start of a round before giving up."""


@dataclass(frozen=True)
class ContestClinic:
    """The contested clinic as :func:`setup_contest` built it: plain, picklable values."""

    config: CarebookConfig
    now: int
    """Every process's clock (epoch seconds)."""
    organisation_id: OrganisationId
    location_id: LocationId
    service_id: ServiceId
    practitioner_ids: tuple[PractitionerId, ...]
    """The one contested practitioner, or one per process (uncontested)."""
    patient_ids: tuple[PatientId, ...]
    starts: tuple[int, ...]
    """The contested start of each round (epoch seconds)."""
    contested: bool = True


@dataclass(frozen=True)
class Call:
    """One process's part in one round: its outcome and the seconds of each call."""

    round: int
    process: int
    outcome: str
    seconds: tuple[float, ...]


@dataclass
class _Report:
    process: int
    calls: list[Call] = field(default_factory=list)
    crash: str = ""


@dataclass(frozen=True)
class ContestResult:
    """Every call of a contest."""

    calls: tuple[Call, ...]

    @property
    def rounds(self) -> list[int]:
        return sorted({c.round for c in self.calls})

    def winners(self, round_: int) -> list[Call]:
        return [c for c in self.calls if c.round == round_ and c.outcome == BOOKED]

    def outcomes(self) -> dict[str, int]:
        """How many times each outcome occurred, over every round."""
        counts: dict[str, int] = {}
        for call in self.calls:
            counts[call.outcome] = counts.get(call.outcome, 0) + 1
        return dict(sorted(counts.items()))

    def latencies(self) -> list[float]:
        """Seconds of every call (a hold and the booking of it are two), sorted."""
        return sorted(s for c in self.calls for s in c.seconds)

    def percentile(self, share: float) -> float:
        """The ``share`` quantile of :meth:`latencies`, in seconds (nearest rank)."""
        found = self.latencies()
        return found[min(len(found) - 1, round(share * (len(found) - 1)))] if found else 0.0

    def summary(self) -> str:
        found = self.latencies()
        median = statistics.median(found) * 1000 if found else 0.0
        return (
            f"{len(self.rounds)} rounds, {len(found)} calls; outcomes {self.outcomes()}; "
            f"latency ms p50={median:.1f} p99={self.percentile(0.99) * 1000:.1f} "
            f"max={(found[-1] if found else 0.0) * 1000:.1f}"
        )


def setup_contest(
    url: str, *, rounds: int, patients: int = 5, uncontested: int = 0
) -> ContestClinic:
    """Migrate the SQL storage at ``url`` and add the contested clinic: one practitioner
    working around the clock, one room, a 15-minute service needing it, ``patients``
    patients, and one start per round (back to back from the day after the clock).
    With ``uncontested`` (a number of processes): that many practitioners and patients
    and no room, one each per process."""
    config = CarebookConfig(
        storage="sqlalchemy", storage_options={"url": url}, notifiers=(), dispatch="manual"
    )
    migrating = CarebookConfig(
        storage="sqlalchemy",
        storage_options={"url": url, "migrate": True},
        notifiers=(),
        dispatch="manual",
    )
    cb = bootstrap(migrating, clock=ManualClock(NOW))
    try:
        clinic = ClinicBuilder.create(
            cb, "Contested Clinic", min_notice=0, horizon_days=60, slot_interval=SLOT_MINUTES
        )
        location = clinic.location("Main", timezone="UTC", hours="00:00-24:00")
        doctors = [
            clinic.practitioner(f"Dr {n + 1}", location, hours="00:00-24:00")
            for n in range(uncontested or 1)
        ]
        if not uncontested:
            clinic.resource(location, "Room 1")
        needs = set() if uncontested else {"room"}
        service = clinic.service(practitioners=doctors, duration=SLOT_MINUTES, needs=needs)
        pool = tuple(p.id for p in clinic.patients(uncontested or patients))
    finally:
        cb.close()
    first = int(NOW.add(days=1).timestamp())
    return ContestClinic(
        config=config,
        now=int(NOW.timestamp()),
        organisation_id=clinic.org.id,
        location_id=location.id,
        service_id=service.id,
        practitioner_ids=tuple(d.id for d in doctors),
        patient_ids=pool,
        starts=tuple(first + n * SLOT_MINUTES * 60 for n in range(rounds)),
        contested=not uncontested,
    )


def outcome_of(exc: BaseException) -> str:
    """``slot_unavailable``, a rule's reason code, another carebook error's class name,
    or ``UNEXPECTED <class>`` for anything else."""
    if isinstance(exc, SlotUnavailableError):
        return "slot_unavailable"
    if isinstance(exc, RuleRejectedError):
        return exc.reason_code
    if isinstance(exc, CarebookError):
        return type(exc).__name__
    return f"UNEXPECTED {type(exc).__module__}.{type(exc).__qualname__}"


def contender(index: int, clinic: ContestClinic, barrier: Barrier, results: Queue[Any]) -> None:
    """Process entry point: play every round, then put a report on ``results``."""
    report = _Report(index)
    try:
        _play(index, clinic, barrier, report)
    except BaseException:
        report.crash = traceback.format_exc()
        barrier.abort()  # release the others instead of letting them wait
    results.put(report)


def _play(index: int, clinic: ContestClinic, barrier: Barrier, report: _Report) -> None:
    cb = bootstrap(clinic.config, clock=ManualClock(pendulum.from_timestamp(clinic.now)))
    try:
        _warm_up(cb, clinic)
        for round_ in range(len(clinic.starts)):
            barrier.wait(BARRIER_SECONDS)
            report.calls.append(_round(cb, index, clinic, round_))
    finally:
        cb.close()


def _round(cb: Carebook, index: int, clinic: ContestClinic, round_: int) -> Call:
    """Process ``index``'s go at round ``round_``: hold then book (odd processes in a
    contest) or book."""
    staff = Actor.staff(clinic.location_id, ref=f"contender-{index}")
    if clinic.contested:
        # Processes 2k and 2k+1 want the same patient; the pairs move on each round.
        patient = clinic.patient_ids[(round_ + index // 2) % len(clinic.patient_ids)]
        practitioner = clinic.practitioner_ids[0]
    else:
        patient, practitioner = clinic.patient_ids[index], clinic.practitioner_ids[index]
    start = pendulum.from_timestamp(clinic.starts[round_])
    hold = HoldSlot(
        location_id=clinic.location_id,
        practitioner_id=practitioner,
        patient_id=patient,
        service_ids=(clinic.service_id,),
        start=start,
    )
    seconds: list[float] = []
    try:
        hold_id = None
        if clinic.contested and index % 2 == 1:
            began = time.perf_counter()
            try:
                hold_id = cb.booking.hold(staff, hold).id
            finally:
                seconds.append(time.perf_counter() - began)
        book = BookAppointment(
            location_id=hold.location_id,
            practitioner_id=hold.practitioner_id,
            patient_id=hold.patient_id,
            service_ids=hold.service_ids,
            start=hold.start,
            idempotency_key=f"contest-{index}-{round_}",
            hold_id=hold_id,
        )
        began = time.perf_counter()
        try:
            cb.booking.book(staff, book)
        finally:
            seconds.append(time.perf_counter() - began)
    except Exception as exc:  # every outcome is recorded and judged by the caller
        return Call(round_, index, outcome_of(exc), tuple(seconds))
    return Call(round_, index, BOOKED, tuple(seconds))


def _warm_up(cb: Carebook, clinic: ContestClinic) -> None:
    """A search over the contested day: the process connects, loads the calendar and
    compiles its statements before round one, so no round times a cold start."""
    first = pendulum.from_timestamp(clinic.starts[0])
    query = AvailabilityQuery(
        service_ids=(clinic.service_id,),
        window=Interval(first, first.add(hours=1)),
        practitioner_ids=set(clinic.practitioner_ids),
    )
    cb.booking.search_availability(Actor.system(), clinic.organisation_id, query)


def run_contest(clinic: ContestClinic, *, processes: int, timeout: float = 900.0) -> ContestResult:
    """Run ``processes`` contenders over every round of ``clinic``; raise if any crashed."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results: Queue[Any] = ctx.Queue()
    started = [
        ctx.Process(target=contender, args=(n, clinic, barrier, results), daemon=True)
        for n in range(processes)
    ]
    for process in started:
        process.start()
    try:
        reports: list[_Report] = [results.get(timeout=timeout) for _ in started]
    finally:
        for process in started:
            process.join(timeout=30)
            if process.is_alive():  # our own child, by its handle
                process.terminate()
                process.join(timeout=10)
    crashes = [r.crash for r in reports if r.crash]
    if crashes:
        raise AssertionError("a contender crashed:\n" + "\n".join(crashes))
    calls = sorted((c for r in reports for c in r.calls), key=lambda c: (c.round, c.process))
    return ContestResult(tuple(calls))
