"""The walk-in tables: settings, duty, queue entries, learned durations, announced waits.

Declared on :class:`~carebook_sqlalchemy.schema.core.Base` (the ``schema`` package imports it,
so ``Base.metadata`` holds these tables too); migration ``0002_walkins`` creates them.

A patient has at most one active (``waiting`` or ``in_session``) queue entry: a partial
unique index makes a second one impossible, on SQLite and PostgreSQL alike. The
estimate's reads go through the partial index of active entries per location, so their
cost follows the queue, not the history of check-ins.
"""

from __future__ import annotations

import uuid

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from carebook_sqlalchemy.schema.core import Base

__all__ = [
    "ACTIVE_SQL",
    "DutyRow",
    "PublishedWaitRow",
    "QueueEntryRow",
    "VisitDurationRow",
    "WalkInSettingsRow",
]

ACTIVE_SQL = "status IN ('waiting', 'in_session')"
"""The SQL condition of an active queue entry (the partial indexes use it)."""


class WalkInSettingsRow(Base):
    __tablename__ = "walkin_settings"

    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    data: Mapped[str] = mapped_column(Text)


class DutyRow(Base):
    """One row per practitioner on duty (none when off duty)."""

    __tablename__ = "practitioner_duty"

    practitioner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practitioners.id"), primary_key=True
    )
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), index=True)
    since: Mapped[int] = mapped_column(BigInteger)
    free_since: Mapped[int] = mapped_column(BigInteger)


class QueueEntryRow(Base):
    __tablename__ = "queue_entries"
    __table_args__ = (
        CheckConstraint(
            "status IN ('waiting', 'in_session', 'done', 'left', 'no_show', 'cancelled')",
            name="status_known",
        ),
        CheckConstraint("kind IN ('new', 'returning')", name="kind_known"),
        CheckConstraint("channel IN ('app', 'desk')", name="channel_known"),
        CheckConstraint("reserved_end > reserved_start", name="reserved_span_positive"),
        Index(
            "ix_queue_entries_active",
            "location_id",
            "checked_in_at",
            postgresql_where=text(ACTIVE_SQL),
            sqlite_where=text(ACTIVE_SQL),
        ),
        Index(
            "uq_queue_entries_active_patient",
            "patient_id",
            unique=True,
            postgresql_where=text(ACTIVE_SQL),
            sqlite_where=text(ACTIVE_SQL),
        ),
        Index("ix_queue_entries_checked_in", "location_id", "checked_in_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    appointment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appointments.id"), unique=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id"))
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    walk_in: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    checked_in_at: Mapped[int] = mapped_column(BigInteger)
    reserved_start: Mapped[int] = mapped_column(BigInteger)
    reserved_end: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[int | None] = mapped_column(BigInteger)
    ended_at: Mapped[int | None] = mapped_column(BigInteger)
    idempotency_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    version: Mapped[int] = mapped_column(Integer)


class VisitDurationRow(Base):
    """The learned mean visit length per location and kind (a running aggregate)."""

    __tablename__ = "visit_durations"
    __table_args__ = (
        CheckConstraint("samples >= 0", name="samples_not_negative"),
        CheckConstraint("mean_seconds >= 0", name="mean_not_negative"),
    )

    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    samples: Mapped[int] = mapped_column(Integer)
    mean_seconds: Mapped[int] = mapped_column(BigInteger)


class PublishedWaitRow(Base):
    """The wait last announced per location (WaitTimeChanged's ``previous``)."""

    __tablename__ = "published_waits"

    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    wait_minutes: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[int] = mapped_column(BigInteger)
