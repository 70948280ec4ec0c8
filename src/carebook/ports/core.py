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

import pendulum

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
from carebook.domain.notifications import Notification
from carebook.domain.payments.payment import PaymentIntent
from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.busy import BusyInterval
from carebook.domain.scheduling.calendar import (
    Location,
    Organisation,
    Patient,
    Practitioner,
    Resource,
    Service,
)
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.walkins.queue import DutyShift, QueueEntry, QueueEntryId, WalkInSettings
from carebook.domain.walkins.waittime import DurationStats, PublishedWait
from carebook.ports.sagas import PricingRepository, SagaRepository

__all__ = [
    "AppointmentRepository",
    "CalendarRepository",
    "Clock",
    "EventPublisher",
    "Inbox",
    "Notifier",
    "Outbox",
    "PatientRepository",
    "PaymentGateway",
    "PricingRepository",
    "SagaRepository",
    "Storage",
    "UnitOfWork",
    "WalkInRepository",
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

    def starting_between(
        self, location_ids: Collection[LocationId], start: int, end: int
    ) -> list[Appointment]:
        """Appointments (any status) at these locations starting in ``[start, end)``
        (epoch seconds), earliest start first: the history demand is counted from."""
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
        exclude: uuid.UUID | None = None,
    ) -> list[BusyInterval]:
        """Every occupied span overlapping ``[start, end)`` (epoch seconds) of the named
        owners, in one call, except those of appointment ``exclude`` (the hold being
        turned into a booking). Cost grows with the window, not with history.
        ``BusyInterval.appointment_id`` may be None."""
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
    @property
    def walkins(self) -> WalkInRepository: ...
    @property
    def pricing(self) -> PricingRepository: ...
    @property
    def sagas(self) -> SagaRepository: ...

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


@runtime_checkable
class Notifier(Protocol):
    def send(self, notification: Notification) -> None: ...


@runtime_checkable
class EventPublisher(Protocol):
    """Hands committed events to the world (in process, or a broker relay)."""

    def publish(self, event: Event) -> None: ...


@runtime_checkable
class PaymentGateway(Protocol):
    """Payment-intent lifecycle; every call that changes anything carries an idempotency key.

    - ``authorise`` creates an intent (``authorised``, ``failed``, or ``pending`` when
      the outcome is not yet known); ``capture`` charges an ``authorised`` intent in
      full; ``cancel`` releases an ``authorised`` one; ``refund`` returns up to what was
      captured and not yet refunded; ``retrieve`` reads an intent as it is now.
    - The **same key with the same parameters** returns the intent and acts no second
      time; the **same key with different parameters** (or another operation) raises
      :class:`~carebook.errors.IdempotencyConflictError`.
    - A transition the status does not allow raises
      :class:`~carebook.errors.InvalidTransitionError`; an unknown intent
      :class:`~carebook.errors.NotFoundError`; a refund above what is refundable
      :class:`~carebook.errors.ValidationError`. None of them changes anything.
    - A call whose outcome is unknown raises :class:`~carebook.errors.PaymentTimeoutError`
      (an :class:`~carebook.errors.AdapterError`): the provider may have acted, so retry
      with the same key, or ``retrieve``. Other provider failures are ``AdapterError``.
    """

    def authorise(
        self, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> PaymentIntent: ...
    def capture(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent: ...
    def cancel(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent: ...
    def refund(self, intent_id: str, *, amount: int, idempotency_key: str) -> PaymentIntent: ...
    def retrieve(self, intent_id: str) -> PaymentIntent: ...


class WalkInRepository(Protocol):
    """Walk-in settings, who is on duty where, the queues, and learned visit durations.

    Reads that feed a wait estimate (:meth:`active_entries`, :meth:`on_duty`,
    :meth:`durations`) cost what the current queue costs, never what the history does.
    A patient has at most one active queue entry: :meth:`add_entry` (and an
    :meth:`update_entry` that would make a second one active) raise ConflictError.
    """

    def lock_queue(self, location_id: LocationId) -> None:
        """Serialise changes to this location's queue until the (write) unit of work
        ends: two check-ins at one location then never race for the same slot."""
        ...

    def get_settings(self, location_id: LocationId) -> WalkInSettings | None: ...
    def save_settings(self, settings: WalkInSettings) -> None: ...
    def settings_for(self, organisation_id: OrganisationId) -> list[WalkInSettings]:
        """Every location of the organisation that takes walk-ins."""
        ...

    def on_duty(self, location_ids: Collection[LocationId]) -> list[DutyShift]: ...
    def duty_of(self, practitioner_id: PractitionerId) -> DutyShift | None: ...
    def save_duty(self, shift: DutyShift) -> None:
        """Insert or replace the practitioner's one duty row."""
        ...

    def end_duty(self, practitioner_id: PractitionerId) -> None: ...

    def add_entry(self, entry: QueueEntry) -> None: ...
    def update_entry(self, entry: QueueEntry) -> None:
        """Replace version ``entry.version - 1``; ConflictError if the stored one differs."""
        ...

    def get_entry(self, entry_id: QueueEntryId) -> QueueEntry | None: ...
    def entry_for_appointment(self, appointment_id: AppointmentId) -> QueueEntry | None: ...
    def active_entry_for_patient(self, patient_id: PatientId) -> QueueEntry | None: ...
    def entry_by_idempotency_key(self, key: str) -> QueueEntry | None: ...
    def active_entries(self, location_ids: Collection[LocationId]) -> list[QueueEntry]:
        """Waiting and in-session entries of the locations, oldest check-in first."""
        ...

    def check_ins(
        self, location_ids: Collection[LocationId], start: pendulum.DateTime, end: pendulum.DateTime
    ) -> list[QueueEntry]:
        """Entries (any status) checked in within ``[start, end)``, oldest first."""
        ...

    def durations(self, location_ids: Collection[LocationId]) -> list[DurationStats]: ...
    def save_durations(self, stats: DurationStats) -> None: ...
    def published_waits(self, location_ids: Collection[LocationId]) -> list[PublishedWait]: ...
    def save_published_wait(self, wait: PublishedWait) -> None: ...
