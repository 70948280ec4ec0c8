"""Thread-safe in-memory storage: the reference implementation of the Storage port.

Writers are serialised by one lock held for the whole unit of work (like SQLite's
BEGIN IMMEDIATE); changes are staged and applied on commit, so a unit of work that
is left without committing changes nothing. Readers see committed state.

The committed state and a unit of work's staged changes are in :mod:`.state`; the
repositories over them in :mod:`.calendar`, :mod:`.appointments`, :mod:`.messages`
(outbox, inbox and deliveries), :mod:`.walkins`, :mod:`.pricing` and :mod:`.sagas`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from carebook.builtin.memory.appointments import MemoryAppointments
from carebook.builtin.memory.calendar import MemoryCalendar, MemoryPatients
from carebook.builtin.memory.messages import MemoryDeliveries, MemoryInbox, MemoryOutbox
from carebook.builtin.memory.pricing import MemoryPricing
from carebook.builtin.memory.reminders import MemoryReminders
from carebook.builtin.memory.sagas import MemorySagas
from carebook.builtin.memory.state import MemoryState, StagedChanges, occupying
from carebook.builtin.memory.walkins import MemoryWalkIns
from carebook.errors import ConfigurationError, ConflictError

__all__ = ["MemoryStorage", "MemoryUnitOfWork"]


class MemoryUnitOfWork:
    """One transaction over :class:`MemoryStorage`."""

    def __init__(self, state: MemoryState, *, write: bool) -> None:
        self._state = state
        self._write = write
        self._changes = changes = StagedChanges(state, write=write)
        self.calendar = MemoryCalendar(changes)
        self.patients = MemoryPatients(changes)
        self.appointments = MemoryAppointments(changes)
        self.outbox = MemoryOutbox(changes)
        self.inbox = MemoryInbox(changes)
        self.deliveries = MemoryDeliveries(changes)
        self.walkins = MemoryWalkIns(state.walkins, state.lock, changes.require_write)
        self.pricing = MemoryPricing(state.pricing, state.lock, changes.require_write)
        self.sagas = MemorySagas(state.sagas, state.lock, changes.require_write)
        self.reminders = MemoryReminders(
            state.reminders, changes.all_appointments, state.lock, changes.require_write
        )
        self.committed = False

    def __enter__(self) -> MemoryUnitOfWork:
        if self._write:
            self._state.writer.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        if self._write:
            self._state.writer.release()

    # -- transaction -----------------------------------------------------------------
    def commit(self) -> None:
        changes = self._changes
        changes.require_write()
        state = self._state
        with state.lock:
            for ident, new in changes.appointments.items():
                old = state.appointments.get(ident)
                if ident in changes.new and old is not None:
                    raise ConflictError(f"appointment {ident} already exists")
                if ident not in changes.new and (old is None or old.version != new.version - 1):
                    raise ConflictError(f"appointment {ident} was changed concurrently")
            self.walkins.check()
            self.pricing.check()
            self.sagas.check()
            for table, rows in changes.rows.items():
                state.tables[table].update(rows)
            for ident, new in changes.appointments.items():
                old = state.appointments.get(ident)
                if old is not None and occupying(old):
                    state.index(old, remove=True)
                if occupying(new):
                    state.index(new, remove=False)
                state.appointments[ident] = new
                state.by_patient.setdefault(new.patient_id, set()).add(ident)
                if new.idempotency_key is not None:
                    state.idempotency[new.idempotency_key] = ident
            state.apply_outbox(changes)
            state.inbox |= changes.inbox
            state.deliveries.update(changes.deliveries)
            self.walkins.apply()
            self.pricing.apply()
            self.sagas.apply()
            self.reminders.apply()
        self.committed = True
        self.rollback()

    def rollback(self) -> None:
        self._changes.clear()
        self.walkins.discard()
        self.pricing.discard()
        self.sagas.discard()
        self.reminders.discard()


class MemoryStorage:
    """Storage that lives in this process; each instance is independent."""

    def __init__(self) -> None:
        self._state = MemoryState()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> MemoryStorage:
        if options:
            raise ConfigurationError(f"memory storage takes no options, got {sorted(options)}")
        return cls()

    def unit_of_work(self, *, write: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self._state, write=write)

    def close(self) -> None:
        """Nothing to release."""
