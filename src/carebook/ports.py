"""Ports: what the core needs from the world, as ``typing.Protocol`` classes.

Every implementation runs the matching contract suite in :mod:`carebook.testing`.
Adapters translate their own failures into :class:`carebook.errors.StorageError`
(or :class:`carebook.errors.AdapterError`) and conflicts into the core's conflict errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from types import TracebackType
from typing import Protocol, runtime_checkable

import attrs
import pendulum
from attrs import frozen

from carebook.domain.appointment import Appointment
from carebook.domain.busy import BusyInterval
from carebook.domain.calendar import (
    Location,
    Organisation,
    Patient,
    Practitioner,
    Resource,
    Service,
)
from carebook.domain.clinic import ClinicCalendar
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

__all__ = [
    "AppointmentRepository",
    "CalendarRepository",
    "Clock",
    "EventPublisher",
    "Inbox",
    "Notification",
    "Notifier",
    "Outbox",
    "PatientRepository",
    "PaymentGateway",
    "PaymentIntent",
    "Storage",
    "UnitOfWork",
]


class CalendarRepository(Protocol):
    """Organisations and their locations, practitioners, services and resources."""

    def get_organisation(self, organisation_id: OrganisationId) -> Organisation | None: ...
    def save_organisation(self, organisation: Organisation) -> None: ...
    def get_location(self, location_id: LocationId) -> Location | None: ...
    def save_location(self, location: Location) -> None: ...
    def get_practitioner(self, practitioner_id: PractitionerId) -> Practitioner | None: ...
    def save_practitioner(self, practitioner: Practitioner) -> None: ...
    def get_service(self, service_id: ServiceId) -> Service | None: ...
    def save_service(self, service: Service) -> None: ...
    def get_resource(self, resource_id: ResourceId) -> Resource | None: ...
    def save_resource(self, resource: Resource) -> None: ...

    def load(self, organisation_id: OrganisationId) -> ClinicCalendar | None:
        """The whole calendar of one organisation, in a constant number of queries."""
        ...


class PatientRepository(Protocol):
    def get(self, patient_id: PatientId) -> Patient | None: ...
    def save(self, patient: Patient) -> None: ...


class AppointmentRepository(Protocol):
    """Appointments, and the busy time they occupy.

    The storage itself guarantees that no two appointments occupying time overlap for
    one practitioner, one resource or one patient: :meth:`add` (and :meth:`update` of a
    changed span) raise :class:`carebook.errors.SlotUnavailableError` otherwise.
    Holds (``proposed``) occupy time only until ``hold_expires_at``.
    """

    def get(self, appointment_id: AppointmentId) -> Appointment | None: ...

    def add(self, appointment: Appointment, *, now: pendulum.DateTime) -> None:
        """Insert; SlotUnavailableError on overlap (expired holds do not count)."""
        ...

    def update(self, appointment: Appointment) -> None:
        """Replace the stored version ``appointment.version - 1``; ConflictError if stale.

        Status and session changes only: the occupied span must stay the same
        (StorageError otherwise). Moving an appointment is a reschedule, which
        re-checks overlap like :meth:`add`.
        """
        ...

    def by_idempotency_key(self, key: str) -> Appointment | None: ...

    def for_patient(self, patient_id: PatientId) -> list[Appointment]:
        """The patient's appointments, earliest start first."""
        ...

    def busy_intervals(
        self,
        start: int,
        end: int,
        *,
        practitioner_ids: Collection[uuid.UUID] = (),
        resource_ids: Collection[uuid.UUID] = (),
        patient_ids: Collection[uuid.UUID] = (),
        now: pendulum.DateTime,
    ) -> list[BusyInterval]:
        """Every occupied span overlapping ``[start, end)`` (epoch seconds) of the named
        owners, in one call. Cost grows with the window, not with history."""
        ...

    def expired_holds(self, now: pendulum.DateTime, limit: int = 100) -> list[Appointment]:
        """Holds still ``proposed`` whose expiry has passed."""
        ...


class Outbox(Protocol):
    """Events written in the same transaction as the state change that raised them."""

    def append(self, events: Sequence[Event]) -> None: ...
    def pending(self, limit: int = 100) -> list[Event]:
        """Undispatched events, oldest first."""
        ...

    def mark_dispatched(self, event_ids: Collection[EventId]) -> None: ...


class Inbox(Protocol):
    """Which consumer has already handled which event (for at-least-once delivery)."""

    def record(self, consumer: str, event_id: EventId) -> bool:
        """Remember the pair; False if it was already recorded (skip the side effect)."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the ``with`` block without :meth:`commit` rolls back."""

    @property
    def calendar(self) -> CalendarRepository: ...
    @property
    def patients(self) -> PatientRepository: ...
    @property
    def appointments(self) -> AppointmentRepository: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def inbox(self) -> Inbox: ...

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


@runtime_checkable
class Storage(Protocol):
    """Hands out units of work. ``write=True`` serialises writers (the re-check of
    conflicts inside a write transaction is what makes booking race-free)."""

    def unit_of_work(self, *, write: bool = False) -> UnitOfWork: ...
    def close(self) -> None: ...


@runtime_checkable
class Clock(Protocol):
    """The only source of ``now`` (a UTC pendulum DateTime)."""

    def now(self) -> pendulum.DateTime: ...


@frozen(kw_only=True)
class Notification:
    """A message to send: who (a role and an id), what (a kind), about which event.

    It carries ids only; the notifier adapter resolves contact details itself.
    """

    kind: str
    recipient_role: str
    recipient_id: uuid.UUID
    appointment_id: AppointmentId
    event_id: EventId
    correlation_id: str
    locale: str = "en"


@runtime_checkable
class Notifier(Protocol):
    def send(self, notification: Notification) -> None: ...


@runtime_checkable
class EventPublisher(Protocol):
    """Hands committed events to the world (in process, or a broker relay)."""

    def publish(self, event: Event) -> None: ...


@frozen(kw_only=True)
class PaymentIntent:
    """A payment as a gateway tracks it: amount in minor units, status, idempotency key."""

    id: str
    amount: int
    currency: str
    status: str
    idempotency_key: str
    metadata: dict[str, str] = attrs.field(factory=dict)


@runtime_checkable
class PaymentGateway(Protocol):
    """Payment-intent lifecycle; every call carries an idempotency key.

    The shape is fixed here; the booking saga that drives it comes with the money path.
    """

    def authorise(
        self, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> PaymentIntent: ...
    def capture(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent: ...
    def cancel(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent: ...
    def refund(self, intent_id: str, *, amount: int, idempotency_key: str) -> PaymentIntent: ...
