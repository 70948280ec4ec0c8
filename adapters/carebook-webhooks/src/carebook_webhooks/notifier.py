"""The webhook channel notifier: each rendered message as one signed HTTP POST.

The request follows the Standard Webhooks spec (https://www.standardwebhooks.com/):

- ``webhook-id``: the notification's idempotency key, the same on every attempt and on
  every later re-delivery of that notification, so the receiver can drop duplicates;
- ``webhook-timestamp``: seconds since the epoch when this attempt was signed;
- ``webhook-signature``: ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``, made by
  ``standardwebhooks``' :class:`~standardwebhooks.webhooks.Webhook`.

Each attempt is signed afresh (a receiver refuses timestamps older than five minutes).
A 2xx answer is success. A 5xx, a 429, a timeout or a network error is retried up to
``retries`` times, sleeping 0.2 s, 0.4 s, 0.8 s... (capped at 5 s); any other status
(a 4xx, a redirect: redirects are not followed) fails at once. A failure raises
:class:`~carebook_webhooks.errors.WebhookDeliveryError` (an
:class:`~carebook.errors.AdapterError`) naming the status only; carebook then retries the
delivery later with its own backoff, under the same ``webhook-id``.

Logs carry the webhook id (event id, kind and role), the attempt and the status: never
the URL, the body, the address or the text.
"""

from __future__ import annotations

import http.client
import logging
import time
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.error import HTTPError, URLError

from standardwebhooks.webhooks import Webhook

from carebook.domain.messaging import OutboundMessage
from carebook_webhooks.errors import WebhookDeliveryError
from carebook_webhooks.payload import encode_payload
from carebook_webhooks.settings import WebhookSettings

__all__ = ["BACKOFF_BASE", "BACKOFF_CAP", "USER_AGENT", "WebhookNotifier", "backoff_delay"]

log = logging.getLogger("carebook_webhooks")

BACKOFF_BASE = 0.2
BACKOFF_CAP = 5.0
USER_AGENT = "carebook-webhooks/0.1.0"
_RESPONSE_READ_LIMIT = 64 * 1024


def backoff_delay(retry: int) -> float:
    """Seconds to wait before retry number ``retry`` (1, 2, 3...): 0.2, 0.4, 0.8..., at
    most :data:`BACKOFF_CAP`."""
    return float(min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (retry - 1)))


def _retryable(status: int) -> bool:
    return status >= 500 or status == 429


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are answered as failures: a POST of patient data goes to the configured
    endpoint or nowhere."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


class _NetworkError(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class WebhookNotifier:
    """A :class:`~carebook.ports.ChannelNotifier` that POSTs each message, signed, to
    the host's endpoint (see the module docstring).

    ``sleep`` (default :func:`time.sleep`) waits between attempts and ``now`` (default:
    the system clock, UTC) dates each signature: tests inject both."""

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        if not isinstance(settings, WebhookSettings):
            raise TypeError("WebhookNotifier needs a WebhookSettings")
        self._settings = settings
        self._signer = Webhook(settings.secret)
        self._sleep = sleep
        self._now = now or (lambda: datetime.now(UTC))
        self._opener = urllib.request.build_opener(_NoRedirect())

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> WebhookNotifier:
        """The factory carebook calls with the channel's options (see WebhookSettings)."""
        return cls(WebhookSettings.from_options(options))

    @property
    def settings(self) -> WebhookSettings:
        return self._settings

    @property
    def channel(self) -> str:
        return self._settings.channel

    @property
    def requires_address(self) -> bool:
        return self._settings.requires_address

    def __repr__(self) -> str:
        return f"WebhookNotifier(channel={self.channel!r})"

    def deliver(self, message: OutboundMessage) -> None:
        webhook_id = message.idempotency_key
        body = encode_payload(message, self._now())
        attempts = self._settings.retries + 1
        status: int | None = None
        network_error: str | None = None
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                delay = backoff_delay(attempt - 1)
                log.warning(
                    "webhook %s attempt %d of %d failed (%s); retrying in %.2f s",
                    webhook_id,
                    attempt - 1,
                    attempts,
                    f"HTTP {status}" if status is not None else network_error,
                    delay,
                )
                self._sleep(delay)
            try:
                status = self._post(webhook_id, body)
                network_error = None
            except _NetworkError as failed:
                status, network_error = None, failed.kind
                continue
            if 200 <= status < 300:
                log.debug("webhook %s delivered (attempt %d, HTTP %d)", webhook_id, attempt, status)
                return
            if not _retryable(status):
                attempts = attempt
                break
        log.warning(
            "webhook %s failed after %d attempt(s) (%s)",
            webhook_id,
            attempts,
            f"HTTP {status}" if status is not None else network_error,
        )
        raise WebhookDeliveryError(attempts=attempts, status=status, network_error=network_error)

    def _headers(self, webhook_id: str, body: bytes) -> dict[str, str]:
        signed_at = self._now()
        return {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(signed_at.timestamp())),
            "webhook-signature": self._signer.sign(webhook_id, signed_at, body),
        }

    def _post(self, webhook_id: str, body: bytes) -> int:
        """One attempt: the HTTP status, or _NetworkError naming the exception's class."""
        request = urllib.request.Request(
            self._settings.url,
            data=body,
            headers=self._headers(webhook_id, body),
            method="POST",
        )
        try:
            with self._opener.open(request, timeout=self._settings.timeout) as response:
                response.read(_RESPONSE_READ_LIMIT)
                return int(response.status)
        except HTTPError as answered:
            with answered:
                return int(answered.code)
        except (URLError, OSError, http.client.HTTPException) as failed:
            reason = failed.reason if isinstance(failed, URLError) else failed
            kind = type(reason).__name__ if isinstance(reason, BaseException) else "URLError"
            raise _NetworkError(kind) from None
