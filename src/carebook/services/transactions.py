"""Run a unit of work to commit, retrying transient storage conflicts.

Adapters raise :class:`carebook.errors.TransientStorageError` for conflicts the
database resolves by trying again (PostgreSQL 40001 serialization failure and 40P01
deadlock, a locked SQLite file). The whole unit of work is re-run with jittered back-off,
within two budgets: at most ``attempts`` runs, and no new run starts more than
``deadline`` seconds after the first began. Past either, the failure surfaces as a
StorageError that says how many attempts were made over how long.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from carebook.errors import StorageError, TransientStorageError
from carebook.ports import Storage, UnitOfWork

__all__ = ["DEFAULT_ATTEMPTS", "DEFAULT_DEADLINE_SECONDS", "run_write"]

T = TypeVar("T")
DEFAULT_ATTEMPTS = 8
"""Runs of a unit of work, at most, the first included."""
DEFAULT_DEADLINE_SECONDS = 5.0
"""No new run starts later than this after the first one began."""
log = logging.getLogger("carebook.storage")


def run_write(
    storage: Storage,
    work: Callable[[UnitOfWork], T],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    deadline: float = DEFAULT_DEADLINE_SECONDS,
) -> T:
    """``work(uow)`` in a write unit of work, committed; re-run on transient conflicts,
    at most ``attempts`` times in all and never starting a run more than ``deadline``
    seconds after the first began (a back-off that would end past it is not slept)."""
    began = time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            with storage.unit_of_work(write=True) as uow:
                result = work(uow)
                uow.commit()
                return result
        except TransientStorageError as exc:
            pause = random.uniform(0, min(0.25, 0.004 * 2**attempt))
            elapsed = time.monotonic() - began
            if attempt == attempts or elapsed + pause > deadline:
                raise StorageError(
                    f"storage conflict persisted after {attempt} attempts in {elapsed:.2f} s: {exc}"
                ) from exc
            log.debug("transient storage conflict (attempt %d): %s", attempt, exc)
            time.sleep(pause)
    raise AssertionError("unreachable")
