"""What the repositories over one SQLAlchemy connection share: the core tables and the
shared statements."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from carebook.errors import StorageError
from carebook.serialization import loads
from carebook_sqlalchemy.schema.core import (
    AppointmentResourceRow,
    AppointmentRow,
    InboxRow,
    LocationRow,
    OrganisationRow,
    OutboxRow,
    PatientRow,
    PractitionerRow,
    ResourceRow,
    ServiceRow,
)

__all__ = [
    "APPOINTMENTS",
    "APPT_RESOURCES",
    "INBOX",
    "LOCATIONS",
    "ORGS",
    "OUTBOX",
    "PATIENTS",
    "PRACTITIONERS",
    "RESOURCES",
    "SERVICES",
    "Rows",
    "T",
]


T = TypeVar("T")

ORGS: Table = OrganisationRow.__table__  # type: ignore[assignment]
LOCATIONS: Table = LocationRow.__table__  # type: ignore[assignment]
PRACTITIONERS: Table = PractitionerRow.__table__  # type: ignore[assignment]
SERVICES: Table = ServiceRow.__table__  # type: ignore[assignment]
RESOURCES: Table = ResourceRow.__table__  # type: ignore[assignment]
PATIENTS: Table = PatientRow.__table__  # type: ignore[assignment]
APPOINTMENTS: Table = AppointmentRow.__table__  # type: ignore[assignment]
APPT_RESOURCES: Table = AppointmentResourceRow.__table__  # type: ignore[assignment]
OUTBOX: Table = OutboxRow.__table__  # type: ignore[assignment]
INBOX: Table = InboxRow.__table__  # type: ignore[assignment]


class Rows:
    """One unit of work's connection, with the statements every repository shares:
    the dialect's INSERT, an upsert by id, a row's ``data`` by id, and the refusal to
    write in a read-only unit of work."""

    def __init__(self, conn: Connection, *, write: bool) -> None:
        self.conn = conn
        self.write = write

    def require_write(self) -> None:
        """Raise StorageError unless the unit of work was opened with ``write=True``."""
        if not self.write:
            raise StorageError("this unit of work is read-only; open it with write=True")

    def insert(self, table: Table) -> Any:
        """The dialect's INSERT for ``table`` (PostgreSQL's or SQLite's, with ON CONFLICT)."""
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    def upsert(self, table: Table, values: dict[str, Any]) -> None:
        """Insert ``values``, or update the row with their ``id``."""
        self.require_write()
        stmt = self.insert(table).values(**values)
        changes = {k: v for k, v in values.items() if k != "id"}
        self.conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=changes))

    def one(self, table: Table, ident: uuid.UUID, cls: type[T]) -> T | None:
        """The ``data`` of the row with id ``ident``, loaded as ``cls``, or None."""
        data = self.conn.execute(select(table.c.data).where(table.c.id == ident)).scalar()
        return None if data is None else loads(data, cls)
