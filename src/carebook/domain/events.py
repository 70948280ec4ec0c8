"""Domain events: frozen, id-only payloads that round-trip through JSON.

An event never carries a patient's name, birth date, phone number or notes: only ids,
instants, statuses and reason codes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import attrs
import pendulum
from attrs import frozen

from carebook.domain import validators
from carebook.domain.ids import (
    AppointmentId,
    EventId,
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    SagaId,
)

__all__ = [
    "EVENT_TYPES",
    "SAGA_EVENT_TYPES",
    "TIMELINE_ONLY_EVENT_TYPES",
    "AppointmentBooked",
    "AppointmentCancelled",
    "AppointmentConfirmed",
    "AppointmentEnteredInError",
    "AppointmentEvent",
    "AppointmentHeld",
    "AppointmentNoShow",
    "AppointmentRescheduled",
    "BookingConfirmed",
    "BookingFailed",
    "BookingRequested",
    "CalendarChanged",
    "CompensationFailed",
    "CompensationTriggered",
    "DiscountQuotaReleased",
    "DiscountQuotaReserved",
    "Event",
    "EventStamp",
    "PatientArrived",
    "PaymentCancelled",
    "PaymentCompleted",
    "PaymentFailed",
    "PaymentRefunded",
    "PricingCalculated",
    "ReminderDue",
    "SagaEvent",
    "SessionCompleted",
    "SessionStarted",
    "WaitTimeChanged",
    "leaves_core",
]


@frozen
class EventStamp:
    """What every event of one command shares: when, which request, and an id source.

    A correlation id is clean text of 1 to 200 characters (it is on every event and log
    line of the command)."""

    now: pendulum.DateTime
    correlation_id: str = attrs.field(validator=validators.text(validators.MAX_NAME))
    new_id: Callable[[], uuid.UUID] = attrs.field(eq=False, repr=False)

    def meta(self) -> dict[str, object]:
        return {
            "event_id": EventId(self.new_id()),
            "occurred_at": self.now,
            "correlation_id": self.correlation_id,
        }


@frozen(kw_only=True)
class Event:
    """Base of every domain event."""

    event_id: EventId
    occurred_at: pendulum.DateTime
    correlation_id: str
    organisation_id: OrganisationId

    @property
    def type(self) -> str:
        return type(self).__name__


@frozen(kw_only=True)
class AppointmentEvent(Event):
    """A change to one appointment: ids only, never patient data."""

    appointment_id: AppointmentId
    location_id: LocationId
    practitioner_id: PractitionerId
    patient_id: PatientId


@frozen(kw_only=True)
class AppointmentHeld(AppointmentEvent):
    """A slot is held (FHIR ``proposed``) until ``expires_at``."""

    start: pendulum.DateTime
    end: pendulum.DateTime
    expires_at: pendulum.DateTime


@frozen(kw_only=True)
class AppointmentBooked(AppointmentEvent):
    """An appointment now occupies its time; ``status`` is ``pending`` or ``booked``."""

    start: pendulum.DateTime
    end: pendulum.DateTime
    status: str


@frozen(kw_only=True)
class AppointmentConfirmed(AppointmentEvent):
    """Reception confirmed a pending appointment."""


@frozen(kw_only=True)
class AppointmentCancelled(AppointmentEvent):
    """Cancelled (or a hold expired); ``reason`` is a code, ``by`` an actor kind."""

    reason: str
    by: str


@frozen(kw_only=True)
class AppointmentRescheduled(AppointmentEvent):
    """Moved to a new time (and perhaps practitioner, location or resources); the
    appointment keeps its id, status, price and payment. ``location_id`` and
    ``practitioner_id`` are the new ones, ``previous_*`` the old; ``reschedules`` counts
    the moves so far; ``overridden`` says staff overrode the reschedule policy (their
    reason is kept with the appointment, never in an event)."""

    previous_start: pendulum.DateTime
    previous_end: pendulum.DateTime
    previous_location_id: LocationId
    previous_practitioner_id: PractitionerId
    start: pendulum.DateTime
    end: pendulum.DateTime
    reschedules: int
    overridden: bool


@frozen(kw_only=True)
class ReminderDue(AppointmentEvent):
    """A reminder of the visit at ``start`` is due, ``offset_minutes`` before it (ids,
    the start and the offset only; the notifier renders the rest)."""

    start: pendulum.DateTime
    offset_minutes: int


@frozen(kw_only=True)
class PatientArrived(AppointmentEvent):
    """The patient checked in."""


@frozen(kw_only=True)
class AppointmentNoShow(AppointmentEvent):
    """The patient did not come."""


@frozen(kw_only=True)
class AppointmentEnteredInError(AppointmentEvent):
    """The appointment should never have existed."""


@frozen(kw_only=True)
class SessionStarted(AppointmentEvent):
    """The treatment session began."""


@frozen(kw_only=True)
class SessionCompleted(AppointmentEvent):
    """The treatment session ended; the appointment is fulfilled."""


@frozen(kw_only=True)
class CalendarChanged(Event):
    """An administrator or staff changed the calendar (``entity`` and ``change`` codes)."""

    entity: str
    entity_id: uuid.UUID
    change: str
    actor: str


@frozen(kw_only=True)
class WaitTimeChanged(Event):
    """A location's queue changed: the wait for a patient joining now is ``wait_minutes``
    (None: nobody on duty). ``cause`` is a code (``check_in``, ``session_started``,
    ``session_completed``, ``on_duty``, ``off_duty``, ``left_queue``, ``no_show``,
    ``cancelled``, ``behind_schedule``...). Counts and minutes only, no patient ids."""

    location_id: LocationId
    wait_minutes: int | None
    previous_wait_minutes: int | None
    queue_length: int
    practitioners_on_duty: int
    cause: str


# -- the booking saga (see docs/booking-saga.md) -----------------------------------------
@frozen(kw_only=True)
class SagaEvent(Event):
    """A step of one booking saga: ids only, never patient data."""

    saga_id: SagaId
    appointment_id: AppointmentId
    location_id: LocationId
    patient_id: PatientId


@frozen(kw_only=True)
class BookingRequested(SagaEvent):
    """A booking was requested: its slot is held until the saga ends."""

    start: pendulum.DateTime
    end: pendulum.DateTime


@frozen(kw_only=True)
class PricingCalculated(SagaEvent):
    """The booking was priced. The price itself (base, amount to pay, currency, the
    discount) is on the saga's record (``cb.sagas.status``), never in the event: for a
    total under the high-value threshold a discount can only be the birthday rule, so
    an amount here would tell every reader of the outbox that today is this patient's
    birthday."""


@frozen(kw_only=True)
class DiscountQuotaReserved(SagaEvent):
    """One unit of the ``quota_day``'s discount quota is held for this booking.

    Kept on the saga's timeline only, never put in the outbox (see
    :data:`TIMELINE_ONLY_EVENT_TYPES`): that a discount was given says something about
    the patient."""

    quota_day: dt.date


@frozen(kw_only=True)
class PaymentCompleted(SagaEvent):
    """The payment ``intent_id`` was captured (the amount is on the saga's record: it
    would show the discount)."""

    intent_id: str


@frozen(kw_only=True)
class BookingConfirmed(SagaEvent):
    """The saga ended well: paid, and the appointment is booked."""


@frozen(kw_only=True)
class PaymentFailed(SagaEvent):
    """The payment was declined or took too long (``reason``: ``card_declined``,
    ``payment_timeout`` ...)."""

    reason: str


@frozen(kw_only=True)
class CompensationTriggered(SagaEvent):
    """The saga is undoing what it did (``reason`` says why)."""

    reason: str


@frozen(kw_only=True)
class DiscountQuotaReleased(SagaEvent):
    """The discount quota unit of ``quota_day`` is given back (timeline only, like
    :class:`DiscountQuotaReserved`)."""

    quota_day: dt.date


@frozen(kw_only=True)
class PaymentCancelled(SagaEvent):
    """The authorisation ``intent_id`` was released: no money moved."""

    intent_id: str


@frozen(kw_only=True)
class PaymentRefunded(SagaEvent):
    """Money captured (``intent_id``) for a booking that could not be confirmed went
    back; how much is the gateway's and the saga record's to say."""

    intent_id: str


@frozen(kw_only=True)
class CompensationFailed(SagaEvent):
    """A compensation ``step`` failed (``reason``: an error class or code); it is
    retried, never dropped."""

    step: str
    reason: str


@frozen(kw_only=True)
class BookingFailed(SagaEvent):
    """The saga ended without a booking; everything it held was released."""

    reason: str


SAGA_EVENT_TYPES: tuple[type[Event], ...] = (
    BookingRequested,
    PricingCalculated,
    DiscountQuotaReserved,
    PaymentCompleted,
    BookingConfirmed,
    PaymentFailed,
    CompensationTriggered,
    DiscountQuotaReleased,
    PaymentCancelled,
    PaymentRefunded,
    CompensationFailed,
    BookingFailed,
)


TIMELINE_ONLY_EVENT_TYPES: tuple[type[Event], ...] = (DiscountQuotaReserved, DiscountQuotaReleased)
"""Saga steps kept on the saga's timeline (read through ``cb.sagas.timeline`` by those
allowed to) and never put in the outbox, so no subscriber, observer, publisher or
broker sees them: that a booking took a discount unit says, for a total under the
high-value threshold, that today is the patient's birthday."""


def leaves_core(event: Event) -> bool:
    """Whether ``event`` may go to the outbox and on to everything outside the core."""
    return not isinstance(event, TIMELINE_ONLY_EVENT_TYPES)


EVENT_TYPES: tuple[type[Event], ...] = (
    AppointmentHeld,
    AppointmentBooked,
    AppointmentConfirmed,
    AppointmentCancelled,
    AppointmentRescheduled,
    ReminderDue,
    PatientArrived,
    AppointmentNoShow,
    AppointmentEnteredInError,
    SessionStarted,
    SessionCompleted,
    CalendarChanged,
    WaitTimeChanged,
    *SAGA_EVENT_TYPES,
)
