"""What the repositories over one SQLAlchemy connection share: the core tables and the
base class."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Table,
    select,
)
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


def _insert(conn: Connection, table: Table) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class _Base:
    def __init__(self, conn: Connection, *, write: bool) -> None:
        self._conn = conn
        self._write = write

    def _require_write(self) -> None:
        if not self._write:
            raise StorageError("this unit of work is read-only; open it with write=True")

    def _upsert(self, table: Table, values: dict[str, Any]) -> None:
        self._require_write()
        stmt = _insert(self._conn, table).values(**values)
        changes = {k: v for k, v in values.items() if k != "id"}
        self._conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=changes))

    def _one(self, table: Table, ident: uuid.UUID, cls: type[T]) -> T | None:
        data = self._conn.execute(select(table.c.data).where(table.c.id == ident)).scalar()
        return None if data is None else loads(data, cls)
