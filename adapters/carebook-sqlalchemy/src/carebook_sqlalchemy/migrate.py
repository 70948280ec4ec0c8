"""Schema migrations: upgrade a database, read its revision, refuse one that is behind.

The Alembic scripts ship inside the package (``carebook_sqlalchemy/migrations``) and are
configured in code, so no ``alembic.ini`` is needed. Every migration run uses one
connection and one transaction: on PostgreSQL the DDL is transactional (and a
transaction-scoped advisory lock lets several processes call :func:`upgrade` at once);
on SQLite the transaction starts with ``BEGIN IMMEDIATE`` (the adapter's write option),
which serialises concurrent upgrades of one file.

From the command line: ``carebook-sqlalchemy upgrade URL`` (see :mod:`.cli`).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL, make_url

from carebook.errors import ConfigurationError, StorageError
from carebook_sqlalchemy.engine import WRITE_OPTION, make_engine, redact
from carebook_sqlalchemy.errors import translated

__all__ = [
    "COMMAND",
    "MIGRATIONS_DIR",
    "MigrationError",
    "SchemaNotCurrentError",
    "current_revision",
    "downgrade",
    "head_revision",
    "require_current",
    "upgrade",
    "upgrade_command",
]

COMMAND = "carebook-sqlalchemy"
"""The console script that runs the migrations."""

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""The Alembic script directory shipped in the package."""

# pg_advisory_xact_lock key: "carebook" in ASCII, read as a signed 64-bit integer.
_PG_LOCK_KEY = int.from_bytes(b"carebook", "big", signed=True)


class MigrationError(StorageError):
    """A migration could not run (unknown revision, a database migrated by a newer version...)."""

    code: ClassVar[str] = "migration_failed"


class SchemaNotCurrentError(MigrationError):
    """The database schema is not at the revision this version of the adapter needs.

    ``current`` is the database's revision (``None``: no carebook schema at all), ``head``
    the one the code needs, ``url`` the database URL with its password hidden.
    """

    code: ClassVar[str] = "schema_not_current"

    def __init__(self, *, current: str | None, head: str, url: str, known: bool = True) -> None:
        self.current = current
        self.head = head
        self.url = url
        if current is not None and not known:
            message = (
                f"the database at {url} is at schema revision {current!r}, which this version "
                f"of carebook-sqlalchemy does not know (it needs {head!r}): the database was "
                "migrated by a newer carebook-sqlalchemy; install that version"
            )
        else:
            state = (
                "has no carebook schema"
                if current is None
                else f"is at schema revision {current!r}"
            )
            message = (
                f"the database at {url} {state}, but this version of carebook-sqlalchemy "
                f"needs revision {head!r}; run the migrations first: {upgrade_command(url)}"
            )
        super().__init__(message)


def upgrade_command(url: str | URL) -> str:
    """The shell command that upgrades ``url`` (its password hidden, with a hint if so)."""
    shown = redact(url)
    quoted = "'" + shown.replace("'", "'\"'\"'") + "'"
    hint = " (put the password back in place of ***)" if ":***@" in shown else ""
    return f"{COMMAND} upgrade {quoted}{hint}"


def _config(connection: Connection | None = None, output: io.StringIO | None = None) -> Config:
    config = Config(output_buffer=output)
    # Config options go through configparser interpolation: escape '%'.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    """The newest revision shipped in this package: the one the code needs."""
    head = _script().get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise MigrationError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def _is_known(revision: str) -> bool:
    try:
        return _script().get_revision(revision) is not None
    except (CommandError, RevisionError):
        return False


def _where(bind: Connection | Engine) -> str:
    return redact(bind.engine.url)


def current_revision(connection_or_engine: Connection | Engine) -> str | None:
    """The database's schema revision, or ``None`` when it has no carebook schema."""
    with translated(_where(connection_or_engine)):
        if isinstance(connection_or_engine, Engine):
            with connection_or_engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision()
        return MigrationContext.configure(connection_or_engine).get_current_revision()


def require_current(engine: Engine, url_for_messages: str | URL | None = None) -> None:
    """Raise :class:`SchemaNotCurrentError` unless the database is at :func:`head_revision`.

    Call it before any work starts. ``url_for_messages`` (default: the engine's URL) is
    shown with its password hidden.
    """
    url = redact(engine.url if url_for_messages is None else url_for_messages)
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        known = current is None or _is_known(current)
        raise SchemaNotCurrentError(current=current, head=head, url=url, known=known)


@contextmanager
def _engine_for(target: str | URL | Engine) -> Iterator[Engine]:
    if isinstance(target, Engine):
        yield target
        return
    engine = make_engine(target)
    try:
        yield engine
    finally:
        engine.dispose()


def _run(target: str | URL | Engine, action: Callable[[Config], None]) -> None:
    with _engine_for(target) as engine:
        where = redact(engine.url)
        try:
            with translated(where), engine.connect() as connection:
                connection.execution_options(**{WRITE_OPTION: True})
                with connection.begin():
                    if connection.dialect.name == "postgresql":
                        connection.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY}
                        )
                    action(_config(connection))
        except (CommandError, RevisionError) as exc:
            raise MigrationError(f"cannot migrate the database at {where}: {exc}") from None


def upgrade(target: str | URL | Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (default: the newest). A no-op when it is there.

    ``target`` is a storage URL (an engine is made and disposed of) or an engine.
    """
    _run(target, lambda config: command.upgrade(config, revision))


def downgrade(target: str | URL | Engine, revision: str) -> None:
    """Downgrade the database to ``revision`` (``"base"``: drop every carebook table)."""
    _run(target, lambda config: command.downgrade(config, revision))


def sql(url: str | URL, revision: str = "head", *, down: bool = False) -> str:
    """The SQL that :func:`upgrade` (or, with ``down``, :func:`downgrade`) would run on a
    database of ``url``'s dialect, without connecting to one: for a DBA to review, or to
    run by hand. ``revision`` is a target (``head``) or a range ``FROM:TO`` (``0003:head``;
    a downgrade always needs the range, say ``head:0003``). Offline SQL is meant for
    PostgreSQL; it is written for SQLite too, but a SQLite migration that has to copy a
    table (Alembic's batch mode) may need the live file.
    """
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() not in ("postgresql", "sqlite"):
        raise ConfigurationError(
            f"offline SQL is for postgresql or sqlite URLs, not {parsed.get_backend_name()!r}"
        )
    if down and ":" not in revision:
        raise ConfigurationError("offline downgrade SQL needs a range FROM:TO, e.g. head:0003")
    output = io.StringIO()
    config = _config(output=output)
    config.set_main_option(
        "sqlalchemy.url", parsed.render_as_string(hide_password=True).replace("%", "%%")
    )
    try:
        if down:
            command.downgrade(config, revision, sql=True)
        else:
            command.upgrade(config, revision, sql=True)
    except (CommandError, RevisionError) as exc:
        raise MigrationError(f"cannot write the migration SQL: {exc}") from None
    return output.getvalue()
