"""carebook: an embeddable booking core for multi-location clinics.

Build one :class:`Carebook` with :func:`bootstrap` and call its use cases with an
:class:`Actor`. Everything listed in ``__all__`` is the public, stable surface.
"""

from carebook.app import Carebook
from carebook.bootstrap import CarebookConfig, bootstrap
from carebook.builtin.clocks import ManualClock, SystemClock
from carebook.domain.actors import Actor, ActorKind
from carebook.domain.appointment import Appointment, AppointmentStatus, TreatmentSession
from carebook.domain.availability import AvailabilityQuery, AvailabilityResult, Slot
from carebook.domain.calendar import (
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
from carebook.domain.policy import BookingPolicy
from carebook.domain.rules import Rejection, ReservationRule, RuleContext
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
    RuleRejectedError,
    SlotUnavailableError,
    StorageError,
    UnknownAdapterError,
    ValidationError,
)
from carebook.hookspecs import hookimpl
from carebook.plugins import make_plugin_manager
from carebook.services.commands import BookAppointment, CancelAppointment, HoldSlot

__all__ = [
    "Actor",
    "ActorKind",
    "AdapterError",
    "Appointment",
    "AppointmentId",
    "AppointmentStatus",
    "AvailabilityQuery",
    "AvailabilityResult",
    "BookAppointment",
    "BookingPolicy",
    "CancelAppointment",
    "Carebook",
    "CarebookConfig",
    "CarebookError",
    "Closure",
    "ClosureKind",
    "ConfigurationError",
    "ConflictError",
    "DateOverride",
    "DuplicateAdapterError",
    "Event",
    "ForbiddenError",
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
    "PatientId",
    "PatientKind",
    "Practitioner",
    "PractitionerId",
    "Rejection",
    "ReservationRule",
    "Resource",
    "ResourceId",
    "ResourceKind",
    "RuleContext",
    "RuleRejectedError",
    "Service",
    "ServiceId",
    "Slot",
    "SlotUnavailableError",
    "StorageError",
    "SystemClock",
    "TimeRange",
    "TreatmentSession",
    "UnknownAdapterError",
    "ValidationError",
    "WeeklyHours",
    "WorkingPlan",
    "bootstrap",
    "hookimpl",
    "make_plugin_manager",
]
