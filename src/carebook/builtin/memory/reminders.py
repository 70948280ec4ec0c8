"""The reminder repository of the memory storage: policies and the sent ledger.

Writers hold the storage's writer lock for their whole unit of work, so recording a
ledger key cannot interleave with another writer: a key is recorded once.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping, Sequence

from carebook.domain.ids import AppointmentId, OrganisationId
from carebook.domain.instants import to_epoch
from carebook.domain.reminders import ReminderPolicy
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus

__all__ = ["MemoryReminders", "ReminderTables"]

Key = tuple[AppointmentId, int, int]
_ACTIVE = (AppointmentStatus.PENDING, AppointmentStatus.BOOKED)


class ReminderTables:
    """Committed reminder state of one memory storage."""

    def __init__(self) -> None:
        self.policies: dict[OrganisationId, ReminderPolicy] = {}
        self.sent: dict[Key, int] = {}


class MemoryReminders:
    """One unit of work's view of the reminder tables."""

    def __init__(
        self,
        tables: ReminderTables,
        appointments: Callable[[], Mapping[uuid.UUID, Appointment]],
        lock: threading.RLock,
        require_write: Callable[[], None],
    ) -> None:
        self._t = tables
        self._appointments = appointments
        self._lock = lock
        self._require_write = require_write
        self._policies: dict[OrganisationId, ReminderPolicy] = {}
        self._sent: dict[Key, int] = {}

    def policy(self, organisation_id: OrganisationId) -> ReminderPolicy | None:
        if organisation_id in self._policies:
            return self._policies[organisation_id]
        with self._lock:
            return self._t.policies.get(organisation_id)

    def set_policy(self, organisation_id: OrganisationId, policy: ReminderPolicy) -> None:
        self._require_write()
        self._policies[organisation_id] = policy

    def longest_offset(self) -> int:
        with self._lock:
            stored = {**self._t.policies, **self._policies}
        return max((p.longest for p in stored.values()), default=0)

    def policies(self) -> list[ReminderPolicy]:
        with self._lock:
            stored = {**self._t.policies, **self._policies}
        return list(stored.values())

    def upcoming(
        self,
        start_after: int,
        start_until: int,
        limit: int,
        after: AppointmentId | None = None,
        unsettled: Sequence[tuple[int, int]] | None = None,
    ) -> list[Appointment]:
        with self._lock:
            settled = set(self._t.sent)
        settled |= set(self._sent)

        def owed(a: Appointment) -> bool:
            if unsettled is None:
                return True
            start = to_epoch(a.start)
            return any(start <= last and (a.id, o, start) not in settled for o, last in unsettled)

        found = sorted(
            (
                a
                for a in self._appointments().values()
                if a.status in _ACTIVE
                and start_after < to_epoch(a.start) <= start_until
                and owed(a)
            ),
            key=lambda a: (to_epoch(a.start), str(a.id)),
        )
        if after is not None:
            marks = [i for i, a in enumerate(found) if a.id == after]
            found = found[marks[0] + 1 :] if marks else found
        return found[:limit]

    def sent(self, appointment_ids: list[AppointmentId]) -> set[Key]:
        wanted = set(appointment_ids)
        with self._lock:
            keys = set(self._t.sent)
        keys |= set(self._sent)
        return {k for k in keys if k[0] in wanted}

    def record(self, key: Key, at: int) -> bool:
        self._require_write()
        with self._lock:
            if key in self._t.sent:
                return False
        if key in self._sent:
            return False
        self._sent[key] = at
        return True

    # -- transaction (called by MemoryUnitOfWork under the state lock) --------------
    def apply(self) -> None:
        self._t.policies.update(self._policies)
        self._t.sent.update(self._sent)
        self.discard()

    def discard(self) -> None:
        self._policies.clear()
        self._sent.clear()
