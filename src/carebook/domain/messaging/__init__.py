"""Messages people can read: what a rendered notification says, in whose language.

A :class:`~carebook.domain.notifications.Notification` carries ids only, and so does
the outbox. At send time the core resolves a :class:`MessageContext` (names, zone,
local times) for one notification, a :class:`~carebook.ports.MessageRenderer` turns it
into a :class:`RenderedMessage`, and a channel notifier gets an
:class:`OutboundMessage`: the three of them plus the recipient's address on that
channel. None of these values is ever stored or logged; ``repr`` shows ids only.
"""

from carebook.domain.messaging.message import (
    Attachment,
    MessageContext,
    OutboundMessage,
    RenderedMessage,
)

__all__ = ["Attachment", "MessageContext", "OutboundMessage", "RenderedMessage"]
