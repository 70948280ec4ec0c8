"""carebook: an embeddable booking core for multi-location clinics.

Build one :class:`Carebook` with :func:`bootstrap` and call its use cases with an
:class:`Actor`. Everything listed in ``__all__`` is the public, stable surface.
"""

from carebook.app import Carebook
from carebook.bootstrap import CarebookConfig, bootstrap
from carebook.builtin.clocks import ManualClock, SystemClock
from carebook.builtin.payments import SimulatedPaymentGateway
from carebook.domain.actors import Actor, ActorKind
from carebook.domain.events import Event
from carebook.domain.ids import (
    AppointmentId,
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ResourceId,
    ServiceId,
)
from carebook.domain.instants import Interval
from carebook.domain.money import Money
from carebook.domain.payments.payment import PaymentIntent, PaymentStatus
from carebook.domain.payments.saga import BookingSaga, SagaStatus
from carebook.domain.payments.webhooks import PaymentWebhookEvent
from carebook.domain.pricing.discounts import (
    DiscountContext,
    DiscountOffer,
    DiscountPolicy,
    DiscountRejection,
)
from carebook.domain.pricing.policies import BirthdayOrHighValue, PromoCodePolicy
from carebook.domain.pricing.prices import PriceList, Quote, price_appointment
from carebook.domain.pricing.promo import PromoCode, PromoRequest
from carebook.domain.pricing.quota import DailyQuota, quota_day
from carebook.domain.pricing.settings import CombineMode, PricingSettings, QuotaExhaustedBehaviour
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus, TreatmentSession
from carebook.domain.scheduling.availability import AvailabilityQuery, AvailabilityResult, Slot
from carebook.domain.scheduling.calendar import (
    Closure,
    ClosureKind,
    DateOverride,
    Location,
    Organisation,
    Patient,
    PatientKind,
    Practitioner,
    Resource,
    ResourceKind,
    Service,
    TimeRange,
    WeeklyHours,
    WorkingPlan,
)
from carebook.domain.scheduling.patients import PatientFacts, Sex
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.domain.scheduling.rules import Rejection, ReservationRule, RuleContext
from carebook.domain.staffing.forecast import (
    DemandForecast,
    DemandKind,
    DemandRecord,
    ForecastModel,
    forecast_demand,
)
from carebook.domain.staffing.plan import (
    ShiftAssignment,
    StaffAvailability,
    StaffingCell,
    StaffingPlan,
    StaffingProblem,
    StaffingRules,
    plan_staffing,
)
from carebook.errors import (
    AdapterError,
    CarebookError,
    ConfigurationError,
    ConflictError,
    DuplicateAdapterError,
    ForbiddenError,
    IdempotencyConflictError,
    InvalidTransitionError,
    NotFoundError,
    PaymentTimeoutError,
    QuotaBelowUsageError,
    RuleRejectedError,
    SlotUnavailableError,
    StorageError,
    UnknownAdapterError,
    ValidationError,
    WebhookPayloadError,
    WebhookSignatureError,
)
from carebook.hookspecs import hookimpl
from carebook.plugins import make_plugin_manager
from carebook.services.booking.commands import BookAppointment, CancelAppointment, HoldSlot
from carebook.services.saga.request import RequestBooking

__all__ = [
    "Actor",
    "ActorKind",
    "AdapterError",
    "Appointment",
    "AppointmentId",
    "AppointmentStatus",
    "AvailabilityQuery",
    "AvailabilityResult",
    "BirthdayOrHighValue",
    "BookAppointment",
    "BookingPolicy",
    "BookingSaga",
    "CancelAppointment",
    "Carebook",
    "CarebookConfig",
    "CarebookError",
    "Closure",
    "ClosureKind",
    "CombineMode",
    "ConfigurationError",
    "ConflictError",
    "DailyQuota",
    "DateOverride",
    "DemandForecast",
    "DemandKind",
    "DemandRecord",
    "DiscountContext",
    "DiscountOffer",
    "DiscountPolicy",
    "DiscountRejection",
    "DuplicateAdapterError",
    "Event",
    "ForbiddenError",
    "ForecastModel",
    "HoldSlot",
    "IdempotencyConflictError",
    "Interval",
    "InvalidTransitionError",
    "Location",
    "LocationId",
    "ManualClock",
    "Money",
    "NotFoundError",
    "Organisation",
    "OrganisationId",
    "Patient",
    "PatientFacts",
    "PatientId",
    "PatientKind",
    "PaymentIntent",
    "PaymentStatus",
    "PaymentTimeoutError",
    "PaymentWebhookEvent",
    "Practitioner",
    "PractitionerId",
    "PriceList",
    "PricingSettings",
    "PromoCode",
    "PromoCodePolicy",
    "PromoRequest",
    "QuotaBelowUsageError",
    "QuotaExhaustedBehaviour",
    "Quote",
    "Rejection",
    "RequestBooking",
    "ReservationRule",
    "Resource",
    "ResourceId",
    "ResourceKind",
    "RuleContext",
    "RuleRejectedError",
    "SagaStatus",
    "Service",
    "ServiceId",
    "Sex",
    "ShiftAssignment",
    "SimulatedPaymentGateway",
    "Slot",
    "SlotUnavailableError",
    "StaffAvailability",
    "StaffingCell",
    "StaffingPlan",
    "StaffingProblem",
    "StaffingRules",
    "StorageError",
    "SystemClock",
    "TimeRange",
    "TreatmentSession",
    "UnknownAdapterError",
    "ValidationError",
    "WebhookPayloadError",
    "WebhookSignatureError",
    "WeeklyHours",
    "WorkingPlan",
    "bootstrap",
    "forecast_demand",
    "hookimpl",
    "make_plugin_manager",
    "plan_staffing",
    "price_appointment",
    "quota_day",
]
