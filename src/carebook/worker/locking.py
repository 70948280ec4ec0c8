"""One worker per SQLite database: an OS file lock beside the database file.

SQLite serialises writers on one machine; two workers on one file would only queue
behind each other, and one is the supported shape. The first worker takes an exclusive
``flock`` on ``<database>.worker-lock`` for as long as it runs (the OS drops it when the
process dies, even by SIGKILL, so a crashed worker never blocks the next); a second one
finds it taken and stops with :class:`AnotherWorkerError`. PostgreSQL needs no such
lock: several workers share it, keeping apart by their claims and leases.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import ClassVar

from carebook.errors import CarebookError, ConfigurationError

__all__ = ["AnotherWorkerError", "SqliteWorkerLock", "sqlite_path"]


class AnotherWorkerError(CarebookError):
    """A worker already runs on this SQLite database."""

    code: ClassVar[str] = "worker_already_running"


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite://`` URL, None for another database;
    ConfigurationError for an in-memory SQLite database (no other process can see it)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0].lower() != "sqlite":
        return None
    path = rest.removeprefix("/").split("?")[0]
    if not path or path == ":memory:":
        raise ConfigurationError("a worker needs a SQLite database file, not an in-memory one")
    return Path(path)


class SqliteWorkerLock:
    """Held while the worker runs; see the module docstring."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".worker-lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AnotherWorkerError(
                f"another carebook worker runs on this SQLite database (it holds {self.path}); "
                "SQLite supports one worker"
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None
