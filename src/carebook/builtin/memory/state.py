"""The committed state of one memory storage, and the index of busy time by owner."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from typing import Any

import pendulum

from carebook.builtin.memory.pricing import PricingTables
from carebook.builtin.memory.reminders import ReminderTables
from carebook.builtin.memory.sagas import SagaTables
from carebook.builtin.memory.timeline import Timeline
from carebook.builtin.memory.walkins import WalkInTables
from carebook.domain.delivery import Delivery
from carebook.domain.events import Event
from carebook.domain.ids import EventId
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.busy import (
    PATIENT,
    PRACTITIONER,
    RESOURCE,
    BusyInterval,
    expiry_epoch,
)
from carebook.errors import StorageError

__all__ = ["MemoryState", "Owner", "StagedChanges", "occupying", "owners"]


Owner = tuple[str, uuid.UUID]


def owners(appointment: Appointment) -> list[Owner]:
    return [
        (PRACTITIONER, appointment.practitioner_id),
        (PATIENT, appointment.patient_id),
        *((RESOURCE, r) for r in appointment.resource_ids),
    ]


class MemoryState:
    """Committed rows, indexes and locks of one memory storage."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.writer = threading.Lock()
        self.tables: dict[str, dict[uuid.UUID, Any]] = {
            name: {}
            for name in (
                "organisation",
                "location",
                "practitioner",
                "service",
                "resource",
                "patient",
            )
        }
        self.appointments: dict[uuid.UUID, Appointment] = {}
        self.idempotency: dict[str, uuid.UUID] = {}
        self.by_patient: dict[uuid.UUID, set[uuid.UUID]] = {}
        self.timelines: dict[Owner, Timeline] = {}
        self.outbox: OrderedDict[EventId, Event] = OrderedDict()
        self.inbox: set[tuple[str, EventId]] = set()
        self.deferred: dict[EventId, pendulum.DateTime] = {}
        self.positions: dict[EventId, int] = {}
        self.done: dict[EventId, Event] = {}
        self.deliveries: dict[tuple[EventId, str], Delivery] = {}
        self.walkins = WalkInTables()
        self.pricing = PricingTables()
        self.sagas = SagaTables()
        self.reminders = ReminderTables()

    def apply_outbox(self, changes: StagedChanges) -> None:
        """Commit one unit of work's outbox changes: appended, deferred, dispatched
        (kept aside, for a reopen) and reopened events."""
        for event in changes.events:
            self.outbox[event.event_id] = event
            self.positions[event.event_id] = len(self.positions)
        self.deferred.update(changes.deferred)
        for event_id in changes.dispatched:
            if event_id in self.outbox:
                self.done[event_id] = self.outbox.pop(event_id)
            self.deferred.pop(event_id, None)
        if changes.reopened:
            for event_id, at in changes.reopened.items():
                if event_id in self.done:
                    self.outbox[event_id] = self.done.pop(event_id)
                if event_id in self.outbox:
                    self.deferred[event_id] = at
            ordered = sorted(self.outbox.items(), key=lambda item: self.positions[item[0]])
            self.outbox = OrderedDict(ordered)

    def index(self, appointment: Appointment, *, remove: bool) -> None:
        start, end = appointment.occupied_epochs
        expires = appointment.hold_expires_at
        expiry = None if expires is None else expiry_epoch(expires)
        for kind, owner_id in owners(appointment):
            timeline = self.timelines.setdefault((kind, owner_id), Timeline())
            busy = BusyInterval(kind, owner_id, start, end, appointment.id)
            if remove:
                timeline.remove(busy)
            else:
                timeline.add(busy, expiry)


def occupying(appointment: Appointment) -> bool:
    return appointment.status in (
        AppointmentStatus.PROPOSED,
        AppointmentStatus.PENDING,
        AppointmentStatus.BOOKED,
        AppointmentStatus.ARRIVED,
        AppointmentStatus.FULFILLED,
    )


class StagedChanges:
    """What one unit of work has written so far: applied on commit, dropped otherwise.

    Reads through it see the staged rows over the committed ones.
    """

    def __init__(self, state: MemoryState, *, write: bool) -> None:
        self.state = state
        self.write = write
        self.rows: dict[str, dict[uuid.UUID, Any]] = {}
        self.appointments: dict[uuid.UUID, Appointment] = {}
        self.by_owner: dict[Owner, set[uuid.UUID]] = {}
        self.new: set[uuid.UUID] = set()
        self.events: list[Event] = []
        self.dispatched: set[EventId] = set()
        self.inbox: set[tuple[str, EventId]] = set()
        self.deferred: dict[EventId, pendulum.DateTime] = {}
        self.reopened: dict[EventId, pendulum.DateTime] = {}
        self.deliveries: dict[tuple[EventId, str], Delivery] = {}

    def require_write(self) -> None:
        """Refuse a write in a read-only unit of work."""
        if not self.write:
            raise StorageError("this unit of work is read-only; open it with write=True")

    def get(self, table: str, ident: uuid.UUID) -> Any:
        """The staged row of ``table``, else the committed one, else None."""
        staged = self.rows.get(table, {})
        if ident in staged:
            return staged[ident]
        with self.state.lock:
            return self.state.tables[table].get(ident)

    def put(self, table: str, ident: uuid.UUID, value: Any) -> None:
        """Stage a row of ``table``."""
        self.require_write()
        self.rows.setdefault(table, {})[ident] = value

    def stage(self, appointment: Appointment) -> None:
        """Stage an appointment and index it by its owners."""
        self.appointments[appointment.id] = appointment
        for owner in owners(appointment):
            self.by_owner.setdefault(owner, set()).add(appointment.id)

    def appointment(self, ident: uuid.UUID) -> Appointment | None:
        """The staged appointment, else the committed one, else None."""
        if ident in self.appointments:
            return self.appointments[ident]
        with self.state.lock:
            return self.state.appointments.get(ident)

    def all_appointments(self) -> dict[uuid.UUID, Appointment]:
        """Every appointment as this unit of work sees it: committed, then staged."""
        with self.state.lock:
            found = dict(self.state.appointments)
        found.update(self.appointments)
        return found

    def clear(self) -> None:
        """Forget everything staged."""
        self.rows.clear()
        self.appointments.clear()
        self.by_owner.clear()
        self.new.clear()
        self.events.clear()
        self.dispatched.clear()
        self.inbox.clear()
        self.deferred.clear()
        self.reopened.clear()
        self.deliveries.clear()
