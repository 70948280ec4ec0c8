"""The values of a rendered notification: context, rendered text, the outbound message.

They hold what a person reads (names, local times, an address), so they exist only
while a notification is being sent: never stored, never in an event, a log line or an
exception message. Their ``repr`` shows the notification's ids and nothing else.
"""

from __future__ import annotations

import attrs
import pendulum
from attrs import frozen

from carebook.domain.languages import canonical_language
from carebook.domain.money import Money
from carebook.domain.notifications import Notification

__all__ = ["Attachment", "MessageContext", "OutboundMessage", "RenderedMessage"]


def _language(value: object) -> str:
    return canonical_language(value, "locale")


@frozen(kw_only=True)
class MessageContext:
    """What a template may show for one notification, resolved at send time.

    ``start`` and ``end`` are UTC instants; a renderer shows them in ``timezone`` (the
    location's IANA zone) and ``locale``. ``locale`` is the recipient's preferred
    language (a BCP 47 tag), or the organisation's default when they have none.
    The optional names are None when the notification has no such subject
    (a walk-in notice has no service, say)."""

    notification: Notification
    locale: str = attrs.field(converter=_language)
    timezone: str
    organisation_name: str = attrs.field(repr=False)
    location_name: str | None = attrs.field(default=None, repr=False)
    practitioner_name: str | None = attrs.field(default=None, repr=False)
    service_name: str | None = attrs.field(default=None, repr=False)
    start: pendulum.DateTime | None = attrs.field(default=None, repr=False)
    end: pendulum.DateTime | None = attrs.field(default=None, repr=False)
    price: Money | None = attrs.field(default=None, repr=False)
    """The list price of the appointment's services (before any discount), or None."""

    @property
    def kind(self) -> str:
        return self.notification.kind

    @property
    def recipient_role(self) -> str:
        return self.notification.recipient_role


@frozen(kw_only=True)
class Attachment:
    """A file sent with a message (an iCalendar invitation, say)."""

    filename: str
    content_type: str
    data: bytes = attrs.field(repr=False)


@frozen(kw_only=True)
class RenderedMessage:
    """What the recipient reads: a subject (or SMS first line), a plain-text body, and
    an HTML body where the channel has one. ``locale`` is the language actually used
    (English when the requested one has no template)."""

    locale: str = attrs.field(converter=_language)
    subject: str = attrs.field(repr=False)
    text: str = attrs.field(repr=False)
    html: str | None = attrs.field(default=None, repr=False)


@frozen(kw_only=True)
class OutboundMessage:
    """One message for one channel: the notification (ids), what it is about, what it
    says, and where it goes. ``address`` is the channel's address for the recipient
    (an e-mail address, an E.164 phone number), or None for channels that need none."""

    channel: str
    context: MessageContext
    rendered: RenderedMessage
    address: str | None = attrs.field(default=None, repr=False)
    attachments: tuple[Attachment, ...] = ()

    @property
    def notification(self) -> Notification:
        return self.context.notification

    @property
    def idempotency_key(self) -> str:
        """The notification's key: the same on every attempt (see
        :attr:`Notification.idempotency_key`)."""
        return self.notification.idempotency_key
