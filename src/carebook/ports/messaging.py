"""The ports of readable messages: render a notification, find a recipient's address,
and deliver on a channel.

- :class:`MessageRenderer` turns a :class:`~carebook.domain.messaging.MessageContext`
  into a :class:`~carebook.domain.messaging.RenderedMessage` for one channel. A
  template that cannot compile is a :class:`carebook.errors.ConfigurationError` when
  the renderer is built, never at send time.
- :class:`ContactDirectory` is the host's: contact details live in the host
  application, and carebook asks for one address at send time (by the recipient's role
  and id and the patient's opaque ``contact_ref``). None means "not reachable on this
  channel"; that notification is skipped on that channel, not retried.
- :class:`ChannelNotifier` is a notifier that takes rendered messages (e-mail, SMS).
  A plain :class:`~carebook.ports.Notifier` still gets the ids-only notification.
"""

from __future__ import annotations

import uuid
from typing import Protocol, runtime_checkable

from carebook.domain.messaging import MessageContext, OutboundMessage, RenderedMessage

__all__ = ["ChannelNotifier", "ContactDirectory", "MessageRenderer"]


@runtime_checkable
class MessageRenderer(Protocol):
    def render(self, context: MessageContext, channel: str) -> RenderedMessage: ...


@runtime_checkable
class ContactDirectory(Protocol):
    def address(
        self, recipient_role: str, recipient_id: uuid.UUID, contact_ref: str | None, channel: str
    ) -> str | None: ...


@runtime_checkable
class ChannelNotifier(Protocol):
    """Delivers a rendered message on one channel (``"email"``, ``"sms"``...).

    ``requires_address``: when True, a recipient the directory has no address for is
    skipped on this channel. ``deliver`` raises :class:`carebook.errors.AdapterError`
    (or any exception) on failure; the delivery is then retried with backoff."""

    @property
    def channel(self) -> str: ...

    @property
    def requires_address(self) -> bool: ...

    def deliver(self, message: OutboundMessage) -> None: ...
