"""``SmtpNotifier``: the ``email`` channel through ``smtplib``.

One connection is kept open between deliveries (and opened again when the server has
closed it), so a worker draining a backlog does not pay a TLS handshake and a login per
message. Deliveries are serialised on that connection; a notifier is shared by the
worker's threads.

A failure raises :class:`~carebook.errors.AdapterError` with the SMTP reply code and
nothing the server echoed back: servers quote the recipient's address in their
replies, and the address is patient data. The delivery machinery then retries with
backoff and dead-letters after its attempts.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
import threading
from collections.abc import Mapping
from typing import Any

from carebook.domain.messaging import OutboundMessage
from carebook.errors import AdapterError
from carebook_smtp.mime import compose
from carebook_smtp.settings import SmtpSettings

__all__ = ["SmtpNotifier"]

log = logging.getLogger(__name__)


class SmtpNotifier:
    """Sends each message as an e-mail; ``channel`` is ``"email"``."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._connection: smtplib.SMTP | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SmtpNotifier:
        return cls(SmtpSettings.from_options(options))

    @property
    def channel(self) -> str:
        return "email"

    @property
    def requires_address(self) -> bool:
        return True

    def deliver(self, message: OutboundMessage) -> None:
        if not message.address:
            raise AdapterError("smtp: the message has no address")
        mail = compose(message, self.settings)
        with self._lock:
            try:
                self._send(mail, message.address)
            except (smtplib.SMTPException, OSError) as failure:
                self._drop()
                raise AdapterError(_describe(failure)) from None
        log.debug(
            "smtp delivered %s",
            message.notification.event_id,
            extra={
                "event_id": str(message.notification.event_id),
                "notification_kind": message.notification.kind,
            },
        )

    def close(self) -> None:
        """Say QUIT to the server, if a connection is open."""
        with self._lock:
            if self._connection is not None:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    self._connection.quit()
                self._connection = None

    def _send(self, mail: Any, address: str) -> None:
        reused = self._connection is not None
        try:
            self._open().send_message(mail, self.settings.sender, [address])
        except smtplib.SMTPServerDisconnected:
            if not reused:
                raise
            # The server closed an idle connection: open a new one, once.
            self._drop()
            self._open().send_message(mail, self.settings.sender, [address])

    def _open(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        s = self.settings
        context = ssl.create_default_context()  # the system's CAs, host name checked
        if s.ca_file is not None:
            context.load_verify_locations(cafile=s.ca_file)  # besides, not instead
        connection: smtplib.SMTP
        if s.security == "tls":
            connection = smtplib.SMTP_SSL(
                s.host,
                s.effective_port,
                local_hostname=s.local_hostname,
                timeout=s.timeout,
                context=context,
            )
        else:
            connection = smtplib.SMTP(
                s.host, s.effective_port, local_hostname=s.local_hostname, timeout=s.timeout
            )
        try:
            if s.security == "starttls":
                connection.ehlo()
                # Never a quiet downgrade: no STARTTLS offered is a failure.
                connection.starttls(context=context)
                connection.ehlo()
            if s.username is not None and s.password is not None:
                connection.login(s.username, s.password)
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError):
                self._connection.close()
            self._connection = None


def _describe(failure: BaseException) -> str:
    """What went wrong, with the reply code only: never the server's text."""
    if isinstance(failure, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in failure.recipients.values()})
        return f"smtp server refused the recipient (reply {', '.join(map(str, codes))})"
    if isinstance(failure, smtplib.SMTPAuthenticationError):
        return f"smtp server refused the login (reply {failure.smtp_code})"
    if isinstance(failure, smtplib.SMTPSenderRefused):
        return f"smtp server refused the sender (reply {failure.smtp_code})"
    if isinstance(failure, smtplib.SMTPResponseException):
        return f"smtp server answered {failure.smtp_code}"
    if isinstance(failure, smtplib.SMTPNotSupportedError):
        return "smtp server does not offer STARTTLS (or another required extension)"
    if isinstance(failure, smtplib.SMTPServerDisconnected):
        # smtplib's own words (never the server's): a read that timed out says so.
        if "timed out" in str(failure):
            return "smtp server timed out"
        return "smtp server closed the connection"
    if isinstance(failure, TimeoutError):
        return "smtp server timed out"
    if isinstance(failure, ssl.SSLError):
        return f"smtp TLS failed ({failure.reason or type(failure).__name__})"
    return f"smtp connection failed ({type(failure).__name__})"
