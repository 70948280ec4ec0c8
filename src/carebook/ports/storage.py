"""The storage port: :class:`Storage` hands out units of work; a :class:`UnitOfWork` is
one transaction over the repositories (calendar, patients, appointments), the
:class:`Outbox`, the :class:`Inbox` and the :class:`DeliveryRepository`, and the feature
repositories of :mod:`carebook.ports.walkins`, :mod:`carebook.ports.pricing` and
:mod:`carebook.ports.sagas`.

Every implementation runs :class:`carebook.testing.contracts.StorageContract`. Adapters
translate their own failures into :class:`carebook.errors.StorageError` and conflicts into
the core's conflict errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from types import TracebackType
from typing import Protocol, runtime_checkable

import pendulum

from carebook.domain.delivery import Delivery
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
from carebook.ports.pricing import PricingRepository
from carebook.ports.reminders import ReminderRepository
from carebook.ports.sagas import SagaRepository
from carebook.ports.walkins import WalkInRepository

__all__ = [
    "AppointmentRepository",
    "CalendarRepository",
    "DeliveryRepository",
    "Inbox",
    "Outbox",
    "PatientRepository",
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

    def organisation_ids(
        self, after: OrganisationId | None = None, limit: int = 100
    ) -> list[OrganisationId]:
        """Every organisation's id in ascending UUID order (``uuid.UUID`` ordering),
        ``limit`` at a time, starting after ``after``: how background work visits them."""
        ...


class PatientRepository(Protocol):
    def get(self, patient_id: PatientId) -> Patient | None: ...
    def save(self, patient: Patient) -> None: ...


class AppointmentRepository(Protocol):
    """Appointments, and the busy time they occupy.

    The storage itself guarantees that no two appointments occupying time overlap for
    one practitioner, one resource or one patient: :meth:`add` (and :meth:`update` of a
    changed span) raise :class:`carebook.errors.SlotUnavailableError` otherwise.
    Holds (``proposed``) occupy time only until ``hold_expires_at``, a whole second:
    keep it as :func:`~carebook.domain.scheduling.busy.expiry_epoch` and decide with
    :func:`~carebook.domain.scheduling.busy.hold_blocks` against
    :func:`~carebook.domain.scheduling.busy.now_epoch` of ``now``, as
    ``Appointment.occupies`` does.
    """

    def get(self, appointment_id: AppointmentId) -> Appointment | None: ...

    def add(self, appointment: Appointment, *, now: pendulum.DateTime) -> None:
        """Insert; SlotUnavailableError on overlap (expired holds do not count)."""
        ...

    def update(self, appointment: Appointment) -> None:
        """Replace the stored version ``appointment.version - 1``; ConflictError if stale.

        Status and session changes only: the occupied span must stay the same
        (StorageError otherwise). Moving an appointment is :meth:`move`, which
        re-checks overlap like :meth:`add`.
        """
        ...

    def move(
        self, appointment: Appointment, *, previous: Appointment, now: pendulum.DateTime
    ) -> None:
        """Replace ``previous`` (stored at version ``appointment.version - 1``) by
        ``appointment``, the same id at a new span, practitioner, location or resources
        (a reschedule). Like :meth:`add`, SlotUnavailableError when the new span overlaps
        another appointment that occupies its time at ``now`` (the appointment's own old
        span does not count, and expired holds do not either); ConflictError if
        ``previous`` is stale. Either way nothing changes."""
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

    def due(self, now: pendulum.DateTime, limit: int = 100) -> list[Event]:
        """Undispatched events that are due at ``now``, oldest first: every event not
        deferred, and those deferred to ``now`` or earlier. Events deferred to later are
        skipped, so they never hold back the ones behind them."""
        ...

    def defer(self, event_id: EventId, until: pendulum.DateTime) -> None:
        """Leave an undispatched event out of :meth:`due` until ``until`` (its next
        consumer's retry). Kept to the microsecond."""
        ...

    def reopen(self, event_ids: Collection[EventId], at: pendulum.DateTime) -> None:
        """Make dispatched events undispatched again, in their original place, due at
        ``at`` (an administrator retrying a dead letter). Unknown ids are ignored."""
        ...


class Inbox(Protocol):
    """Which consumer has already handled which event (for at-least-once delivery)."""

    def record(self, consumer: str, event_id: EventId) -> bool:
        """Remember the pair; False if it was already recorded (skip the side effect)."""
        ...


class DeliveryRepository(Protocol):
    """Per-consumer delivery state of outbox events (see :mod:`carebook.domain.delivery`).

    A delivery is keyed by ``(event_id, consumer)`` and stored with its ``version``: a
    delivery of version 1 is inserted, a later one replaces the stored ``version - 1``.
    """

    def for_events(self, event_ids: Collection[EventId]) -> list[Delivery]:
        """Every stored delivery of these events, in no particular order."""
        ...

    def put(self, deliveries: Sequence[Delivery]) -> None:
        """Store each delivery; ConflictError if one exists already (version 1) or its
        stored version is not ``version - 1`` (another dispatcher moved it first)."""
        ...

    def dead(self, limit: int = 100, after: tuple[EventId, str] | None = None) -> list[Delivery]:
        """Dead deliveries, ordered by ``(str(event_id), consumer)``, ``limit`` at a
        time, starting after the key ``after``."""
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
    def deliveries(self) -> DeliveryRepository: ...
    @property
    def walkins(self) -> WalkInRepository: ...
    @property
    def pricing(self) -> PricingRepository: ...
    @property
    def sagas(self) -> SagaRepository: ...
    @property
    def reminders(self) -> ReminderRepository: ...

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
