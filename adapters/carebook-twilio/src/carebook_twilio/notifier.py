"""The SMS channel notifier: each rendered message as one Twilio Programmable Messaging
request, spoken with the standard library (no ``twilio`` package).

One attempt is::

    POST {base_url}/2010-04-01/Accounts/{account_sid}/Messages.json
    Authorization: Basic base64({account_sid or api_key_sid}:{auth_token})
    Content-Type: application/x-www-form-urlencoded
    I-Twilio-Idempotency-Token: {the notification's idempotency key}

    To=+4915100000001&From=+15005550006&Body=...&StatusCallback=...

with ``MessagingServiceSid`` in place of ``From`` when the settings name a Messaging
Service. The body is the rendered plain text (``message.rendered.text``); the address
(``message.address``) must be an E.164 number.

Before anything is sent, a missing or malformed number is an
:class:`~carebook_twilio.errors.SmsAddressError`, and an empty text or one that needs
more than ``max_segments`` segments (:mod:`carebook_twilio.segments`) an
:class:`~carebook_twilio.errors.SmsBodyError`.

A 2xx answer (Twilio's is 201, with the message's ``sid``) is success. A 5xx, a 429, a
timeout or a network error is retried up to ``retries`` times, after 0.5 s, 1 s, 2 s...
(capped at 8 s), or after the ``Retry-After`` seconds the answer asks for (capped at
30 s). Any other status (a 4xx, a redirect: redirects are not followed) fails at once.
A failure raises :class:`~carebook_twilio.errors.TwilioDeliveryError` with the status
and Twilio's numeric error code; carebook then retries the delivery later with its own
backoff, under the same idempotency key.

Logs carry the idempotency key (event id, kind and role), the attempt, the HTTP status,
Twilio's error code and, at DEBUG after a success, the Twilio message sid: never the
number, the text, the auth token or Twilio's error message.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import re
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode

from attrs import frozen

from carebook.domain.messaging import OutboundMessage
from carebook.domain.validators import is_clean_text
from carebook_twilio.errors import (
    SmsAddressError,
    SmsBodyError,
    SmsTooLongError,
    TwilioDeliveryError,
    describe_failure,
)
from carebook_twilio.segments import MAX_BODY_CHARS, count_segments
from carebook_twilio.settings import TwilioSettings, is_e164

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "IDEMPOTENCY_HEADER",
    "RETRY_AFTER_CAP",
    "USER_AGENT",
    "TwilioNotifier",
    "backoff_delay",
    "form_fields",
    "parse_retry_after",
]

log = logging.getLogger("carebook_twilio")

BACKOFF_BASE: Final = 0.5
BACKOFF_CAP: Final = 8.0
RETRY_AFTER_CAP: Final = 30.0
"""The longest wait a ``Retry-After`` header can impose between two attempts."""
USER_AGENT: Final = "carebook-twilio/0.1.0"
IDEMPOTENCY_HEADER: Final = "I-Twilio-Idempotency-Token"
_RESPONSE_READ_LIMIT: Final = 64 * 1024
_RETRY_AFTER: Final = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,6})?")
_MESSAGE_SID: Final = re.compile(r"(?:SM|MM)[0-9a-f]{32}")
_STATUS: Final = re.compile(r"[a-z_]{1,32}")


def backoff_delay(retry: int) -> float:
    """Seconds to wait before retry number ``retry`` (1, 2, 3...): 0.5, 1, 2, 4..., at
    most :data:`BACKOFF_CAP`."""
    return float(min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (retry - 1)))


def parse_retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` header's seconds (``"3"``, ``"1.5"``), at most
    :data:`RETRY_AFTER_CAP`; None when absent or not a number of seconds (an HTTP date
    is not honoured: the backoff applies)."""
    if value is None or _RETRY_AFTER.fullmatch(value.strip()) is None:
        return None
    return min(float(value.strip()), RETRY_AFTER_CAP)


def _retryable(status: int) -> bool:
    return status >= 500 or status == 429


def form_fields(settings: TwilioSettings, to: str, body: str) -> list[tuple[str, str]]:
    """The form fields of one Messages request, in the order they are sent."""
    fields = [("To", to)]
    if settings.messaging_service_sid is not None:
        fields.append(("MessagingServiceSid", settings.messaging_service_sid))
    else:
        assert settings.from_number is not None  # the settings hold exactly one
        fields.append(("From", settings.from_number))
    fields.append(("Body", body))
    if settings.status_callback is not None:
        fields.append(("StatusCallback", settings.status_callback))
    return fields


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are answered as failures: a request with the account's credentials and
    a patient's number goes to the configured API or nowhere."""

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


@frozen
class _Answer:
    status: int
    twilio_code: int | None = None
    retry_after: float | None = None
    sid: str | None = None
    message_status: str | None = None


class _NetworkError(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _json_object(raw: bytes) -> Mapping[str, Any]:
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _error_code(document: Mapping[str, Any]) -> int | None:
    """Twilio's numeric error code, if the error body has a plausible one. Its
    ``message`` and ``more_info`` are never read: the message can quote the number."""
    code = document.get("code")
    if isinstance(code, int) and not isinstance(code, bool) and 0 < code < 1_000_000:
        return code
    return None


def _matching(document: Mapping[str, Any], key: str, pattern: re.Pattern[str]) -> str | None:
    value = document.get(key)
    return value if isinstance(value, str) and pattern.fullmatch(value) else None


class TwilioNotifier:
    """A :class:`~carebook.ports.ChannelNotifier` that sends each message as an SMS
    through Twilio (see the module docstring).

    ``sleep`` (default :func:`time.sleep`) waits between attempts: tests inject one that
    records the delays and returns at once."""

    def __init__(
        self, settings: TwilioSettings, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        if not isinstance(settings, TwilioSettings):
            raise TypeError("TwilioNotifier needs a TwilioSettings")
        self._settings = settings
        self._sleep = sleep
        handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
        if settings.is_loopback:  # a local server: no proxy from the environment
            handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)
        credentials = f"{settings.username}:{settings.auth_token}".encode("ascii")
        self._authorization = "Basic " + base64.b64encode(credentials).decode("ascii")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> TwilioNotifier:
        """The factory carebook calls with the channel's options (see TwilioSettings)."""
        return cls(TwilioSettings.from_options(options))

    @property
    def settings(self) -> TwilioSettings:
        return self._settings

    @property
    def channel(self) -> str:
        return self._settings.channel

    @property
    def requires_address(self) -> bool:
        """Always True: an SMS goes nowhere without a number."""
        return True

    def __repr__(self) -> str:
        return f"TwilioNotifier(channel={self.channel!r})"

    def deliver(self, message: OutboundMessage) -> None:
        key = message.idempotency_key
        try:
            body = self._encode(message)
        except (SmsAddressError, SmsBodyError) as refused:
            log.warning("sms %s refused before sending (%s)", key, refused.code)
            raise
        attempts = self._settings.retries + 1
        answer: _Answer | None = None
        network_error: str | None = None
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                delay = backoff_delay(attempt - 1)
                if answer is not None and answer.retry_after is not None:
                    delay = answer.retry_after
                log.warning(
                    "sms %s attempt %d of %d failed (%s); retrying in %.2f s",
                    key,
                    attempt - 1,
                    attempts,
                    self._describe(answer, network_error),
                    delay,
                )
                self._sleep(delay)
            try:
                answer, network_error = self._post(key, body), None
            except _NetworkError as failed:
                answer, network_error = None, failed.kind
                continue
            if 200 <= answer.status < 300:
                log.debug(
                    "sms %s accepted by Twilio as %s, status %s (attempt %d, HTTP %d)",
                    key,
                    answer.sid or "(no sid)",
                    answer.message_status or "(none)",
                    attempt,
                    answer.status,
                )
                return
            if not _retryable(answer.status):
                attempts = attempt
                break
        status = answer.status if answer is not None else None
        twilio_code = answer.twilio_code if answer is not None else None
        log.warning(
            "sms %s failed after %d attempt(s) (%s)",
            key,
            attempts,
            self._describe(answer, network_error),
        )
        raise TwilioDeliveryError(
            attempts=attempts, status=status, twilio_code=twilio_code, network_error=network_error
        )

    @staticmethod
    def _describe(answer: _Answer | None, network_error: str | None) -> str:
        if answer is None:
            return describe_failure(None, None, network_error)
        return describe_failure(answer.status, answer.twilio_code, None)

    def _encode(self, message: OutboundMessage) -> bytes:
        """The form body, after the checks that refuse a message before sending."""
        if not is_e164(message.address):
            raise SmsAddressError()
        text = message.rendered.text
        if not isinstance(text, str) or not text.strip():
            raise SmsBodyError("the sms text is empty")
        if not is_clean_text(text):
            raise SmsBodyError("the sms text holds a NUL character or a lone surrogate")
        count = count_segments(text)
        if count.segments > self._settings.max_segments or len(text) > MAX_BODY_CHARS:
            raise SmsTooLongError(
                segments=count.segments,
                max_segments=self._settings.max_segments,
                encoding=count.encoding,
                length=len(text),
            )
        fields = form_fields(self._settings, message.address, text)
        return urlencode(fields, encoding="utf-8").encode("ascii")

    def _headers(self, key: str) -> dict[str, str]:
        return {
            "Authorization": self._authorization,
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            IDEMPOTENCY_HEADER: key,
        }

    def _post(self, key: str, body: bytes) -> _Answer:
        """One attempt: Twilio's answer, or _NetworkError naming the exception's class."""
        request = urllib.request.Request(
            self._settings.messages_url, data=body, headers=self._headers(key), method="POST"
        )
        try:
            with self._opener.open(request, timeout=self._settings.timeout) as response:
                document = _json_object(response.read(_RESPONSE_READ_LIMIT))
                return _Answer(
                    status=int(response.status),
                    sid=_matching(document, "sid", _MESSAGE_SID),
                    message_status=_matching(document, "status", _STATUS),
                )
        except HTTPError as answered:
            with answered:
                try:
                    raw = answered.read(_RESPONSE_READ_LIMIT)
                except (OSError, http.client.HTTPException):
                    raw = b""
                return _Answer(
                    status=int(answered.code),
                    twilio_code=_error_code(_json_object(raw)),
                    retry_after=parse_retry_after(answered.headers.get("Retry-After")),
                )
        except (URLError, OSError, http.client.HTTPException) as failed:
            reason = failed.reason if isinstance(failed, URLError) else failed
            kind = type(reason).__name__ if isinstance(reason, BaseException) else "URLError"
            raise _NetworkError(kind) from None
