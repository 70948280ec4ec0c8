"""Payments and the booking saga: payment values, signed webhooks, the saga.

Reached at run time as ``cb.sagas`` (:class:`BookingSagas`); the built-in
:class:`SimulatedPaymentGateway` stands in for a provider. See docs/booking-saga.md.
"""

from carebook.builtin.payments import (
    SimulatedMode,
    SimulatedPaymentGateway,
)
from carebook.domain.events import (
    BookingConfirmed,
    BookingFailed,
    BookingRequested,
    CompensationFailed,
    CompensationTriggered,
    DiscountQuotaReleased,
    DiscountQuotaReserved,
    PaymentCancelled,
    PaymentCompleted,
    PaymentFailed,
    PaymentRefunded,
    PricingCalculated,
)
from carebook.domain.payments.payment import (
    FINAL_PAYMENT_STATUSES,
    PaymentIntent,
    PaymentStatus,
    later_status,
)
from carebook.domain.payments.saga import (
    BookingSaga,
    SagaStatus,
)
from carebook.domain.payments.webhooks import (
    SIGNATURE_HEADER,
    PaymentState,
    PaymentWebhookEvent,
    fold_payment_events,
    parse_event,
    sign_payload,
    verify_and_parse,
    verify_signature,
)
from carebook.errors import (
    PaymentTimeoutError,
    WebhookPayloadError,
    WebhookSignatureError,
)
from carebook.services.saga.request import (
    RequestBooking,
)
from carebook.services.saga.runtime import (
    SagaSettings,
)
from carebook.services.saga.service import (
    BookingSagas,
    WebhookOutcome,
)

__all__ = [
    "FINAL_PAYMENT_STATUSES",
    "SIGNATURE_HEADER",
    "BookingConfirmed",
    "BookingFailed",
    "BookingRequested",
    "BookingSaga",
    "BookingSagas",
    "CompensationFailed",
    "CompensationTriggered",
    "DiscountQuotaReleased",
    "DiscountQuotaReserved",
    "PaymentCancelled",
    "PaymentCompleted",
    "PaymentFailed",
    "PaymentIntent",
    "PaymentRefunded",
    "PaymentState",
    "PaymentStatus",
    "PaymentTimeoutError",
    "PaymentWebhookEvent",
    "PricingCalculated",
    "RequestBooking",
    "SagaSettings",
    "SagaStatus",
    "SimulatedMode",
    "SimulatedPaymentGateway",
    "WebhookOutcome",
    "WebhookPayloadError",
    "WebhookSignatureError",
    "fold_payment_events",
    "later_status",
    "parse_event",
    "sign_payload",
    "verify_and_parse",
    "verify_signature",
]
