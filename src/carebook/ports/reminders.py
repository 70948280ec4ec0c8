"""The reminder repository: each organisation's policy, the appointments a reminder scan
looks at, and the ledger that makes each reminder go out once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from carebook.domain.ids import AppointmentId, OrganisationId
from carebook.domain.reminders import ReminderPolicy
from carebook.domain.scheduling.appointment import Appointment

__all__ = ["ReminderRepository"]

ReminderKey = tuple[AppointmentId, int, int]
"""(appointment, offset in minutes, the appointment's start in epoch seconds)."""


class ReminderRepository(Protocol):
    """``uow.reminders``."""

    def policy(self, organisation_id: OrganisationId) -> ReminderPolicy | None:
        """The organisation's policy, None when it never set one (the default applies)."""
        ...

    def set_policy(self, organisation_id: OrganisationId, policy: ReminderPolicy) -> None: ...

    def longest_offset(self) -> int:
        """The largest offset (minutes) of every stored policy, 0 when none is stored."""
        ...

    def policies(self) -> list[ReminderPolicy]:
        """Every stored policy (one per organisation that set one)."""
        ...

    def upcoming(
        self,
        start_after: int,
        start_until: int,
        limit: int,
        after: AppointmentId | None = None,
        unsettled: Sequence[tuple[int, int]] | None = None,
    ) -> list[Appointment]:
        """Appointments that occupy their time (``pending``, ``booked``) starting in
        ``(start_after, start_until]`` (epoch seconds), ordered by (start, id), ``limit``
        of them after appointment ``after`` of that order. With ``unsettled`` (pairs of
        an offset and a latest start), only those that, for some pair, start by its
        latest start and have no ledger entry for (appointment, offset, start). Indexed
        on the start and the ledger's key: its cost follows the appointments still owed
        a reminder, never the history."""
        ...

    def sent(self, appointment_ids: list[AppointmentId]) -> set[ReminderKey]:
        """The ledger entries of these appointments."""
        ...

    def record(self, key: ReminderKey, at: int) -> bool:
        """Add ``key`` to the ledger (``at``: epoch seconds) unless it is there: True
        when this unit of work added it. Two concurrent writers of one key: one gets
        True, the other False (after waiting for the first to end)."""
        ...
