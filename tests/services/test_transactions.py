"""Transient storage conflicts re-run the whole unit of work, a bounded number of times."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import pendulum
import pytest

from carebook import (
    Actor,
    CarebookConfig,
    ManualClock,
    StorageError,
    bootstrap,
)
from carebook.builtin.memory import MemoryStorage, MemoryUnitOfWork
from carebook.errors import TransientStorageError
from carebook.services.transactions import DEFAULT_ATTEMPTS, run_write


class FlakyStorage:
    """Memory storage whose first ``failures`` commits fail as a deadlock would."""

    def __init__(self, failures: int) -> None:
        self.inner = MemoryStorage()
        self.failures = failures
        self.commits = 0

    def unit_of_work(self, *, write: bool = False) -> Any:
        return _FlakyUnitOfWork(self, self.inner.unit_of_work(write=write))

    def close(self) -> None:
        self.inner.close()


class _FlakyUnitOfWork:
    def __init__(self, owner: FlakyStorage, inner: MemoryUnitOfWork) -> None:
        self._owner = owner
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> _FlakyUnitOfWork:
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        self._owner.commits += 1
        if self._owner.failures > 0:
            self._owner.failures -= 1
            raise TransientStorageError("deadlock detected (40P01)")
        self._inner.commit()


def test_a_transient_conflict_reruns_the_unit_of_work_until_it_commits() -> None:
    storage = FlakyStorage(failures=2)
    runs: list[int] = []

    def work(uow: Any) -> str:
        runs.append(1)
        return "done"

    assert run_write(storage, work) == "done"
    assert len(runs) == 3
    assert storage.commits == 3


def test_a_conflict_that_persists_surfaces_as_a_storage_error_after_bounded_attempts() -> None:
    storage = FlakyStorage(failures=10_000)
    with pytest.raises(StorageError, match=f"after {DEFAULT_ATTEMPTS} attempts") as caught:
        run_write(storage, lambda uow: None)
    assert not isinstance(caught.value, TransientStorageError)
    assert storage.commits == DEFAULT_ATTEMPTS


def test_a_use_case_retried_after_a_deadlock_applies_its_change_once() -> None:
    storage = FlakyStorage(failures=0)
    clock = ManualClock(pendulum.datetime(2026, 1, 5, 8, tz="UTC"))
    cb = bootstrap(CarebookConfig(notifiers=(), dispatch="manual"), storage=storage, clock=clock)
    storage.failures = 1
    org = cb.admin.create_organisation(Actor.admin(), name="Retry Clinic")
    assert storage.commits == 2
    with storage.inner.unit_of_work() as uow:
        assert uow.calendar.get_organisation(org.id) == org
        events = uow.outbox.pending(10)
    assert [(type(e).__name__, getattr(e, "entity_id", None)) for e in events] == [
        ("CalendarChanged", org.id)
    ]
