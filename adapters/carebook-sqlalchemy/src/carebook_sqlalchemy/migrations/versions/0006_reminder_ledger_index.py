"""Reminders: ``ix_reminders_sent_offset_start``, so that the scan's ledger lookups read
the entries of upcoming starts only, however long the history.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

Hand-written to match carebook_sqlalchemy.schema.reminders exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_reminders_sent_offset_start", "reminders_sent", ["offset_minutes", "start_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_reminders_sent_offset_start", table_name="reminders_sent")
