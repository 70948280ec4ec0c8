"""The domain events: what observers (``carebook_on_event``), publishers and
notifiers receive. Every event carries ids and a correlation id, never patient data nor
anything a patient attribute can be inferred from. The saga's discount-quota steps
(:data:`TIMELINE_ONLY_EVENT_TYPES`) stay on the saga's timeline and never reach them.

Also here: each event's per-consumer :class:`Delivery` (its :class:`DeliveryStatus`, the
:class:`RetryPolicy` of ``CarebookConfig.delivery_options``) and the
:class:`PendingReport` of ``cb.events.run_pending()`` (docs/operations.md).
"""

from carebook.domain.delivery import Delivery, DeliveryStatus, RetryPolicy
from carebook.domain.events import (
    EVENT_TYPES,
    SAGA_EVENT_TYPES,
    TIMELINE_ONLY_EVENT_TYPES,
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentEnteredInError,
    AppointmentHeld,
    AppointmentNoShow,
    AppointmentRescheduled,
    BookingConfirmed,
    BookingFailed,
    BookingRequested,
    CalendarChanged,
    CompensationFailed,
    CompensationTriggered,
    DiscountQuotaReleased,
    DiscountQuotaReserved,
    Event,
    EventStamp,
    PatientArrived,
    PaymentCancelled,
    PaymentCompleted,
    PaymentFailed,
    PaymentRefunded,
    PricingCalculated,
    ReminderDue,
    SessionCompleted,
    SessionStarted,
    WaitTimeChanged,
    leaves_core,
)
from carebook.services.background import PendingReport

__all__ = [
    "EVENT_TYPES",
    "SAGA_EVENT_TYPES",
    "TIMELINE_ONLY_EVENT_TYPES",
    "AppointmentBooked",
    "AppointmentCancelled",
    "AppointmentConfirmed",
    "AppointmentEnteredInError",
    "AppointmentHeld",
    "AppointmentNoShow",
    "AppointmentRescheduled",
    "BookingConfirmed",
    "BookingFailed",
    "BookingRequested",
    "CalendarChanged",
    "CompensationFailed",
    "CompensationTriggered",
    "Delivery",
    "DeliveryStatus",
    "DiscountQuotaReleased",
    "DiscountQuotaReserved",
    "Event",
    "EventStamp",
    "PatientArrived",
    "PaymentCancelled",
    "PaymentCompleted",
    "PaymentFailed",
    "PaymentRefunded",
    "PendingReport",
    "PricingCalculated",
    "ReminderDue",
    "RetryPolicy",
    "SessionCompleted",
    "SessionStarted",
    "WaitTimeChanged",
    "leaves_core",
]
