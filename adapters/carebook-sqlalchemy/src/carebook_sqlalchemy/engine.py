"""Engines for the two supported backends, configured the way carebook needs them.

SQLite (the embedded default): WAL journal, foreign keys on for every connection, a
busy timeout, and write transactions that start with ``BEGIN IMMEDIATE`` so writers
are serialised before they read (pysqlite's own transaction handling is switched off,
as SQLAlchemy documents for this purpose). PostgreSQL: psycopg 3.

Stale connections (the server restarted, a proxy dropped an idle socket): a pooled
PostgreSQL connection that sat idle for more than ``IDLE_PING_SECONDS`` is pinged when
it is checked out, and replaced if the ping fails, the "pessimistic" disconnect
handling SQLAlchemy documents, but only for idle connections: a busy pool does not pay a
round trip per unit of work. A connection lost in the middle of a unit of work surfaces
as a TransientStorageError, so a write is re-run on a fresh connection.

Privacy: bound parameters and result rows carry patient data (a patient row holds the
birth date and contact reference). Every engine is made with ``hide_parameters=True``
(SQLAlchemy's log lines and exception messages then say the parameters are hidden), and
logs under its own logger, ``sqlalchemy.engine.Engine.carebook``, whose filter drops the
result rows SQLAlchemy logs at DEBUG. ``echo=True``, ``echo="debug"`` or a host turning
the ``sqlalchemy.engine`` logger up shows the statements, never the values.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DisconnectionError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from carebook.errors import ConfigurationError

__all__ = [
    "IDLE_PING_SECONDS",
    "LOGGING_NAME",
    "WRITE_OPTION",
    "make_engine",
    "parse_url",
    "redact",
]

IDLE_PING_SECONDS = 5.0
"""A pooled connection idle for longer than this is pinged before it is reused."""

WRITE_OPTION = "carebook_write"
"""Connection execution option: this connection runs a write unit of work."""

LOGGING_NAME = "carebook"
"""SQLAlchemy's ``logging_name`` for carebook's engines: they log under
``sqlalchemy.engine.Engine.carebook`` (a child of ``sqlalchemy.engine``)."""

_DRIVERS = {"sqlite": "pysqlite", "postgresql": "psycopg"}


class _NoRows(logging.Filter):
    """Drop the result rows SQLAlchemy's engine logs at DEBUG ("Row %r"): patient data."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


_NO_ROWS = _NoRows()


def redact(url: str | URL) -> str:
    """The URL as text with any password replaced by ``***``."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparseable: show nothing that could be a secret
        return "<unparseable URL>"


def parse_url(url: str | URL) -> URL:
    """Validate a storage URL: ``sqlite:///path.db`` or ``postgresql://user@host/db``."""
    if isinstance(url, URL):
        parsed = url
    else:
        if not isinstance(url, str) or not url.strip():
            raise ConfigurationError("the sqlalchemy storage needs a 'url' option")
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):
            raise ConfigurationError(
                f"malformed storage URL {redact(url)!r}: expected e.g. 'sqlite:///clinic.db' "
                "or 'postgresql://user@host:5432/dbname'"
            ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend not in _DRIVERS:
        raise ConfigurationError(
            f"unsupported database {backend!r} in {redact(parsed)!r}: "
            "carebook-sqlalchemy supports sqlite and postgresql"
        )
    wanted = _DRIVERS[backend]
    if driver and driver != wanted:
        raise ConfigurationError(
            f"unsupported driver {driver!r} for {backend}: use {backend}+{wanted}"
        )
    return parsed.set(drivername=f"{backend}+{wanted}")


def make_engine(
    url: str | URL,
    *,
    echo: bool | Literal["debug"] = False,
    busy_timeout_ms: int = 30_000,
    **engine_options: Any,
) -> Engine:
    """An engine for ``url`` with carebook's connection set-up (see the module doc).

    ``hide_parameters`` is always on; passing ``hide_parameters=False`` is a
    ConfigurationError.
    """
    parsed = parse_url(url)
    _private_logging(engine_options)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, echo=echo, busy_timeout_ms=busy_timeout_ms, **engine_options)
    try:
        engine = create_engine(parsed, echo=echo, **engine_options)
    except (NoSuchModuleError, ImportError) as exc:
        # psycopg (the "postgres" extra) is not installed, or cannot load its libpq:
        # a one-line hint, without the import machinery's traceback.
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigurationError(
            f"PostgreSQL needs psycopg 3, which could not be imported ({detail}): "
            "install carebook-sqlalchemy[postgres] (pip install 'carebook-sqlalchemy[postgres]')"
        ) from None
    _ping_idle_connections(engine)
    return engine


def _private_logging(options: dict[str, Any]) -> None:
    """Force ``hide_parameters`` and carebook's logger (with its row filter) into
    ``options``."""
    if not options.setdefault("hide_parameters", True):
        raise ConfigurationError(
            "hide_parameters cannot be turned off: SQL parameters carry patient data"
        )
    name = options.setdefault("logging_name", LOGGING_NAME)
    logging.getLogger(f"sqlalchemy.engine.Engine.{name}").addFilter(_NO_ROWS)


def _ping_idle_connections(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["carebook_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("carebook_idle_since")
        if idle_since is None or time.monotonic() - idle_since <= IDLE_PING_SECONDS:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as exc:
            # The pool discards this connection and checks out another (or a new one).
            raise DisconnectionError("stale pooled connection") from exc


def _enable_wal(cursor: Any, attempts: int = 100) -> None:
    """Switch a file database to WAL (stored in the file, so set once). Switching takes
    an exclusive lock that the busy timeout does not cover: several connections opening
    a brand-new file at once may each be refused, so retry briefly."""
    for attempt in range(attempts):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.01 + random.random() * 0.02)


def _sqlite_engine(
    url: URL, *, echo: bool | Literal["debug"], busy_timeout_ms: int, **options: Any
) -> Engine:
    memory = url.database in (None, "", ":memory:")
    if memory:
        options.setdefault("poolclass", StaticPool)
        options.setdefault("connect_args", {"check_same_thread": False})
    else:
        options.setdefault("connect_args", {"timeout": busy_timeout_ms / 1000})
    engine = create_engine(url, echo=echo, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if not memory:
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
