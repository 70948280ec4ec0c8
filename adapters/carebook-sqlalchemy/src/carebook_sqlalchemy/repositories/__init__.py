"""The Storage port's repositories over SQLAlchemy, one module per feature."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection

from carebook_sqlalchemy.repositories.appointments import AppointmentRepository
from carebook_sqlalchemy.repositories.calendar import CalendarCache, CalendarRepository
from carebook_sqlalchemy.repositories.messages import (
    DeliveryRepository,
    InboxRepository,
    OutboxRepository,
)
from carebook_sqlalchemy.repositories.patients import PatientRepository

__all__ = [
    "AppointmentRepository",
    "CalendarCache",
    "CalendarRepository",
    "DeliveryRepository",
    "InboxRepository",
    "OutboxRepository",
    "PatientRepository",
    "Repositories",
]


class Repositories:
    """Every repository of one unit of work."""

    def __init__(self, conn: Connection, *, write: bool, cache: CalendarCache) -> None:
        seen_versions: dict[uuid.UUID, int] = {}
        self.calendar = CalendarRepository(
            conn, write=write, cache=cache, seen_versions=seen_versions
        )
        self.patients = PatientRepository(conn, write=write, seen_versions=seen_versions)
        self.appointments = AppointmentRepository(conn, write=write)
        self.outbox = OutboxRepository(conn, write=write)
        self.inbox = InboxRepository(conn, write=write)
        self.deliveries = DeliveryRepository(conn, write=write)
