"""Transient storage conflicts re-run the whole unit of work, a bounded number of times."""

from __future__ import annotations

import time
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
from carebook.services.transactions import DEFAULT_ATTEMPTS, DEFAULT_DEADLINE_SECONDS, run_write


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


class FakeTime:
    """``time.monotonic`` and ``time.sleep`` while a test runs: sleeping moves
    the clock, and so does each run of the unit of work (``per_run`` seconds)."""

    def __init__(self, per_run: float = 0.0) -> None:
        self.now = 1000.0
        self.per_run = per_run
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def work(self, uow: Any) -> None:
        self.now += self.per_run


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(time, "monotonic", fake.monotonic)
    monkeypatch.setattr(time, "sleep", fake.sleep)
    return fake


def test_the_retry_budget_defaults_to_8_attempts_within_5_seconds() -> None:
    assert (DEFAULT_ATTEMPTS, DEFAULT_DEADLINE_SECONDS) == (8, 5.0)


def test_fast_conflicts_stop_at_the_attempt_limit_and_the_error_says_attempts_and_time(
    fake_time: FakeTime,
) -> None:
    storage = FlakyStorage(failures=10_000)
    with pytest.raises(StorageError) as caught:
        run_write(storage, fake_time.work, attempts=3)
    assert storage.commits == 3
    assert len(fake_time.slept) == 2  # no back-off after the last attempt
    elapsed = sum(fake_time.slept)
    assert str(caught.value).startswith(
        f"storage conflict persisted after 3 attempts in {elapsed:.2f} s"
    )


def test_slow_conflicts_stop_at_the_deadline_before_the_attempt_limit(
    fake_time: FakeTime,
) -> None:
    """Each run takes 2 s: the third starts at 4 s (plus back-off), a fourth would
    start past 5 s, so it never does."""
    fake_time.per_run = 2.0
    storage = FlakyStorage(failures=10_000)
    with pytest.raises(StorageError, match=r"after 3 attempts in 6\.\d\d s") as caught:
        run_write(storage, fake_time.work)
    assert storage.commits == 3 < DEFAULT_ATTEMPTS
    assert not isinstance(caught.value, TransientStorageError)


def test_the_deadline_is_a_keyword_argument(fake_time: FakeTime) -> None:
    fake_time.per_run = 2.0
    storage = FlakyStorage(failures=10_000)
    with pytest.raises(StorageError, match="after 6 attempts"):
        run_write(storage, fake_time.work, deadline=11.0)
    assert storage.commits == 6


def test_a_conflict_resolved_inside_the_deadline_commits(fake_time: FakeTime) -> None:
    fake_time.per_run = 2.0
    storage = FlakyStorage(failures=2)
    run_write(storage, fake_time.work)
    assert storage.commits == 3


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
