"""Thread-safe in-memory storage: the reference implementation of the Storage port.

Writers are serialised by one lock held for the whole unit of work (like SQLite's
BEGIN IMMEDIATE); changes are staged and applied on commit, so a unit of work that
is left without committing changes nothing. Readers see committed state.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from carebook.builtin.memory.appointments import _Appointments
from carebook.builtin.memory.calendar import _Calendar, _Patients
from carebook.builtin.memory.messages import _Inbox, _Outbox
from carebook.builtin.memory.pricing import MemoryPricing
from carebook.builtin.memory.sagas import MemorySagas
from carebook.builtin.memory.state import Owner, _occupying, _owners, _State
from carebook.builtin.memory.walkins import MemoryWalkIns
from carebook.domain.events import Event
from carebook.domain.ids import (
    EventId,
)
from carebook.domain.scheduling.appointment import Appointment
from carebook.errors import ConfigurationError, ConflictError, StorageError

__all__ = ["MemoryStorage", "MemoryUnitOfWork"]


class MemoryUnitOfWork:
    """One transaction over :class:`MemoryStorage`."""

    def __init__(self, state: _State, *, write: bool) -> None:
        self._state = state
        self._write = write
        self._staged: dict[str, dict[uuid.UUID, Any]] = {}
        self._appointments: dict[uuid.UUID, Appointment] = {}
        self._staged_by_owner: dict[Owner, set[uuid.UUID]] = {}
        self._new: set[uuid.UUID] = set()
        self._events: list[Event] = []
        self._dispatched: set[EventId] = set()
        self._inbox: set[tuple[str, EventId]] = set()
        self.calendar = _Calendar(self)
        self.patients = _Patients(self)
        self.appointments = _Appointments(self)
        self.outbox = _Outbox(self)
        self.inbox = _Inbox(self)
        self.walkins = MemoryWalkIns(state.walkins, state.lock, self._require_write)
        self.pricing = MemoryPricing(state.pricing, state.lock, self._require_write)
        self.sagas = MemorySagas(state.sagas, state.lock, self._require_write)
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

    def _require_write(self) -> None:
        if not self._write:
            raise StorageError("this unit of work is read-only; open it with write=True")

    # -- staging helpers -------------------------------------------------------------
    def _get(self, table: str, ident: uuid.UUID) -> Any:
        staged = self._staged.get(table, {})
        if ident in staged:
            return staged[ident]
        with self._state.lock:
            return self._state.tables[table].get(ident)

    def _put(self, table: str, ident: uuid.UUID, value: Any) -> None:
        self._require_write()
        self._staged.setdefault(table, {})[ident] = value

    def _stage(self, appointment: Appointment) -> None:
        self._appointments[appointment.id] = appointment
        for owner in _owners(appointment):
            self._staged_by_owner.setdefault(owner, set()).add(appointment.id)

    def _appointment(self, ident: uuid.UUID) -> Appointment | None:
        if ident in self._appointments:
            return self._appointments[ident]
        with self._state.lock:
            return self._state.appointments.get(ident)

    # -- transaction -----------------------------------------------------------------
    def commit(self) -> None:
        self._require_write()
        state = self._state
        with state.lock:
            for ident, new in self._appointments.items():
                old = state.appointments.get(ident)
                if ident in self._new and old is not None:
                    raise ConflictError(f"appointment {ident} already exists")
                if ident not in self._new and (old is None or old.version != new.version - 1):
                    raise ConflictError(f"appointment {ident} was changed concurrently")
            self.walkins.check()
            self.pricing.check()
            self.sagas.check()
            for table, rows in self._staged.items():
                state.tables[table].update(rows)
            for ident, new in self._appointments.items():
                old = state.appointments.get(ident)
                if old is not None and _occupying(old):
                    state.index(old, remove=True)
                if _occupying(new):
                    state.index(new, remove=False)
                state.appointments[ident] = new
                state.by_patient.setdefault(new.patient_id, set()).add(ident)
                if new.idempotency_key is not None:
                    state.idempotency[new.idempotency_key] = ident
            for event in self._events:
                state.outbox[event.event_id] = event
            for event_id in self._dispatched:
                state.outbox.pop(event_id, None)
            state.inbox |= self._inbox
            self.walkins.apply()
            self.pricing.apply()
            self.sagas.apply()
        self.committed = True
        self.rollback()

    def rollback(self) -> None:
        self._staged.clear()
        self._appointments.clear()
        self._staged_by_owner.clear()
        self._new.clear()
        self._events.clear()
        self._dispatched.clear()
        self._inbox.clear()
        self.walkins.discard()
        self.pricing.discard()
        self.sagas.discard()


class MemoryStorage:
    """Storage that lives in this process; each instance is independent."""

    def __init__(self) -> None:
        self._state = _State()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> MemoryStorage:
        if options:
            raise ConfigurationError(f"memory storage takes no options, got {sorted(options)}")
        return cls()

    def unit_of_work(self, *, write: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self._state, write=write)

    def close(self) -> None:
        """Nothing to release."""
