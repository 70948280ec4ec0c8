"""The Clock contract: ``now()`` is an aware UTC pendulum DateTime that never goes back."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pendulum
import pytest

from carebook.ports import Clock

__all__ = ["ClockContract"]


class ClockContract:
    """Every Clock adapter passes these tests; override the ``clock`` fixture."""

    @pytest.fixture
    def clock(self) -> Iterator[Clock]:
        """The clock under test; the adapter's test class overrides this."""
        raise NotImplementedError("override the 'clock' fixture in your test class")

    def test_clock_satisfies_the_clock_protocol(self, clock: Clock) -> None:
        assert isinstance(clock, Clock)

    def test_now_is_an_aware_utc_pendulum_datetime(self, clock: Clock) -> None:
        now = clock.now()
        assert isinstance(now, pendulum.DateTime)
        assert now.tzinfo is not None
        assert now.utcoffset() == dt.timedelta(0)
        assert now.timezone_name == "UTC"

    def test_now_never_goes_backwards(self, clock: Clock) -> None:
        readings = [clock.now() for _ in range(1000)]
        assert readings == sorted(readings)

    def test_now_may_be_read_from_many_threads(self, clock: Clock) -> None:
        readings: list[pendulum.DateTime] = []
        lock = threading.Lock()

        def read() -> None:
            for _ in range(100):
                now = clock.now()
                with lock:
                    readings.append(now)

        threads = [threading.Thread(target=read) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(readings) == 400
        assert all(isinstance(r, pendulum.DateTime) for r in readings)
