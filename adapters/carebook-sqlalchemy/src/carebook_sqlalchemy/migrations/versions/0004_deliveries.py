"""Per-consumer delivery state: the ``deliveries`` table, and ``outbox.due_at`` (when an
undispatched event's next consumer retry is due).

Revision ID: 0004
Revises: 0003
Create Date: 2026-01-12

Hand-written to match carebook_sqlalchemy.schema.delivery and the outbox of
carebook_sqlalchemy.schema.core exactly. Outbox rows written before this revision have no
``due_at`` and are due at once, as they were.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DEAD = "status = 'dead'"
_STATUSES = "status IN ('pending', 'delivered', 'dead')"


def upgrade() -> None:
    op.add_column("outbox", sa.Column("due_at", sa.BigInteger(), nullable=True))
    op.create_table(
        "deliveries",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_us", sa.BigInteger(), nullable=True),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.Column("claim", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(_STATUSES, name=op.f("ck_deliveries_status_known")),
        sa.PrimaryKeyConstraint("event_id", "consumer", name=op.f("pk_deliveries")),
    )
    op.create_index(
        "ix_deliveries_dead",
        "deliveries",
        ["event_id", "consumer"],
        postgresql_where=sa.text(_DEAD),
        sqlite_where=sa.text(_DEAD),
    )


def downgrade() -> None:
    op.drop_table("deliveries")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("due_at")
