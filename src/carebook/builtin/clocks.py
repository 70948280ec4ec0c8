"""Clocks: the wall clock, and a manual one that tests and simulations advance."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from typing import Any

import pendulum

from carebook.domain.instants import require_aware
from carebook.errors import ConfigurationError, ValidationError

__all__ = ["ManualClock", "SystemClock"]


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> pendulum.DateTime:
        return pendulum.now(pendulum.UTC)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SystemClock:
        if options:
            raise ConfigurationError(f"the system clock takes no options, got {sorted(options)}")
        return cls()


class ManualClock:
    """A clock that only moves when told to. Thread-safe; never goes backwards."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = require_aware(start, "clock start")
        self._lock = threading.Lock()

    def now(self) -> pendulum.DateTime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> pendulum.DateTime:
        """Move forward by ``days=``, ``hours=``, ``minutes=``, ``seconds=``."""
        step = dt.timedelta(**delta)
        if step < dt.timedelta(0):
            raise ValidationError("a manual clock only moves forward")
        with self._lock:
            self._now = self._now + step
            return self._now

    def set(self, instant: dt.datetime) -> pendulum.DateTime:
        """Jump to ``instant`` (not earlier than now)."""
        target = require_aware(instant, "clock time")
        with self._lock:
            if target < self._now:
                raise ValidationError("a manual clock only moves forward")
            self._now = target
            return self._now

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ManualClock:
        start = options.get("start")
        if start is None:
            raise ConfigurationError("the manual clock needs a 'start' option (ISO 8601)")
        try:
            parsed = pendulum.parse(start) if isinstance(start, str) else start
        except Exception as exc:
            raise ConfigurationError(f"manual clock start is not ISO 8601: {start!r}") from exc
        if not isinstance(parsed, dt.datetime):
            raise ConfigurationError("manual clock start must be a date and time")
        return cls(parsed)
