"""Reminder policies and the sent ledger (``reminder_policies``, ``reminders_sent``).

Declared on :class:`~carebook_sqlalchemy.schema.core.Base` (the ``schema`` package imports
it); migration ``0005_reminders`` creates them and ``ix_appointments_start``, the index
the reminder scan reads (appointments by start time, whatever the history). The ledger's
primary key (appointment, offset, start) is what makes a reminder go out once: a second
insert of a key does nothing.
"""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from carebook_sqlalchemy.schema.core import Base

__all__ = ["ReminderPolicyRow", "ReminderSentRow"]


class ReminderPolicyRow(Base):
    __tablename__ = "reminder_policies"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True
    )
    longest_offset: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)


class ReminderSentRow(Base):
    __tablename__ = "reminders_sent"
    # The scan's ledger lookups, by offset over the upcoming starts only: the old
    # entries of a long history are never read (migration 0006).
    __table_args__ = (Index("ix_reminders_sent_offset_start", "offset_minutes", "start_at"),)

    appointment_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    offset_minutes: Mapped[int] = mapped_column(Integer, primary_key=True)
    start_at: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sent_at: Mapped[int] = mapped_column(BigInteger)
