"""The booking saga: pricing configuration, promo codes and uses, the daily discount
quota, the pricing audit trail, booking sagas and their timelines.

Revision ID: 0003
Revises: 0002
Create Date: 2025-12-08

Hand-written to match carebook_sqlalchemy.schema.sagas exactly (names spelled out as the
naming convention makes them). ``ix_booking_sagas_unfinished`` is partial (SQLite and
PostgreSQL alike): it holds only the sagas a resume has to look at.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNFINISHED = "status IN ('awaiting_payment', 'compensating')"
_STATUSES = "status IN ('awaiting_payment', 'compensating', 'confirmed', 'failed')"


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _position() -> sa.Column[int]:
    return sa.Column(
        "position",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "pricing_configs",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        _fk("pricing_configs", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_pricing_configs")),
    )
    op.create_table(
        "promo_codes",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        _fk("promo_codes", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("organisation_id", "code", name=op.f("pk_promo_codes")),
    )
    op.create_table(
        "promo_uses",
        sa.Column("saga_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        _fk("promo_uses", "organisation_id", "organisations"),
        _fk("promo_uses", "patient_id", "patients"),
        sa.PrimaryKeyConstraint("saga_id", name=op.f("pk_promo_uses")),
    )
    op.create_index("ix_promo_uses_code", "promo_uses", ["organisation_id", "code", "patient_id"])
    op.create_table(
        "discount_quota",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.CheckConstraint("used >= 0", name=op.f("ck_discount_quota_used_not_negative")),
        _fk("discount_quota", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("organisation_id", "day", name=op.f("pk_discount_quota")),
    )
    op.create_table(
        "discount_quota_reservations",
        sa.Column("saga_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        _fk("discount_quota_reservations", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("saga_id", name=op.f("pk_discount_quota_reservations")),
    )
    op.create_table(
        "pricing_audit",
        _position(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        _fk("pricing_audit", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_pricing_audit")),
        sa.UniqueConstraint("id", name=op.f("uq_pricing_audit_id")),
    )
    op.create_index(
        "ix_pricing_audit_organisation", "pricing_audit", ["organisation_id", "position"]
    )
    op.create_table(
        "booking_sagas",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=False),
        sa.Column("intent_id", sa.String(length=200), nullable=True),
        sa.Column("requested_us", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.CheckConstraint(_STATUSES, name=op.f("ck_booking_sagas_status_known")),
        _fk("booking_sagas", "organisation_id", "organisations"),
        _fk("booking_sagas", "appointment_id", "appointments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_sagas")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_booking_sagas_idempotency_key")),
        sa.UniqueConstraint("intent_id", name=op.f("uq_booking_sagas_intent_id")),
    )
    op.create_index(
        "ix_booking_sagas_unfinished",
        "booking_sagas",
        ["requested_us", "id"],
        postgresql_where=sa.text(_UNFINISHED),
        sqlite_where=sa.text(_UNFINISHED),
    )
    op.create_table(
        "saga_events",
        _position(),
        sa.Column("saga_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _fk("saga_events", "saga_id", "booking_sagas"),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_saga_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_saga_events_event_id")),
    )
    op.create_index("ix_saga_events_saga", "saga_events", ["saga_id", "position"])


def downgrade() -> None:
    for table in (
        "saga_events",
        "booking_sagas",
        "pricing_audit",
        "discount_quota_reservations",
        "discount_quota",
        "promo_uses",
        "promo_codes",
        "pricing_configs",
    ):
        op.drop_table(table)
