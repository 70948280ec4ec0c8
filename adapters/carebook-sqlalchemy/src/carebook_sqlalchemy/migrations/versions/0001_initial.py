"""Initial carebook schema.

Revision ID: 0001
Revises:
Create Date: 2025-11-21

Hand-written to match carebook_sqlalchemy.schema.core exactly (names come from its naming
convention and are spelled out here; migrations are history and import nothing from
schema.py). On PostgreSQL only: the btree_gist extension and three exclusion
constraints over ``int8range(occupied_start, occupied_end)`` (half-open) that make
overlapping time-blocking rows impossible per practitioner, per patient and per
resource. The downgrade drops every table; it leaves btree_gist installed, because
the extension belongs to the database, not to carebook.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ExcludeConstraint

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OCCUPYING_FIXED = "'pending', 'booked', 'arrived', 'fulfilled'"


def _is_postgresql() -> bool:
    return bool(op.get_context().dialect.name == "postgresql")


def _no_overlap(column: str, name: str) -> list[sa.Constraint]:
    """The exclusion constraint schema.py declares, on PostgreSQL; nothing elsewhere."""
    if not _is_postgresql():
        return []
    return [
        ExcludeConstraint(
            (sa.literal_column(column), "="),
            (
                sa.func.int8range(
                    sa.literal_column("occupied_start"), sa.literal_column("occupied_end")
                ),
                "&&",
            ),
            name=name,
            using="gist",
            where=sa.text("blocks_time"),
        )
    ]


def _owned_by_organisation(table: str) -> None:
    """A calendar table: id, organisation_id (indexed foreign key), canonical JSON data."""
    op.create_table(
        table,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f(f"fk_{table}_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    op.create_index(op.f(f"ix_{table}_organisation_id"), table, ["organisation_id"], unique=False)


def upgrade() -> None:
    if _is_postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")

    op.create_table(
        "organisations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("calendar_version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    for table in ("locations", "practitioners", "services", "patients"):
        _owned_by_organisation(table)

    op.create_table(
        "resources",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_resources_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_resources_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources")),
    )
    op.create_index(
        op.f("ix_resources_organisation_id"), "resources", ["organisation_id"], unique=False
    )
    op.create_index(op.f("ix_resources_location_id"), "resources", ["location_id"], unique=False)

    op.create_table(
        "appointments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("start_at", sa.BigInteger(), nullable=False),
        sa.Column("occupied_start", sa.BigInteger(), nullable=False),
        sa.Column("occupied_end", sa.BigInteger(), nullable=False),
        sa.Column("hold_expires_at", sa.BigInteger(), nullable=True),
        sa.Column("blocks_time", sa.Boolean(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "occupied_end > occupied_start",
            name=op.f("ck_appointments_occupied_span_positive"),
        ),
        sa.CheckConstraint(
            f"status = 'proposed' OR blocks_time = (status IN ({_OCCUPYING_FIXED}))",
            name=op.f("ck_appointments_blocks_time_matches_status"),
        ),
        *_no_overlap("practitioner_id", "ex_appointments_practitioner_overlap"),
        *_no_overlap("patient_id", "ex_appointments_patient_overlap"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_appointments_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_appointments_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_appointments_practitioner_id_practitioners"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_appointments_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_appointments_idempotency_key")),
    )
    op.create_index(
        "ix_appointments_practitioner_time",
        "appointments",
        [
            "practitioner_id",
            "occupied_end",
            "occupied_start",
            "blocks_time",
            "hold_expires_at",
            "id",
        ],
        unique=False,
    )
    op.create_index(
        "ix_appointments_patient_time",
        "appointments",
        ["patient_id", "occupied_end", "occupied_start", "blocks_time", "hold_expires_at", "id"],
    )
    op.create_index("ix_appointments_status_hold", "appointments", ["status", "hold_expires_at"])
    op.create_index(
        "ix_appointments_window",
        "appointments",
        [
            "occupied_end",
            "occupied_start",
            "practitioner_id",
            "patient_id",
            "blocks_time",
            "hold_expires_at",
            "id",
        ],
    )

    op.create_table(
        "appointment_resources",
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("occupied_start", sa.BigInteger(), nullable=False),
        sa.Column("occupied_end", sa.BigInteger(), nullable=False),
        sa.Column("hold_expires_at", sa.BigInteger(), nullable=True),
        sa.Column("blocks_time", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "occupied_end > occupied_start",
            name=op.f("ck_appointment_resources_occupied_span_positive"),
        ),
        *_no_overlap("resource_id", "ex_appointment_resources_resource_overlap"),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_resources_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resources.id"],
            name=op.f("fk_appointment_resources_resource_id_resources"),
        ),
        sa.PrimaryKeyConstraint(
            "appointment_id", "resource_id", name=op.f("pk_appointment_resources")
        ),
    )
    op.create_index(
        "ix_appointment_resources_resource_time",
        "appointment_resources",
        [
            "resource_id",
            "occupied_end",
            "occupied_start",
            "blocks_time",
            "hold_expires_at",
            "appointment_id",
        ],
    )
    op.create_index(
        "ix_appointment_resources_window",
        "appointment_resources",
        [
            "occupied_end",
            "occupied_start",
            "resource_id",
            "blocks_time",
            "hold_expires_at",
            "appointment_id",
        ],
    )

    op.create_table(
        "outbox",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("correlation_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("dispatched_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    op.create_index(op.f("ix_outbox_correlation_id"), "outbox", ["correlation_id"])
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["position"],
        postgresql_where=sa.text("dispatched_at IS NULL"),
        sqlite_where=sa.text("dispatched_at IS NULL"),
    )

    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_inbox")),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes and constraints (the exclusion constraints too).
    for table in (
        "inbox",
        "outbox",
        "appointment_resources",
        "appointments",
        "resources",
        "patients",
        "services",
        "practitioners",
        "locations",
        "organisations",
    ):
        op.drop_table(table)
