"""The clinic calendar, availability, reservation rules, and appointments.

Everything a host needs to set up a clinic (organisations, locations in their own
zones, practitioners and their working plans, services, rooms and equipment), search
free slots, hold and book them, and follow an appointment through its FHIR R4
lifecycle. Reached at run time through ``cb.admin``, ``cb.booking``,
``cb.lifecycle`` and ``cb.queries``.
"""

from carebook.domain.instants import (
    wall_clock,
)
from carebook.domain.scheduling.appointment import (
    TRANSITIONS,
    Appointment,
    AppointmentStatus,
    Move,
    SessionStatus,
    TreatmentSession,
)
from carebook.domain.scheduling.availability import (
    AvailabilityQuery,
    AvailabilityResult,
    Slot,
)
from carebook.domain.scheduling.busy import (
    BusyInterval,
)
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
from carebook.domain.scheduling.clinic import (
    ClinicCalendar,
)
from carebook.domain.scheduling.patients import (
    PatientFacts,
    Sex,
)
from carebook.domain.scheduling.policy import (
    BookingPolicy,
)
from carebook.domain.scheduling.rules import (
    BUILTIN_RULES,
    BookingRequest,
    Rejection,
    ReservationRule,
    RuleContext,
)
from carebook.domain.scheduling.search_filters import (
    SearchContext,
    SearchFilter,
)
from carebook.services.admin.calendar import (
    CalendarAdmin,
)
from carebook.services.booking.commands import (
    BookAppointment,
    CancelAppointment,
    HoldSlot,
    RescheduleAppointment,
)
from carebook.services.booking.service import (
    Booking,
)
from carebook.services.lifecycle.service import (
    Lifecycle,
)
from carebook.services.queries.service import (
    Queries,
)

__all__ = [
    "BUILTIN_RULES",
    "TRANSITIONS",
    "Appointment",
    "AppointmentStatus",
    "AvailabilityQuery",
    "AvailabilityResult",
    "BookAppointment",
    "Booking",
    "BookingPolicy",
    "BookingRequest",
    "BusyInterval",
    "CalendarAdmin",
    "CancelAppointment",
    "ClinicCalendar",
    "Closure",
    "ClosureKind",
    "DateOverride",
    "HoldSlot",
    "Lifecycle",
    "Location",
    "Move",
    "Organisation",
    "Patient",
    "PatientFacts",
    "PatientKind",
    "Practitioner",
    "Queries",
    "Rejection",
    "RescheduleAppointment",
    "ReservationRule",
    "Resource",
    "ResourceKind",
    "RuleContext",
    "SearchContext",
    "SearchFilter",
    "Service",
    "SessionStatus",
    "Sex",
    "Slot",
    "TimeRange",
    "TreatmentSession",
    "WeeklyHours",
    "WorkingPlan",
    "wall_clock",
]
