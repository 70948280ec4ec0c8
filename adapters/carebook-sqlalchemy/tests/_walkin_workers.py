"""Worker processes for ``test_walkins.py`` (not a test module: pytest collects nothing here).

Started with ``multiprocessing.get_context("spawn")``: each worker is a fresh interpreter
that imports this module by name (the test puts this directory on ``sys.path``), builds
its own Carebook on the database URL with a ManualClock at the shared ``now``, waits at
the barrier, and checks its patients in as walk-ins at one location, one after another.
It reports one outcome per patient: ``reserved``, the no-availability reason code, or
the class name of a carebook error; anything else is a crash with its traceback.
"""

from __future__ import annotations

import traceback
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import pendulum

import carebook
from carebook import (
    Actor,
    CarebookConfig,
    CarebookError,
    LocationId,
    ManualClock,
    PatientId,
)
from carebook.domain.walkins.queue import CheckedIn, CheckIn, CheckInChannel

__all__ = ["walk_in"]


def walk_in(
    index: int,
    url: str,
    now: int,
    location_id: LocationId,
    patient_ids: list[PatientId],
    barrier: Barrier,
    results: Queue[tuple[int, list[str], str | None]],
) -> None:
    """Process entry point: report ``(index, outcomes, crash traceback or None)``."""
    outcomes: list[str] = []
    crash = None
    try:
        cb = carebook.bootstrap(
            CarebookConfig(
                storage="sqlalchemy", storage_options={"url": url}, notifiers=(), dispatch="manual"
            ),
            clock=ManualClock(pendulum.from_timestamp(now)),
        )
        try:
            barrier.wait(timeout=300)
            for patient_id in patient_ids:
                command = CheckIn(
                    location_id=location_id, patient_id=patient_id, channel=CheckInChannel.APP
                )
                try:
                    outcome = cb.walkins.check_in(Actor.patient(patient_id), command)
                except CarebookError as exc:
                    outcomes.append(type(exc).__name__)
                else:
                    reserved = isinstance(outcome, CheckedIn)
                    outcomes.append("reserved" if reserved else str(outcome.reason_code))
        finally:
            cb.close()
    except BaseException:
        crash = traceback.format_exc()
        barrier.abort()
    results.put((index, outcomes, crash))
