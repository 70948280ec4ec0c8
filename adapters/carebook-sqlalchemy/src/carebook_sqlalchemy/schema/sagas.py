"""The booking saga's tables: pricing configuration, promo codes and their uses, the
daily discount quota, the pricing audit trail, booking sagas and their timelines.

Declared on :class:`~carebook_sqlalchemy.schema.core.Base` (the ``schema`` package imports it);
migration ``0003_sagas`` creates them.

``discount_quota`` holds one counter row per organisation and day; a reservation is one
statement, ``INSERT ... ON CONFLICT (organisation_id, day) DO UPDATE SET used = used + 1
WHERE used < :limit RETURNING used``, so two writers can never both take the last unit
(the row lock serialises them and the condition is re-checked on the latest row). A
``discount_quota_reservations`` row per saga makes reserving and releasing idempotent.
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
    "UNFINISHED_SQL",
    "BookingSagaRow",
    "DiscountQuotaRow",
    "PricingAuditRow",
    "PricingConfigRow",
    "PromoCodeRow",
    "PromoUseRow",
    "QuotaReservationRow",
    "SagaEventRow",
]

UNFINISHED_SQL = "status IN ('awaiting_payment', 'compensating')"
"""The SQL condition of a saga that is not yet confirmed or failed."""
_STATUSES = "status IN ('awaiting_payment', 'compensating', 'confirmed', 'failed')"


class PricingConfigRow(Base):
    __tablename__ = "pricing_configs"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)


class PromoCodeRow(Base):
    __tablename__ = "promo_codes"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[str] = mapped_column(Text)


class PromoUseRow(Base):
    """One use of a promo code, by one saga (released when the saga fails)."""

    __tablename__ = "promo_uses"
    __table_args__ = (Index("ix_promo_uses_code", "organisation_id", "code", "patient_id"),)

    saga_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    code: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))


class DiscountQuotaRow(Base):
    """How many discounted bookings one organisation made on one quota day."""

    __tablename__ = "discount_quota"
    __table_args__ = (CheckConstraint("used >= 0", name="used_not_negative"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    used: Mapped[int] = mapped_column(Integer)


class QuotaReservationRow(Base):
    """The quota unit one saga holds."""

    __tablename__ = "discount_quota_reservations"

    saga_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    day: Mapped[str] = mapped_column(String(10))


class PricingAuditRow(Base):
    __tablename__ = "pricing_audit"
    __table_args__ = (Index("ix_pricing_audit_organisation", "organisation_id", "position"),)

    position: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    data: Mapped[str] = mapped_column(Text)


class BookingSagaRow(Base):
    __tablename__ = "booking_sagas"
    __table_args__ = (
        CheckConstraint(_STATUSES, name="status_known"),
        Index(
            "ix_booking_sagas_unfinished",
            "requested_us",
            "id",
            postgresql_where=text(UNFINISHED_SQL),
            sqlite_where=text(UNFINISHED_SQL),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    appointment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appointments.id"))
    status: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    intent_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    requested_us: Mapped[int] = mapped_column(BigInteger)
    """When the booking was requested, in microseconds since the epoch (paging order)."""
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)


class SagaEventRow(Base):
    """A saga's timeline: its events in the order they were written."""

    __tablename__ = "saga_events"
    __table_args__ = (Index("ix_saga_events_saga", "saga_id", "position"),)

    position: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    saga_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("booking_sagas.id"))
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    payload: Mapped[str] = mapped_column(Text)
