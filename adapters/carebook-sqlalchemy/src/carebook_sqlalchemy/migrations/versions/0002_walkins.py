"""Walk-in check-ins: settings, duty, queue entries, learned durations, announced waits.

Revision ID: 0002
Revises: 0001
Create Date: 2025-12-01

Hand-written to match carebook_sqlalchemy.schema.walkins exactly (names spelled out as
the naming convention makes them). Two partial indexes on ``queue_entries`` (SQLite
and PostgreSQL alike): the active entries per location, which the wait estimate
reads, and a unique one that allows one active entry per patient.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = "status IN ('waiting', 'in_session')"


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "walkin_settings",
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        _fk("walkin_settings", "location_id", "locations"),
        _fk("walkin_settings", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("location_id", name=op.f("pk_walkin_settings")),
    )
    op.create_index(
        op.f("ix_walkin_settings_organisation_id"), "walkin_settings", ["organisation_id"]
    )

    op.create_table(
        "practitioner_duty",
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("since", sa.BigInteger(), nullable=False),
        sa.Column("free_since", sa.BigInteger(), nullable=False),
        _fk("practitioner_duty", "practitioner_id", "practitioners"),
        _fk("practitioner_duty", "location_id", "locations"),
        sa.PrimaryKeyConstraint("practitioner_id", name=op.f("pk_practitioner_duty")),
    )
    op.create_index(op.f("ix_practitioner_duty_location_id"), "practitioner_duty", ["location_id"])

    op.create_table(
        "queue_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("walk_in", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("checked_in_at", sa.BigInteger(), nullable=False),
        sa.Column("reserved_start", sa.BigInteger(), nullable=False),
        sa.Column("reserved_end", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=True),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=300), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('waiting', 'in_session', 'done', 'left', 'no_show', 'cancelled')",
            name=op.f("ck_queue_entries_status_known"),
        ),
        sa.CheckConstraint(
            "kind IN ('new', 'returning')", name=op.f("ck_queue_entries_kind_known")
        ),
        sa.CheckConstraint(
            "channel IN ('app', 'desk')", name=op.f("ck_queue_entries_channel_known")
        ),
        sa.CheckConstraint(
            "reserved_end > reserved_start",
            name=op.f("ck_queue_entries_reserved_span_positive"),
        ),
        _fk("queue_entries", "organisation_id", "organisations"),
        _fk("queue_entries", "location_id", "locations"),
        _fk("queue_entries", "patient_id", "patients"),
        _fk("queue_entries", "appointment_id", "appointments"),
        _fk("queue_entries", "practitioner_id", "practitioners"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_entries")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_queue_entries_appointment_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_queue_entries_idempotency_key")),
    )
    op.create_index(
        "ix_queue_entries_active",
        "queue_entries",
        ["location_id", "checked_in_at"],
        postgresql_where=sa.text(_ACTIVE),
        sqlite_where=sa.text(_ACTIVE),
    )
    op.create_index(
        "uq_queue_entries_active_patient",
        "queue_entries",
        ["patient_id"],
        unique=True,
        postgresql_where=sa.text(_ACTIVE),
        sqlite_where=sa.text(_ACTIVE),
    )
    op.create_index(
        "ix_queue_entries_checked_in", "queue_entries", ["location_id", "checked_in_at"]
    )

    op.create_table(
        "visit_durations",
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("mean_seconds", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("samples >= 0", name=op.f("ck_visit_durations_samples_not_negative")),
        sa.CheckConstraint("mean_seconds >= 0", name=op.f("ck_visit_durations_mean_not_negative")),
        _fk("visit_durations", "location_id", "locations"),
        sa.PrimaryKeyConstraint("location_id", "kind", name=op.f("pk_visit_durations")),
    )

    op.create_table(
        "published_waits",
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("wait_minutes", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.BigInteger(), nullable=False),
        _fk("published_waits", "location_id", "locations"),
        sa.PrimaryKeyConstraint("location_id", name=op.f("pk_published_waits")),
    )


def downgrade() -> None:
    for table in (
        "published_waits",
        "visit_durations",
        "queue_entries",
        "practitioner_duty",
        "walkin_settings",
    ):
        op.drop_table(table)
