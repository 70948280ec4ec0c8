"""Translate driver errors into carebook's typed errors (never leaking a password).

PostgreSQL SQLSTATEs: 23P01 exclusion violation -> SlotUnavailableError; 23505 unique
violation -> TransientStorageError for a racing idempotency key (the retry finds the
winner), ConflictError otherwise; 40001 serialization failure and 40P01 deadlock ->
TransientStorageError (the service layer retries); 28P01/28000 -> StorageError. A
connection lost under a statement -> TransientStorageError (re-run on a fresh one).
SQLite: "database is locked"/"busy" -> TransientStorageError.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from carebook.errors import (
    CarebookError,
    ConflictError,
    SlotUnavailableError,
    StorageError,
    TransientStorageError,
)

__all__ = ["translate", "translated"]

IDEMPOTENCY_CONSTRAINT = "uq_appointments_idempotency_key"


def _sqlstate(exc: DBAPIError) -> str | None:
    state = getattr(exc.orig, "sqlstate", None)
    return state if isinstance(state, str) else None


def _constraint(exc: DBAPIError) -> str:
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return name if isinstance(name, str) else ""


def translate(exc: SQLAlchemyError, where: str) -> CarebookError:
    """The carebook error for a SQLAlchemy/driver error; ``where`` is a redacted URL."""
    if not isinstance(exc, DBAPIError):
        return StorageError(f"storage error at {where}: {type(exc).__name__}")
    state = _sqlstate(exc)
    text = str(exc.orig).lower()
    if state == "23P01":
        return SlotUnavailableError(
            f"the time is already taken ({_constraint(exc) or 'exclusion constraint'})"
        )
    if state in ("40001", "40P01"):
        return TransientStorageError(f"transient conflict ({state})")
    if state == "23505" or "unique constraint failed" in text:
        if IDEMPOTENCY_CONSTRAINT in _constraint(exc) or "idempotency_key" in text:
            return TransientStorageError("a concurrent request used the same idempotency key")
        return ConflictError("a row with that key already exists")
    if state in ("28P01", "28000"):
        return StorageError(f"authentication failed at {where} (password not shown)")
    if "database is locked" in text or "database table is locked" in text:
        return TransientStorageError("the SQLite database is busy")
    if exc.connection_invalidated and exc.statement is not None:
        # An established connection dropped under a statement: the pool has discarded
        # it; running the unit of work again opens a fresh one.
        return TransientStorageError("the database connection was lost")
    if exc.connection_invalidated or (
        state in (None, "08001", "08006") and ("connect" in text or "unable to open" in text)
    ):
        return StorageError(f"cannot reach the database at {where}: {_first_line(exc)}")
    if state is None and type(exc.orig).__module__.split(".")[0] == "psycopg":
        # psycopg reports failures to reach a server (DNS, refused, timed out) with no
        # SQLSTATE: the server never answered.
        return StorageError(f"cannot reach the database at {where}: {_first_line(exc)}")
    if state is not None and state.startswith("23"):
        return ConflictError(f"the change breaks a database constraint ({state})")
    return StorageError(f"database error at {where} ({state or type(exc.orig).__name__})")


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else "no detail"


@contextlib.contextmanager
def translated(where: str) -> Iterator[None]:
    """Run a block, raising carebook errors instead of SQLAlchemy ones."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise translate(exc, where) from exc
