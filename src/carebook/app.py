"""The Carebook object: one facade over every feature, wired to one set of adapters.

Build it with :func:`carebook.bootstrap`, which does all the wiring; two Carebooks
never share state. Each feature is one attribute (``cb.booking``, ``cb.lifecycle``,
``cb.walkins`` ...), and each use case is reached one way only.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from carebook.domain.scheduling.rules import ReservationRule
from carebook.ports import (
    ChannelNotifier,
    Clock,
    EventPublisher,
    Notifier,
    PaymentGateway,
    Storage,
)
from carebook.services.admin.calendar import CalendarAdmin
from carebook.services.admin.pricing import PricingAdmin
from carebook.services.booking.service import Booking
from carebook.services.dispatch import Events
from carebook.services.lifecycle.service import Lifecycle
from carebook.services.queries.service import Queries
from carebook.services.reminders.service import Reminders
from carebook.services.saga.service import BookingSagas
from carebook.services.staffing.service import Staffing
from carebook.services.walkins.service import WalkIns

__all__ = ["Carebook"]


@attrs.frozen(kw_only=True)
class Carebook:
    """The booking core for one host application.

    Every use case takes the acting :class:`~carebook.Actor` first and runs in one
    unit of work: a command that raises changed nothing. Each command accepts
    ``correlation_id=`` (one is generated otherwise); it is on every event and log line
    the command causes.
    """

    booking: Booking
    """Availability search, holds and bookings."""
    lifecycle: Lifecycle
    """Confirm, check in, treatment sessions, no-shows, cancellation, hold expiry."""
    queries: Queries
    """Reads: one appointment, a patient's appointments."""
    sagas: BookingSagas
    """Booking through the payment saga: request, resume, webhooks, status, timeline."""
    walkins: WalkIns
    """Walk-in check-ins, the queues, practitioners on duty and live wait times."""
    staffing: Staffing
    """Demand history, forecasts and staffing plans (docs/staffing.md)."""
    admin: CalendarAdmin
    """Calendar set-up: organisations, locations, practitioners, services..."""
    pricing: PricingAdmin
    """Prices, discount settings, promo codes and their audit trail (admin only)."""
    events: Events
    """The outbox: deliver now (``dispatch="manual"``), or list what is pending."""
    reminders: Reminders
    """Reminder policies per organisation, and sending what is due (docs/reminders.md)."""

    storage: Storage
    clock: Clock
    notifiers: Mapping[str, Notifier]
    publisher: EventPublisher
    payment_gateway: PaymentGateway | None
    """The configured gateway, if any (the booking saga drives it)."""
    rules: tuple[ReservationRule, ...]
    """The reservation pipeline, in order."""
    name: str = "carebook"
    channel_notifiers: Mapping[str, ChannelNotifier] = attrs.field(factory=dict)
    """The channel notifiers (e-mail, SMS) by name; in :attr:`notifiers` each stands
    behind a sender that renders and addresses its messages."""

    def close(self) -> None:
        """Release the storage adapter's resources."""
        self.storage.close()
