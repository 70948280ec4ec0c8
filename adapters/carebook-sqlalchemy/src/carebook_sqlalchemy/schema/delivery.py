"""Per-consumer delivery state of outbox events (``deliveries``).

Declared on :class:`~carebook_sqlalchemy.schema.core.Base` (the ``schema`` package imports
it); migration ``0004_deliveries`` creates it and adds ``outbox.due_at``. Instants are
microseconds since the epoch, so a retry time round-trips exactly. ``ix_deliveries_dead``
is partial: it holds the dead letters an administrator lists, nothing else.
"""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from carebook_sqlalchemy.schema.core import Base

__all__ = ["DEAD_SQL", "DeliveryRow"]

DEAD_SQL = "status = 'dead'"
_STATUSES = "status IN ('pending', 'delivered', 'dead')"


class DeliveryRow(Base):
    """Where one outbox event stands with one consumer."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(_STATUSES, name="status_known"),
        Index(
            "ix_deliveries_dead",
            "event_id",
            "consumer",
            postgresql_where=text(DEAD_SQL),
            sqlite_where=text(DEAD_SQL),
        ),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    consumer: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_us: Mapped[int | None] = mapped_column(BigInteger)
    updated_us: Mapped[int] = mapped_column(BigInteger)
    claim: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
