"""The ports: what the core needs from the world, as ``typing.Protocol`` classes."""

from carebook.ports.core import (
    AppointmentRepository,
    CalendarRepository,
    Clock,
    EventPublisher,
    Inbox,
    Notifier,
    Outbox,
    PatientRepository,
    PaymentGateway,
    PricingRepository,
    SagaRepository,
    Storage,
    UnitOfWork,
    WalkInRepository,
)

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
