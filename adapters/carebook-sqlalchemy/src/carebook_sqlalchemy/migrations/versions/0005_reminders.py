"""Reminders: ``reminder_policies``, the ``reminders_sent`` ledger, and
``ix_appointments_start`` for the scan of appointments by start time.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

Hand-written to match carebook_sqlalchemy.schema.reminders and the appointments index of
carebook_sqlalchemy.schema.core exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminder_policies",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("longest_offset", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_reminder_policies_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_reminder_policies")),
    )
    op.create_table(
        "reminders_sent",
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "appointment_id", "offset_minutes", "start_at", name=op.f("pk_reminders_sent")
        ),
    )
    op.create_index("ix_appointments_start", "appointments", ["start_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_appointments_start", table_name="appointments")
    op.drop_table("reminders_sent")
    op.drop_table("reminder_policies")
