"""Appointments and busy time of the memory storage."""

from __future__ import annotations

import uuid
from collections.abc import Collection

import pendulum

from carebook.builtin.memory.state import StagedChanges, owners
from carebook.domain.ids import AppointmentId, LocationId, PatientId
from carebook.domain.instants import to_epoch
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.busy import (
    PATIENT,
    PRACTITIONER,
    RESOURCE,
    BusyInterval,
    hold_blocks,
    now_epoch,
)
from carebook.errors import ConflictError, SlotUnavailableError, StorageError

__all__ = ["MemoryAppointments"]


class MemoryAppointments:
    """``uow.appointments`` of the memory storage: staged adds and updates, busy time
    from the committed timelines and the staged appointments."""

    def __init__(self, changes: StagedChanges) -> None:
        self._changes = changes

    def get(self, appointment_id: AppointmentId) -> Appointment | None:
        return self._changes.appointment(appointment_id)

    def add(self, appointment: Appointment, *, now: pendulum.DateTime) -> None:
        changes = self._changes
        changes.require_write()
        if changes.appointment(appointment.id) is not None:
            raise ConflictError(f"appointment {appointment.id} already exists")
        self._refuse_overlap(appointment, now)
        changes.stage(appointment)
        changes.new.add(appointment.id)

    def _refuse_overlap(
        self, appointment: Appointment, now: pendulum.DateTime, exclude: uuid.UUID | None = None
    ) -> None:
        if not appointment.occupies(now):
            return
        start, end = appointment.occupied_epochs
        for owner_kind, owner_id in owners(appointment):
            only = (owner_id,)
            clash = self.busy_intervals(
                start,
                end,
                now=now,
                practitioner_ids=only if owner_kind == PRACTITIONER else (),
                resource_ids=only if owner_kind == RESOURCE else (),
                patient_ids=only if owner_kind == PATIENT else (),
                exclude=exclude,
            )
            if clash:
                raise SlotUnavailableError(
                    f"{owner_kind} {owner_id} is already booked at that time"
                )

    def move(
        self, appointment: Appointment, *, previous: Appointment, now: pendulum.DateTime
    ) -> None:
        changes = self._changes
        changes.require_write()
        current = changes.appointment(appointment.id)
        if current is None or previous.id != appointment.id:
            raise ConflictError(f"appointment {appointment.id} does not exist")
        if current.version != previous.version or appointment.version != previous.version + 1:
            raise ConflictError(f"appointment {appointment.id} was changed concurrently")
        self._refuse_overlap(appointment, now, exclude=appointment.id)
        changes.stage(appointment)

    def update(self, appointment: Appointment) -> None:
        changes = self._changes
        changes.require_write()
        current = changes.appointment(appointment.id)
        if current is None:
            raise ConflictError(f"appointment {appointment.id} does not exist")
        if current.version != appointment.version - 1:
            raise ConflictError(f"appointment {appointment.id} was changed concurrently")
        if current.occupied_epochs != appointment.occupied_epochs:
            raise StorageError("an appointment's time is changed by rescheduling, not update")
        changes.stage(appointment)

    def by_idempotency_key(self, key: str) -> Appointment | None:
        for staged in self._changes.appointments.values():
            if staged.idempotency_key == key:
                return staged
        with self._changes.state.lock:
            ident = self._changes.state.idempotency.get(key)
        return None if ident is None else self._changes.appointment(ident)

    def starting_between(
        self, location_ids: Collection[LocationId], start: int, end: int
    ) -> list[Appointment]:
        wanted = set(location_ids)
        with self._changes.state.lock:
            stored = dict(self._changes.state.appointments)
        stored.update(self._changes.appointments)
        found = [
            a
            for a in stored.values()
            if a.location_id in wanted and start <= to_epoch(a.start) < end
        ]
        return sorted(found, key=lambda a: (a.start, str(a.id)))

    def for_patient(self, patient_id: PatientId) -> list[Appointment]:
        with self._changes.state.lock:
            idents = set(self._changes.state.by_patient.get(patient_id, ()))
        idents |= {a.id for a in self._changes.appointments.values() if a.patient_id == patient_id}
        found = [a for a in map(self._changes.appointment, idents) if a is not None]
        return sorted(found, key=lambda a: (a.start, str(a.id)))

    def busy_intervals(
        self,
        start: int,
        end: int,
        *,
        practitioner_ids: Collection[uuid.UUID] = (),
        resource_ids: Collection[uuid.UUID] = (),
        patient_ids: Collection[uuid.UUID] = (),
        now: pendulum.DateTime,
        exclude: uuid.UUID | None = None,
    ) -> list[BusyInterval]:
        now_s = now_epoch(now)
        staged = self._changes.appointments
        out: list[BusyInterval] = []
        owners = [
            *((PRACTITIONER, i) for i in practitioner_ids),
            *((RESOURCE, i) for i in resource_ids),
            *((PATIENT, i) for i in patient_ids),
        ]
        state = self._changes.state
        with state.lock:
            for owner in owners:
                timeline = state.timelines.get(owner)
                if timeline is None:
                    continue
                for *_, busy, expires in timeline.overlapping(start, end):
                    if staged and busy.appointment_id in staged:
                        continue
                    if exclude is not None and busy.appointment_id == exclude:
                        continue
                    if expires is None or hold_blocks(expires, now_s):
                        out.append(busy)
        for owner in owners:
            for staged_id in self._changes.by_owner.get(owner, ()):
                appt = staged[staged_id]
                s, e = appt.occupied_epochs
                if s < end and start < e and appt.occupies(now) and appt.id != exclude:
                    out.append(BusyInterval(owner[0], owner[1], s, e, appt.id))
        return out

    def expired_holds(self, now: pendulum.DateTime, limit: int = 100) -> list[Appointment]:
        with self._changes.state.lock:
            candidates = [
                a
                for a in self._changes.state.appointments.values()
                if a.status is AppointmentStatus.PROPOSED
            ]
        current = [self._changes.appointment(a.id) for a in candidates]
        expired = [
            a
            for a in current
            if a is not None and a.status is AppointmentStatus.PROPOSED and not a.occupies(now)
        ]
        return sorted(expired, key=lambda a: (a.hold_expires_at, str(a.id)))[:limit]
