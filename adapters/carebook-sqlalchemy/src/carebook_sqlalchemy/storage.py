"""The Storage port over SQLAlchemy: SQLite by default, PostgreSQL at scale."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from carebook.errors import CarebookError, ConfigurationError, StorageError
from carebook_sqlalchemy.engine import WRITE_OPTION, make_engine, parse_url, redact
from carebook_sqlalchemy.errors import translate
from carebook_sqlalchemy.repositories import (
    AppointmentRepository,
    CalendarCache,
    CalendarRepository,
    DeliveryRepository,
    InboxRepository,
    OutboxRepository,
    PatientRepository,
    Repositories,
)
from carebook_sqlalchemy.repositories.pricing import PricingRepository
from carebook_sqlalchemy.repositories.reminders import ReminderRepository
from carebook_sqlalchemy.repositories.sagas import SagaRepository
from carebook_sqlalchemy.repositories.walkins import WalkInRepository

__all__ = ["SqlStorage", "SqlUnitOfWork"]


class _Translating:
    """Wraps a repository so every driver error becomes a carebook error."""

    def __init__(self, inner: object, where: str, secret: str | None) -> None:
        self._inner = inner
        self._where = where
        self._secret = secret

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attr(*args, **kwargs)
            except SQLAlchemyError as exc:
                raise _scrub(translate(exc, self._where), self._secret) from None

        return call


def _scrub(error: CarebookError, secret: str | None) -> CarebookError:
    if secret and secret in str(error):
        return type(error)(str(error).replace(secret, "***"))
    return error


class SqlUnitOfWork:
    """One database transaction. Write units of work start with ``BEGIN IMMEDIATE`` on
    SQLite; leaving without :meth:`commit` rolls back."""

    calendar: CalendarRepository
    patients: PatientRepository
    appointments: AppointmentRepository
    outbox: OutboxRepository
    inbox: InboxRepository
    deliveries: DeliveryRepository
    walkins: WalkInRepository
    pricing: PricingRepository
    sagas: SagaRepository
    reminders: ReminderRepository

    def __init__(self, storage: SqlStorage, *, write: bool) -> None:
        self._storage = storage
        self._write = write
        self._conn: Connection | None = None

        self.committed = False

    def __enter__(self) -> SqlUnitOfWork:
        try:
            conn = self._storage.engine.connect()
            self._conn = conn.execution_options(**{WRITE_OPTION: self._write})
            self._conn.begin()
        except SQLAlchemyError as exc:
            self._close()
            raise self._storage.error(exc) from None
        repos = Repositories(self._conn, write=self._write, cache=self._storage.calendars)
        where, secret = self._storage.display_url, self._storage.secret
        for name in ("calendar", "patients", "appointments", "outbox", "inbox", "deliveries"):
            setattr(self, name, _Translating(getattr(repos, name), where, secret))
        walkins = WalkInRepository(self._conn, write=self._write)
        self.walkins = _Translating(walkins, where, secret)  # type: ignore[assignment]
        pricing = PricingRepository(self._conn, write=self._write)
        self.pricing = _Translating(pricing, where, secret)  # type: ignore[assignment]
        sagas = SagaRepository(self._conn, write=self._write)
        self.sagas = _Translating(sagas, where, secret)  # type: ignore[assignment]
        reminders = ReminderRepository(self._conn, write=self._write)
        self.reminders = _Translating(reminders, where, secret)  # type: ignore[assignment]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        if not self._write:
            raise StorageError("this unit of work is read-only; open it with write=True")
        assert self._conn is not None, "use the unit of work in a 'with' block"
        try:
            self._conn.commit()
        except SQLAlchemyError as exc:
            raise self._storage.error(exc) from None
        # The next statement (if any) begins a new transaction by itself; nothing is
        # locked between a commit and the end of the ``with`` block.
        self.committed = True

    def rollback(self) -> None:
        if self._conn is not None and self._conn.in_transaction():
            try:
                self._conn.rollback()
            except SQLAlchemyError as exc:
                raise self._storage.error(exc) from None


class SqlStorage:
    """Storage in a SQL database reached by ``url``.

    The schema comes from the packaged Alembic migrations; a database at another
    revision is refused with the command that upgrades it, unless ``migrate=True``.
    """

    def __init__(
        self, url: str, *, migrate: bool = False, echo: bool = False, **engine_options: Any
    ) -> None:
        parsed = parse_url(url)
        self.display_url = redact(parsed)
        self.secret = parsed.password if isinstance(parsed.password, str) else None
        self.engine = make_engine(parsed, echo=echo, **engine_options)
        self.calendars = CalendarCache()
        """Decoded calendars of this process, reused while their version is current."""
        from carebook_sqlalchemy import migrate as migrations

        try:
            if migrate:
                migrations.upgrade(self.engine)
            else:
                migrations.require_current(self.engine, self.display_url)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise self.error(exc) from None
        except BaseException:
            self.engine.dispose()
            raise

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SqlStorage:
        """Build from config options: ``url`` (required), ``migrate``, ``echo``."""
        known = {"url", "migrate", "echo", "pool_size", "max_overflow", "busy_timeout_ms"}
        unknown = set(options) - known
        if unknown:
            raise ConfigurationError(f"unknown sqlalchemy storage options: {sorted(unknown)}")
        if "url" not in options:
            raise ConfigurationError("the sqlalchemy storage needs a 'url' option")
        for name in ("migrate", "echo"):
            if name in options and not isinstance(options[name], bool):
                raise ConfigurationError(
                    f"sqlalchemy storage option {name!r} must be true or false"
                )
        for name in ("pool_size", "max_overflow", "busy_timeout_ms"):
            value = options.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigurationError(
                    f"sqlalchemy storage option {name!r} must be a whole number >= 0"
                )
        rest = {k: v for k, v in options.items() if k != "url"}
        return cls(options["url"], **rest)

    def error(self, exc: SQLAlchemyError) -> CarebookError:
        return _scrub(translate(exc, self.display_url), self.secret)

    def unit_of_work(self, *, write: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self, write=write)

    def close(self) -> None:
        self.engine.dispose()
