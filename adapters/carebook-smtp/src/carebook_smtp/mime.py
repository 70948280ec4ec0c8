"""A rendered message as an e-mail (``email.message.EmailMessage``): text and HTML
alternatives, the ``.ics`` of booking notices, and headers that mark it as automatic.

The ``Message-ID`` is derived from the notification's idempotency key, so a notice sent
again after a crash carries the same id, and mail systems that deduplicate on it show
it once.
"""

from __future__ import annotations

import hashlib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import pendulum

from carebook.domain.messaging import Attachment, OutboundMessage
from carebook_smtp.ics import invitation
from carebook_smtp.settings import SmtpSettings

__all__ = ["compose", "message_id"]


def message_id(message: OutboundMessage, sender: str) -> str:
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{sender.rpartition('@')[2]}>"


def compose(
    message: OutboundMessage, settings: SmtpSettings, now: pendulum.DateTime | None = None
) -> EmailMessage:
    """The e-mail for ``message`` (which must have an address)."""
    now = now or pendulum.now("UTC")
    mail = EmailMessage()
    mail["From"] = Address(display_name=settings.sender_name or "", addr_spec=settings.sender)
    mail["To"] = message.address or ""
    mail["Subject"] = message.rendered.subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id(message, settings.sender)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    mail.set_content(message.rendered.text)
    if message.rendered.html is not None:
        mail.add_alternative(message.rendered.html, subtype="html")
    attachments = list(message.attachments)
    ics = invitation(message, now)
    if ics is not None and not any(a.content_type.startswith("text/calendar") for a in attachments):
        attachments.append(ics)
    for attachment in attachments:
        _attach(mail, attachment)
    # Last: setting the content moves Content-* headers into the parts.
    mail["Content-Language"] = message.rendered.locale
    return mail


def _attach(mail: EmailMessage, attachment: Attachment) -> None:
    kind, _, rest = attachment.content_type.partition(";")
    maintype, _, subtype = kind.strip().partition("/")
    params = {}
    for part in rest.split(";"):
        key, _, value = part.strip().partition("=")
        if key and value:
            params[key.lower()] = value
    mail.add_attachment(
        attachment.data,
        maintype=maintype or "application",
        subtype=subtype or "octet-stream",
        filename=attachment.filename,
        params=params,
    )
