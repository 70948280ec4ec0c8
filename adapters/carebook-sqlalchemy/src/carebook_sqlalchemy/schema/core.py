"""The tables, as typed SQLAlchemy mappings. The domain classes never see them.

Calendar rows keep the domain value as canonical JSON (``data``) beside the columns
queries filter on. Appointments keep their time as epoch seconds, so one busy-time
query serves SQLite and PostgreSQL alike. ``blocks_time`` says whether a row still
occupies its span: true for every occupying status, and for a hold until it is
released after expiry.

Busy-time indexes lead with the owner and ``occupied_end``: a window's scan covers what
ends after the window starts (the window and the future), never the history, and the
index holds every column the busy query reads. On PostgreSQL, exclusion
constraints over
``int8range(occupied_start, occupied_end)`` (half-open) make overlaps impossible for a
practitioner, a patient and a resource.
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
    MetaData,
    String,
    Text,
    Uuid,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "OCCUPYING_FIXED",
    "AppointmentResourceRow",
    "AppointmentRow",
    "Base",
    "InboxRow",
    "LocationRow",
    "OrganisationRow",
    "OutboxRow",
    "PatientRow",
    "PractitionerRow",
    "ResourceRow",
    "ServiceRow",
]

OCCUPYING_FIXED = ("pending", "booked", "arrived", "fulfilled")
"""Statuses that always occupy their time (``proposed`` does until it expires)."""

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _blocks_time_matches_status() -> CheckConstraint:
    fixed = ", ".join(f"'{s}'" for s in OCCUPYING_FIXED)
    return CheckConstraint(
        f"status = 'proposed' OR blocks_time = (status IN ({fixed}))",
        name="blocks_time_matches_status",
    )


def _no_overlap(column: str, name: str) -> ExcludeConstraint:
    return ExcludeConstraint(
        (literal_column(column), "="),
        (func.int8range(literal_column("occupied_start"), literal_column("occupied_end")), "&&"),
        name=name,
        using="gist",
        where=text("blocks_time"),
    ).ddl_if(dialect="postgresql")


class OrganisationRow(Base):
    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    calendar_version: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    """Bumped in the same transaction as any change to the organisation's calendar."""


class LocationRow(Base):
    __tablename__ = "locations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    data: Mapped[str] = mapped_column(Text)


class PractitionerRow(Base):
    __tablename__ = "practitioners"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    data: Mapped[str] = mapped_column(Text)


class ServiceRow(Base):
    __tablename__ = "services"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    data: Mapped[str] = mapped_column(Text)


class ResourceRow(Base):
    __tablename__ = "resources"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), index=True)
    data: Mapped[str] = mapped_column(Text)


class PatientRow(Base):
    __tablename__ = "patients"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    data: Mapped[str] = mapped_column(Text)


class AppointmentRow(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("occupied_end > occupied_start", name="occupied_span_positive"),
        _blocks_time_matches_status(),
        Index(
            "ix_appointments_practitioner_time",
            "practitioner_id",
            "occupied_end",
            "occupied_start",
            "blocks_time",
            "hold_expires_at",
            "id",
        ),
        Index(
            "ix_appointments_patient_time",
            "patient_id",
            "occupied_end",
            "occupied_start",
            "blocks_time",
            "hold_expires_at",
            "id",
        ),
        Index("ix_appointments_status_hold", "status", "hold_expires_at"),
        # The reminder scan: appointments by start, the history never read (0005).
        Index("ix_appointments_start", "start_at", "id"),
        # A search over many owners reads one time range instead of probing per owner.
        Index(
            "ix_appointments_window",
            "occupied_end",
            "occupied_start",
            "practitioner_id",
            "patient_id",
            "blocks_time",
            "hold_expires_at",
            "id",
        ),
        _no_overlap("practitioner_id", "ex_appointments_practitioner_overlap"),
        _no_overlap("patient_id", "ex_appointments_patient_overlap"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"))
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    status: Mapped[str] = mapped_column(String(32))
    start_at: Mapped[int] = mapped_column(BigInteger)
    occupied_start: Mapped[int] = mapped_column(BigInteger)
    occupied_end: Mapped[int] = mapped_column(BigInteger)
    hold_expires_at: Mapped[int | None] = mapped_column(BigInteger)
    blocks_time: Mapped[bool] = mapped_column(Boolean)
    idempotency_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)


class AppointmentResourceRow(Base):
    __tablename__ = "appointment_resources"
    __table_args__ = (
        CheckConstraint("occupied_end > occupied_start", name="occupied_span_positive"),
        Index(
            "ix_appointment_resources_resource_time",
            "resource_id",
            "occupied_end",
            "occupied_start",
            "blocks_time",
            "hold_expires_at",
            "appointment_id",
        ),
        Index(
            "ix_appointment_resources_window",
            "occupied_end",
            "occupied_start",
            "resource_id",
            "blocks_time",
            "hold_expires_at",
            "appointment_id",
        ),
        _no_overlap("resource_id", "ex_appointment_resources_resource_overlap"),
    )

    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointments.id"), primary_key=True
    )
    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("resources.id"), primary_key=True)
    occupied_start: Mapped[int] = mapped_column(BigInteger)
    occupied_end: Mapped[int] = mapped_column(BigInteger)
    hold_expires_at: Mapped[int | None] = mapped_column(BigInteger)
    blocks_time: Mapped[bool] = mapped_column(Boolean)


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "position",
            postgresql_where=text("dispatched_at IS NULL"),
            sqlite_where=text("dispatched_at IS NULL"),
        ),
    )

    position: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    correlation_id: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)
    dispatched_at: Mapped[int | None] = mapped_column(BigInteger)
    due_at: Mapped[int | None] = mapped_column(BigInteger)
    """Microseconds since the epoch: deferred until then (None: due at once)."""


class InboxRow(Base):
    __tablename__ = "inbox"

    consumer: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
