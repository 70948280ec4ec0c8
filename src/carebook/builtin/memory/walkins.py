"""The walk-in repository of the memory storage.

Committed rows live in :class:`WalkInTables` (one per storage); each unit of work stages
its changes in :class:`MemoryWalkIns` and applies them on commit. Writers are
serialised by the storage's writer lock, so checks made while staging still hold at
commit. Active entries are indexed by location and by patient, so reading a queue
never walks the history.
"""

from __future__ import annotations

import bisect
import threading
import uuid
from collections.abc import Callable, Collection, Iterable
from typing import TypeVar

import pendulum

from carebook.domain.ids import AppointmentId, LocationId, OrganisationId, PatientId, PractitionerId
from carebook.domain.instants import to_epoch
from carebook.domain.scheduling.calendar import PatientKind
from carebook.domain.walkins.queue import (
    DutyShift,
    QueueEntry,
    QueueEntryId,
    WalkInSettings,
)
from carebook.domain.walkins.waittime import DurationStats, PublishedWait
from carebook.errors import ConflictError

__all__ = ["MemoryWalkIns", "WalkInTables"]

K = TypeVar("K")
V = TypeVar("V")
_GONE = object()
DurationKey = tuple[LocationId, PatientKind]


class WalkInTables:
    """Committed walk-in state of one memory storage."""

    def __init__(self) -> None:
        self.settings: dict[LocationId, WalkInSettings] = {}
        self.duty: dict[PractitionerId, DutyShift] = {}
        self.entries: dict[QueueEntryId, QueueEntry] = {}
        self.active: dict[LocationId, dict[QueueEntryId, QueueEntry]] = {}
        self.active_patient: dict[PatientId, QueueEntryId] = {}
        self.by_appointment: dict[AppointmentId, QueueEntryId] = {}
        self.by_key: dict[str, QueueEntryId] = {}
        self.history: dict[LocationId, list[tuple[int, int, QueueEntryId]]] = {}
        self.durations: dict[DurationKey, DurationStats] = {}
        self.published: dict[LocationId, PublishedWait] = {}

    def put_entry(self, entry: QueueEntry) -> None:
        old = self.entries.get(entry.id)
        if old is None:
            self.by_appointment[entry.appointment_id] = entry.id
            if entry.idempotency_key is not None:
                self.by_key[entry.idempotency_key] = entry.id
            stamp = (to_epoch(entry.checked_in_at), entry.id.int, entry.id)
            bisect.insort(self.history.setdefault(entry.location_id, []), stamp)
        elif old.active:
            self.active.get(old.location_id, {}).pop(old.id, None)
            if self.active_patient.get(old.patient_id) == old.id:
                del self.active_patient[old.patient_id]
        self.entries[entry.id] = entry
        if entry.active:
            self.active.setdefault(entry.location_id, {})[entry.id] = entry
            self.active_patient[entry.patient_id] = entry.id


class MemoryWalkIns:
    """One unit of work's view of the walk-in tables."""

    def __init__(
        self, tables: WalkInTables, lock: threading.RLock, require_write: Callable[[], None]
    ) -> None:
        self._t = tables
        self._lock = lock
        self._require_write = require_write
        self._settings: dict[LocationId, WalkInSettings] = {}
        self._duty: dict[PractitionerId, object] = {}
        self._entries: dict[QueueEntryId, QueueEntry] = {}
        self._base: dict[QueueEntryId, int] = {}
        self._durations: dict[DurationKey, DurationStats] = {}
        self._published: dict[LocationId, PublishedWait] = {}

    # -- transaction (called by MemoryUnitOfWork under the state lock) --------------
    def check(self) -> None:
        for ident, base in self._base.items():
            old = self._t.entries.get(ident)
            if (old.version if old else 0) != base:
                raise ConflictError(f"queue entry {ident} was changed concurrently")

    def apply(self) -> None:
        t = self._t
        t.settings.update(self._settings)
        for practitioner, shift in self._duty.items():
            if shift is _GONE:
                t.duty.pop(practitioner, None)
            else:
                assert isinstance(shift, DutyShift)
                t.duty[practitioner] = shift
        for entry in self._entries.values():
            t.put_entry(entry)
        t.durations.update(self._durations)
        t.published.update(self._published)

    def discard(self) -> None:
        for staged in (self._settings, self._duty, self._entries, self._base, self._durations):
            staged.clear()
        self._published.clear()

    # -- settings -------------------------------------------------------------------
    def lock_queue(self, location_id: LocationId) -> None:
        """Write units of work already hold the storage's writer lock."""
        self._require_write()

    def get_settings(self, location_id: LocationId) -> WalkInSettings | None:
        if location_id in self._settings:
            return self._settings[location_id]
        with self._lock:
            return self._t.settings.get(location_id)

    def save_settings(self, settings: WalkInSettings) -> None:
        self._require_write()
        self._settings[settings.location_id] = settings

    def settings_for(self, organisation_id: OrganisationId) -> list[WalkInSettings]:
        with self._lock:
            merged = {**self._t.settings, **self._settings}
        found = [s for s in merged.values() if s.organisation_id == organisation_id]
        return sorted(found, key=lambda s: s.location_id.int)

    # -- duty -----------------------------------------------------------------------
    def _all_duty(self) -> dict[PractitionerId, DutyShift]:
        with self._lock:
            merged: dict[PractitionerId, object] = {**self._t.duty, **self._duty}
        return {p: s for p, s in merged.items() if isinstance(s, DutyShift)}

    def on_duty(self, location_ids: Collection[LocationId]) -> list[DutyShift]:
        wanted = set(location_ids)
        found = [s for s in self._all_duty().values() if s.location_id in wanted]
        return sorted(found, key=lambda s: (s.location_id.int, s.practitioner_id.int))

    def duty_of(self, practitioner_id: PractitionerId) -> DutyShift | None:
        if practitioner_id in self._duty:
            staged = self._duty[practitioner_id]
            return staged if isinstance(staged, DutyShift) else None
        with self._lock:
            return self._t.duty.get(practitioner_id)

    def save_duty(self, shift: DutyShift) -> None:
        self._require_write()
        self._duty[shift.practitioner_id] = shift

    def end_duty(self, practitioner_id: PractitionerId) -> None:
        self._require_write()
        self._duty[practitioner_id] = _GONE

    # -- queue entries --------------------------------------------------------------
    def get_entry(self, entry_id: QueueEntryId) -> QueueEntry | None:
        if entry_id in self._entries:
            return self._entries[entry_id]
        with self._lock:
            return self._t.entries.get(entry_id)

    def _staged_matching(self, keep: Callable[[QueueEntry], bool]) -> list[QueueEntry]:
        return [e for e in self._entries.values() if keep(e)]

    def add_entry(self, entry: QueueEntry) -> None:
        self._require_write()
        if self.get_entry(entry.id) is not None:
            raise ConflictError(f"queue entry {entry.id} already exists")
        if self.entry_for_appointment(entry.appointment_id) is not None:
            raise ConflictError(f"appointment {entry.appointment_id} already has a queue entry")
        self._check_one_active(entry)
        key = entry.idempotency_key
        if key is not None and self.entry_by_idempotency_key(key) is not None:
            raise ConflictError("a queue entry with that idempotency key already exists")
        self._base.setdefault(entry.id, 0)
        self._entries[entry.id] = entry

    def update_entry(self, entry: QueueEntry) -> None:
        self._require_write()
        current = self.get_entry(entry.id)
        if current is None:
            raise ConflictError(f"queue entry {entry.id} does not exist")
        if current.version != entry.version - 1:
            raise ConflictError(f"queue entry {entry.id} was changed concurrently")
        self._check_one_active(entry)
        self._base.setdefault(entry.id, current.version)
        self._entries[entry.id] = entry

    def _check_one_active(self, entry: QueueEntry) -> None:
        if not entry.active:
            return
        other = self.active_entry_for_patient(entry.patient_id)
        if other is not None and other.id != entry.id:
            raise ConflictError(f"patient {entry.patient_id} already has an active queue entry")

    def entry_for_appointment(self, appointment_id: AppointmentId) -> QueueEntry | None:
        for staged in self._staged_matching(lambda e: e.appointment_id == appointment_id):
            return staged
        with self._lock:
            ident = self._t.by_appointment.get(appointment_id)
        return None if ident is None else self.get_entry(ident)

    def active_entry_for_patient(self, patient_id: PatientId) -> QueueEntry | None:
        staged = self._staged_matching(lambda e: e.patient_id == patient_id)
        for entry in staged:
            if entry.active:
                return entry
        with self._lock:
            ident = self._t.active_patient.get(patient_id)
        if ident is None or any(e.id == ident for e in staged):
            return None
        return self.get_entry(ident)

    def entry_by_idempotency_key(self, key: str) -> QueueEntry | None:
        for staged in self._staged_matching(lambda e: e.idempotency_key == key):
            return staged
        with self._lock:
            ident = self._t.by_key.get(key)
        return None if ident is None else self.get_entry(ident)

    def _merged(self, entries: Iterable[QueueEntry]) -> list[QueueEntry]:
        seen = {e.id: e for e in entries}
        for ident, staged in self._entries.items():
            if ident in seen or staged.active:
                seen[ident] = staged
        return list(seen.values())

    def active_entries(self, location_ids: Collection[LocationId]) -> list[QueueEntry]:
        wanted = set(location_ids)
        with self._lock:
            committed = [e for lid in wanted for e in self._t.active.get(lid, {}).values()]
        found = [e for e in self._merged(committed) if e.active and e.location_id in wanted]
        return sorted(found, key=lambda e: (e.checked_in_at, e.id.int))

    def check_ins(
        self, location_ids: Collection[LocationId], start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[QueueEntry]:
        lo, hi = to_epoch(start), to_epoch(end)
        idents: list[QueueEntryId] = []
        with self._lock:
            for lid in set(location_ids):
                stamps = self._t.history.get(lid, [])
                first = bisect.bisect_left(stamps, (lo, -1, QueueEntryId(uuid.UUID(int=0))))
                for t, _, ident in stamps[first:]:
                    if t >= hi:
                        break
                    idents.append(ident)
        found = {e.id: e for e in (self.get_entry(i) for i in idents) if e is not None}
        for staged in self._entries.values():
            if staged.location_id in location_ids and start <= staged.checked_in_at < end:
                found[staged.id] = staged
        return sorted(found.values(), key=lambda e: (e.checked_in_at, e.id.int))

    # -- learned durations and published estimates ---------------------------------
    def durations(self, location_ids: Collection[LocationId]) -> list[DurationStats]:
        wanted = set(location_ids)
        with self._lock:
            merged = {**self._t.durations, **self._durations}
        return [s for (lid, _), s in sorted(merged.items(), key=_order) if lid in wanted]

    def save_durations(self, stats: DurationStats) -> None:
        self._require_write()
        self._durations[(stats.location_id, stats.kind)] = stats

    def published_waits(self, location_ids: Collection[LocationId]) -> list[PublishedWait]:
        wanted = set(location_ids)
        with self._lock:
            merged = {**self._t.published, **self._published}
        return [w for lid, w in sorted(merged.items(), key=lambda i: i[0].int) if lid in wanted]

    def save_published_wait(self, wait: PublishedWait) -> None:
        self._require_write()
        self._published[wait.location_id] = wait


def _order(item: tuple[DurationKey, DurationStats]) -> tuple[int, str]:
    (location_id, kind), _ = item
    return location_id.int, kind.value
