"""The committed state of one memory storage, and the index of busy time by owner."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from typing import Any

from carebook.builtin.memory.pricing import PricingTables
from carebook.builtin.memory.sagas import SagaTables
from carebook.builtin.memory.timeline import Timeline
from carebook.builtin.memory.walkins import WalkInTables
from carebook.domain.events import Event
from carebook.domain.ids import (
    EventId,
)
from carebook.domain.instants import to_epoch
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.busy import PATIENT, PRACTITIONER, RESOURCE, BusyInterval

__all__ = []


Owner = tuple[str, uuid.UUID]


def _owners(appointment: Appointment) -> list[Owner]:
    return [
        (PRACTITIONER, appointment.practitioner_id),
        (PATIENT, appointment.patient_id),
        *((RESOURCE, r) for r in appointment.resource_ids),
    ]


class _State:
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
        self.walkins = WalkInTables()
        self.pricing = PricingTables()
        self.sagas = SagaTables()

    def index(self, appointment: Appointment, *, remove: bool) -> None:
        start, end = appointment.occupied_epochs
        expires = appointment.hold_expires_at
        expiry = None if expires is None else to_epoch(expires)
        for kind, owner_id in _owners(appointment):
            timeline = self.timelines.setdefault((kind, owner_id), Timeline())
            busy = BusyInterval(kind, owner_id, start, end, appointment.id)
            if remove:
                timeline.remove(busy)
            else:
                timeline.add(busy, expiry)


def _occupying(appointment: Appointment) -> bool:
    return appointment.status in (
        AppointmentStatus.PROPOSED,
        AppointmentStatus.PENDING,
        AppointmentStatus.BOOKED,
        AppointmentStatus.ARRIVED,
        AppointmentStatus.FULFILLED,
    )
