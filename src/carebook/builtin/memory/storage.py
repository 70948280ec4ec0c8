"""Thread-safe in-memory storage: the reference implementation of the Storage port.

Writers are serialised by one lock held for the whole unit of work (like SQLite's
BEGIN IMMEDIATE); changes are staged and applied on commit, so a unit of work that
is left without committing changes nothing. Readers see committed state.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from types import TracebackType
from typing import Any

import pendulum

from carebook.builtin.memory.pricing import MemoryPricing, PricingTables
from carebook.builtin.memory.sagas import MemorySagas, SagaTables
from carebook.builtin.memory.timeline import Timeline
from carebook.builtin.memory.walkins import MemoryWalkIns, WalkInTables
from carebook.domain.events import Event
from carebook.domain.ids import (
    AppointmentId,
    EventId,
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ResourceId,
    ServiceId,
)
from carebook.domain.instants import to_epoch
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.busy import PATIENT, PRACTITIONER, RESOURCE, BusyInterval
from carebook.domain.scheduling.calendar import (
    Location,
    Organisation,
    Patient,
    Practitioner,
    Resource,
    Service,
)
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.errors import ConfigurationError, ConflictError, SlotUnavailableError, StorageError

__all__ = ["MemoryStorage", "MemoryUnitOfWork"]

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


class _Calendar:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def get_organisation(self, organisation_id: OrganisationId) -> Organisation | None:
        found: Organisation | None = self._uow._get("organisation", organisation_id)
        return found

    def save_organisation(self, organisation: Organisation) -> None:
        self._uow._put("organisation", organisation.id, organisation)

    def get_location(self, location_id: LocationId) -> Location | None:
        found: Location | None = self._uow._get("location", location_id)
        return found

    def save_location(self, location: Location) -> None:
        self._uow._put("location", location.id, location)

    def get_practitioner(self, practitioner_id: PractitionerId) -> Practitioner | None:
        found: Practitioner | None = self._uow._get("practitioner", practitioner_id)
        return found

    def save_practitioner(self, practitioner: Practitioner) -> None:
        self._uow._put("practitioner", practitioner.id, practitioner)

    def get_service(self, service_id: ServiceId) -> Service | None:
        found: Service | None = self._uow._get("service", service_id)
        return found

    def save_service(self, service: Service) -> None:
        self._uow._put("service", service.id, service)

    def get_resource(self, resource_id: ResourceId) -> Resource | None:
        found: Resource | None = self._uow._get("resource", resource_id)
        return found

    def save_resource(self, resource: Resource) -> None:
        self._uow._put("resource", resource.id, resource)

    def load(self, organisation_id: OrganisationId) -> ClinicCalendar | None:
        organisation = self.get_organisation(organisation_id)
        if organisation is None:
            return None

        def rows(table: str) -> list[Any]:
            with self._uow._state.lock:
                merged = dict(self._uow._state.tables[table])
            merged.update(self._uow._staged.get(table, {}))
            return [r for r in merged.values() if _org_of(r, merged_locations) == organisation_id]

        with self._uow._state.lock:
            merged_locations: Mapping[uuid.UUID, Location] = {
                **self._uow._state.tables["location"],
                **self._uow._staged.get("location", {}),
            }
        return ClinicCalendar.build(
            organisation,
            rows("location"),
            rows("practitioner"),
            rows("service"),
            rows("resource"),
        )


def _org_of(row: Any, locations: Mapping[uuid.UUID, Location]) -> uuid.UUID | None:
    if isinstance(row, Resource):
        location = locations.get(row.location_id)
        return location.organisation_id if location else None
    org: uuid.UUID = row.organisation_id
    return org


class _Patients:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def get(self, patient_id: PatientId) -> Patient | None:
        found: Patient | None = self._uow._get("patient", patient_id)
        return found

    def save(self, patient: Patient) -> None:
        self._uow._put("patient", patient.id, patient)


class _Appointments:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def get(self, appointment_id: AppointmentId) -> Appointment | None:
        return self._uow._appointment(appointment_id)

    def add(self, appointment: Appointment, *, now: pendulum.DateTime) -> None:
        uow = self._uow
        uow._require_write()
        if uow._appointment(appointment.id) is not None:
            raise ConflictError(f"appointment {appointment.id} already exists")
        if appointment.occupies(now):
            start, end = appointment.occupied_epochs
            for owner_kind, owner_id in _owners(appointment):
                only = (owner_id,)
                clash = self.busy_intervals(
                    start,
                    end,
                    now=now,
                    practitioner_ids=only if owner_kind == PRACTITIONER else (),
                    resource_ids=only if owner_kind == RESOURCE else (),
                    patient_ids=only if owner_kind == PATIENT else (),
                )
                if clash:
                    raise SlotUnavailableError(
                        f"{owner_kind} {owner_id} is already booked at that time"
                    )
        uow._stage(appointment)
        uow._new.add(appointment.id)

    def update(self, appointment: Appointment) -> None:
        uow = self._uow
        uow._require_write()
        current = uow._appointment(appointment.id)
        if current is None:
            raise ConflictError(f"appointment {appointment.id} does not exist")
        if current.version != appointment.version - 1:
            raise ConflictError(f"appointment {appointment.id} was changed concurrently")
        if current.occupied_epochs != appointment.occupied_epochs:
            raise StorageError("an appointment's time is changed by rescheduling, not update")
        uow._stage(appointment)

    def by_idempotency_key(self, key: str) -> Appointment | None:
        for staged in self._uow._appointments.values():
            if staged.idempotency_key == key:
                return staged
        with self._uow._state.lock:
            ident = self._uow._state.idempotency.get(key)
        return None if ident is None else self._uow._appointment(ident)

    def starting_between(
        self, location_ids: Collection[LocationId], start: int, end: int
    ) -> list[Appointment]:
        wanted = set(location_ids)
        with self._uow._state.lock:
            stored = dict(self._uow._state.appointments)
        stored.update(self._uow._appointments)
        found = [
            a
            for a in stored.values()
            if a.location_id in wanted and start <= to_epoch(a.start) < end
        ]
        return sorted(found, key=lambda a: (a.start, str(a.id)))

    def for_patient(self, patient_id: PatientId) -> list[Appointment]:
        with self._uow._state.lock:
            idents = set(self._uow._state.by_patient.get(patient_id, ()))
        idents |= {a.id for a in self._uow._appointments.values() if a.patient_id == patient_id}
        found = [a for a in map(self._uow._appointment, idents) if a is not None]
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
        now_s = to_epoch(now)
        staged = self._uow._appointments
        out: list[BusyInterval] = []
        owners = [
            *((PRACTITIONER, i) for i in practitioner_ids),
            *((RESOURCE, i) for i in resource_ids),
            *((PATIENT, i) for i in patient_ids),
        ]
        state = self._uow._state
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
                    if expires is None or expires > now_s:
                        out.append(busy)
        for owner in owners:
            for staged_id in self._uow._staged_by_owner.get(owner, ()):
                appt = staged[staged_id]
                s, e = appt.occupied_epochs
                if s < end and start < e and appt.occupies(now) and appt.id != exclude:
                    out.append(BusyInterval(owner[0], owner[1], s, e, appt.id))
        return out

    def expired_holds(self, now: pendulum.DateTime, limit: int = 100) -> list[Appointment]:
        with self._uow._state.lock:
            candidates = [
                a
                for a in self._uow._state.appointments.values()
                if a.status is AppointmentStatus.PROPOSED
            ]
        current = [self._uow._appointment(a.id) for a in candidates]
        expired = [
            a
            for a in current
            if a is not None and a.status is AppointmentStatus.PROPOSED and not a.occupies(now)
        ]
        return sorted(expired, key=lambda a: (a.hold_expires_at, str(a.id)))[:limit]


class _Outbox:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def append(self, events: Sequence[Event]) -> None:
        self._uow._require_write()
        self._uow._events.extend(events)

    def pending(self, limit: int = 100) -> list[Event]:
        with self._uow._state.lock:
            committed = [
                e for _, e in zip(range(limit), self._uow._state.outbox.values(), strict=False)
            ]
        return [e for e in committed if e.event_id not in self._uow._dispatched]

    def mark_dispatched(self, event_ids: Collection[EventId]) -> None:
        self._uow._require_write()
        self._uow._dispatched |= set(event_ids)


class _Inbox:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def record(self, consumer: str, event_id: EventId) -> bool:
        self._uow._require_write()
        key = (consumer, event_id)
        with self._uow._state.lock:
            seen = key in self._uow._state.inbox
        if seen or key in self._uow._inbox:
            return False
        self._uow._inbox.add(key)
        return True


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
