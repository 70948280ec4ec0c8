"""The ports: what the core needs from the world, as ``typing.Protocol`` classes, one
module per port family.

- :mod:`carebook.ports.storage`: :class:`Storage`, :class:`UnitOfWork`, the calendar,
  patient and appointment repositories, :class:`Outbox`, :class:`Inbox`,
  :class:`DeliveryRepository`
- :mod:`carebook.ports.walkins`: :class:`WalkInRepository`
- :mod:`carebook.ports.pricing`: :class:`PricingRepository`
- :mod:`carebook.ports.sagas`: :class:`SagaRepository`
- :mod:`carebook.ports.reminders`: :class:`ReminderRepository`
- :mod:`carebook.ports.clock`: :class:`Clock`
- :mod:`carebook.ports.notifications`: :class:`Notifier`, :class:`EventPublisher`
- :mod:`carebook.ports.messaging`: :class:`MessageRenderer`, :class:`ContactDirectory`,
  :class:`ChannelNotifier`
- :mod:`carebook.ports.payments`: :class:`PaymentGateway`

The values the ports carry belong to the domain: payment intents and statuses in
:mod:`carebook.domain.payments.payment`, notifications in
:mod:`carebook.domain.notifications`. Every implementation runs the matching contract
suite in :mod:`carebook.testing.contracts`; adapters translate their own failures into
:class:`carebook.errors.StorageError` (or :class:`carebook.errors.AdapterError`) and
conflicts into the core's conflict errors.
"""

from carebook.ports.clock import Clock
from carebook.ports.messaging import ChannelNotifier, ContactDirectory, MessageRenderer
from carebook.ports.notifications import EventPublisher, Notifier
from carebook.ports.payments import PaymentGateway
from carebook.ports.pricing import PricingRepository
from carebook.ports.reminders import ReminderRepository
from carebook.ports.sagas import SagaRepository
from carebook.ports.storage import (
    AppointmentRepository,
    CalendarRepository,
    DeliveryRepository,
    Inbox,
    Outbox,
    PatientRepository,
    Storage,
    UnitOfWork,
)
from carebook.ports.walkins import WalkInRepository

__all__ = [
    "AppointmentRepository",
    "CalendarRepository",
    "ChannelNotifier",
    "Clock",
    "ContactDirectory",
    "DeliveryRepository",
    "EventPublisher",
    "Inbox",
    "MessageRenderer",
    "Notifier",
    "Outbox",
    "PatientRepository",
    "PaymentGateway",
    "PricingRepository",
    "ReminderRepository",
    "SagaRepository",
    "Storage",
    "UnitOfWork",
    "WalkInRepository",
]
