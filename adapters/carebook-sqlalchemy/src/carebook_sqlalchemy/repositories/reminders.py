"""The reminder repository over one SQLAlchemy connection (one unit of work).

The ledger insert is ``INSERT ... ON CONFLICT DO NOTHING``: on PostgreSQL a second
writer of the same key waits for the first transaction and then inserts nothing; on
SQLite writers are serialised by ``BEGIN IMMEDIATE``. Either way one unit of work
records a reminder, and only that one writes its event.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, Table, and_, bindparam, false, func, or_, select

from carebook.domain.ids import AppointmentId, OrganisationId
from carebook.domain.reminders import ReminderPolicy
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.serialization import dumps, loads
from carebook_sqlalchemy.repositories.base import APPOINTMENTS, Rows
from carebook_sqlalchemy.schema.reminders import ReminderPolicyRow, ReminderSentRow

__all__ = ["ReminderRepository"]

POLICIES: Table = ReminderPolicyRow.__table__  # type: ignore[assignment]
SENT: Table = ReminderSentRow.__table__  # type: ignore[assignment]
_ACTIVE = [AppointmentStatus.PENDING.value, AppointmentStatus.BOOKED.value]
_POLICY = select(POLICIES.c.data).where(POLICIES.c.organisation_id == bindparam("org"))
_LONGEST = select(func.max(POLICIES.c.longest_offset))
_ALL = select(POLICIES.c.data).order_by(POLICIES.c.organisation_id)


def _owed(offset: int, first: int, last: int) -> ColumnElement[bool]:
    """Starts by ``last`` and has no ledger entry for ``offset`` at its start.

    The bounds on the entry's own start repeat what the correlation implies; they let
    the planner read only the ledger entries of the scanned starts (by
    ``ix_reminders_sent_offset_start``) when it hashes the lookup instead of probing
    the primary key, so that neither plan reads the history's entries."""
    settled = (
        select(SENT.c.appointment_id)
        .where(
            SENT.c.offset_minutes == offset,
            SENT.c.start_at > first,
            SENT.c.start_at <= last,
            SENT.c.appointment_id == APPOINTMENTS.c.id,
            SENT.c.start_at == APPOINTMENTS.c.start_at,
        )
        .exists()
    )
    return and_(APPOINTMENTS.c.start_at <= last, ~settled)


class ReminderRepository:
    def __init__(self, conn: Connection, *, write: bool) -> None:
        self._conn = conn
        self._rows = Rows(conn, write=write)

    def policy(self, organisation_id: OrganisationId) -> ReminderPolicy | None:
        data = self._conn.execute(_POLICY, {"org": organisation_id}).scalar()
        return None if data is None else loads(data, ReminderPolicy)

    def set_policy(self, organisation_id: OrganisationId, policy: ReminderPolicy) -> None:
        self._rows.require_write()
        values = {"longest_offset": policy.longest, "data": dumps(policy)}
        stmt = self._rows.insert(POLICIES).values(organisation_id=organisation_id, **values)
        self._conn.execute(
            stmt.on_conflict_do_update(index_elements=[POLICIES.c.organisation_id], set_=values)
        )

    def longest_offset(self) -> int:
        return int(self._conn.execute(_LONGEST).scalar() or 0)

    def policies(self) -> list[ReminderPolicy]:
        return [loads(d, ReminderPolicy) for d in self._conn.execute(_ALL).scalars()]

    def upcoming(
        self,
        start_after: int,
        start_until: int,
        limit: int,
        after: AppointmentId | None = None,
        unsettled: Sequence[tuple[int, int]] | None = None,
    ) -> list[Appointment]:
        conditions = [
            APPOINTMENTS.c.start_at > start_after,
            APPOINTMENTS.c.start_at <= start_until,
            APPOINTMENTS.c.status.in_(_ACTIVE),
        ]
        if unsettled is not None:
            conditions.append(or_(false(), *(_owed(o, start_after, last) for o, last in unsettled)))
        if after is not None:
            mark = select(APPOINTMENTS.c.start_at).where(APPOINTMENTS.c.id == after)
            last = self._conn.execute(mark).scalar()
            if last is not None:
                conditions.append(
                    or_(
                        APPOINTMENTS.c.start_at > last,
                        (APPOINTMENTS.c.start_at == last) & (APPOINTMENTS.c.id > after),
                    )
                )
        stmt = (
            select(APPOINTMENTS.c.data)
            .where(*conditions)
            .order_by(APPOINTMENTS.c.start_at, APPOINTMENTS.c.id)
            .limit(limit)
        )
        return [loads(d, Appointment) for d in self._conn.execute(stmt).scalars()]

    def sent(self, appointment_ids: list[AppointmentId]) -> set[tuple[AppointmentId, int, int]]:
        if not appointment_ids:
            return set()
        stmt = select(SENT.c.appointment_id, SENT.c.offset_minutes, SENT.c.start_at).where(
            SENT.c.appointment_id.in_(appointment_ids)
        )
        return {(AppointmentId(a), int(o), int(s)) for a, o, s in self._conn.execute(stmt)}

    def record(self, key: tuple[AppointmentId, int, int], at: int) -> bool:
        self._rows.require_write()
        appointment_id, offset, start = key
        stmt = (
            self._rows.insert(SENT)
            .values(
                appointment_id=appointment_id, offset_minutes=offset, start_at=start, sent_at=at
            )
            .on_conflict_do_nothing()
            .returning(SENT.c.appointment_id)
        )
        return self._conn.execute(stmt).first() is not None
