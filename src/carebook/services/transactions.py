"""Run a unit of work to commit, retrying transient storage conflicts.

Adapters raise :class:`carebook.errors.TransientStorageError` for conflicts the
database resolves by trying again (PostgreSQL 40001 serialization failure and 40P01
deadlock, a locked SQLite file). The whole unit of work is re-run, a bounded number
of times with jittered back-off; then the failure surfaces as a StorageError.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from carebook.errors import StorageError, TransientStorageError
from carebook.ports import Storage, UnitOfWork

__all__ = ["DEFAULT_ATTEMPTS", "run_write"]

T = TypeVar("T")
DEFAULT_ATTEMPTS = 8
log = logging.getLogger("carebook.storage")


def run_write(
    storage: Storage, work: Callable[[UnitOfWork], T], *, attempts: int = DEFAULT_ATTEMPTS
) -> T:
    """``work(uow)`` in a write unit of work, committed; re-run on transient conflicts."""
    for attempt in range(1, attempts + 1):
        try:
            with storage.unit_of_work(write=True) as uow:
                result = work(uow)
                uow.commit()
                return result
        except TransientStorageError as exc:
            if attempt == attempts:
                raise StorageError(
                    f"storage conflict persisted after {attempts} attempts: {exc}"
                ) from exc
            log.debug("transient storage conflict (attempt %d): %s", attempt, exc)
            time.sleep(random.uniform(0, min(0.25, 0.004 * 2**attempt)))
    raise AssertionError("unreachable")
