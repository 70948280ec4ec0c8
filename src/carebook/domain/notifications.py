"""The notification value: a message to send, carrying ids only.

The :class:`~carebook.ports.Notifier` port sends it; the dispatcher
(:mod:`carebook.services.dispatch`) builds it from an event.
"""

from __future__ import annotations

import uuid

from attrs import frozen

from carebook.domain.ids import AppointmentId, EventId

__all__ = ["Notification"]


@frozen(kw_only=True)
class Notification:
    """A message to send: who (a role and an id), what (a kind), about which event.

    It carries ids only; the notifier adapter resolves contact details itself.
    """

    kind: str
    recipient_role: str
    recipient_id: uuid.UUID
    appointment_id: AppointmentId
    event_id: EventId
    correlation_id: str
    locale: str = "en"

    @property
    def idempotency_key(self) -> str:
        """The same on every attempt to send this notification (event, kind, role): a
        channel that can deduplicate should pass it on, so that a send repeated after a
        crash reaches the recipient once."""
        return f"{self.event_id}:{self.kind}:{self.recipient_role}"
