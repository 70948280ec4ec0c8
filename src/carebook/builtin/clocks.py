"""Clocks: the wall clock, a manual one that tests and simulations advance, and a
file clock that lets one process move the time of others (a demo's worker)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pendulum

from carebook.domain.instants import require_aware
from carebook.errors import AdapterError, CarebookError, ConfigurationError, ValidationError

__all__ = ["FileClock", "ManualClock", "SystemClock"]


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


def _parse_instant(text: str) -> pendulum.DateTime | None:
    try:
        parsed = pendulum.parse(text.strip(), tz=None)
    except Exception:
        return None
    if not isinstance(parsed, pendulum.DateTime) or parsed.tzinfo is None:
        return None
    return parsed.in_tz(pendulum.UTC)


class FileClock:
    """A manual clock kept in a file, so that one process (a demo, a simulation) moves
    the time that others (a worker in a subprocess) read.

    The file holds one ISO 8601 instant with its offset. :meth:`create` writes it,
    :meth:`advance` and :meth:`set` move it forward; each write replaces the file
    atomically (``os.replace``), so a reader sees the old instant or the new one, never
    half of one. ``now()`` reads the file on every call and never goes back: a reader
    that once saw a later instant keeps it. Not for production: it is the wall clock
    of nothing.

    Registered as ``file``, with the option ``path``.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._last: pendulum.DateTime | None = None
        self._last = self._read()

    @classmethod
    def create(cls, path: str | os.PathLike[str], start: dt.datetime) -> FileClock:
        """Write ``start`` to ``path`` (replacing what was there) and return the clock."""
        instant = pendulum.instance(require_aware(start, "clock start")).in_tz(pendulum.UTC)
        _write(Path(path), instant)
        return cls(path)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> FileClock:
        unknown = sorted(set(options) - {"path"})
        if unknown:
            raise ConfigurationError(f"unknown file clock options: {unknown}; known: ['path']")
        path = options.get("path")
        if not isinstance(path, str) or not path:
            raise ConfigurationError("the file clock needs a 'path' option (a file name)")
        return cls(path)

    @property
    def path(self) -> Path:
        return self._path

    def now(self) -> pendulum.DateTime:
        with self._lock:
            current = self._read()
            if self._last is not None and current < self._last:
                return self._last
            self._last = current
            return current

    def advance(self, **delta: float) -> pendulum.DateTime:
        """Move the shared time forward by ``days=``, ``hours=``, ``minutes=``, ``seconds=``."""
        step = dt.timedelta(**delta)
        if step < dt.timedelta(0):
            raise ValidationError("a file clock only moves forward")
        with self._lock:
            target = self._read() + step
            _write(self._path, target)
            self._last = target
            return target

    def set(self, instant: dt.datetime) -> pendulum.DateTime:
        """Move the shared time to ``instant`` (not earlier than now)."""
        target = pendulum.instance(require_aware(instant, "clock time")).in_tz(pendulum.UTC)
        with self._lock:
            if target < self._read():
                raise ValidationError("a file clock only moves forward")
            _write(self._path, target)
            self._last = target
            return target

    def _read(self) -> pendulum.DateTime:
        try:
            text = self._path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise self._failure(f"no clock file at {self._path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise self._failure(f"cannot read the clock file {self._path}: {exc}") from None
        instant = _parse_instant(text)
        if instant is None:
            raise self._failure(
                f"the clock file {self._path} must hold one ISO 8601 instant with an offset"
            )
        return instant

    def _failure(self, message: str) -> CarebookError:
        # While constructing, a bad file is the configuration's fault; later, the adapter's.
        if self._last is None:
            return ConfigurationError(message)
        return AdapterError(message)

    def __repr__(self) -> str:
        return f"FileClock({str(self._path)!r})"


def _write(path: Path, instant: pendulum.DateTime) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(instant.isoformat() + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
