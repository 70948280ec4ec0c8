"""The SMS channel's errors: a message refused before sending, and a delivery that failed.

Every one is an :class:`~carebook.errors.AdapterError`. Messages carry counts, HTTP
statuses and Twilio's numeric error codes only: never the phone number, the text, the
auth token, or Twilio's own error message (it can quote the number).
"""

from __future__ import annotations

from typing import ClassVar

from carebook.errors import AdapterError

__all__ = [
    "SmsAddressError",
    "SmsBodyError",
    "SmsRefusedError",
    "SmsTooLongError",
    "TwilioDeliveryError",
]


class SmsRefusedError(AdapterError):
    """The message was refused before anything was sent (nothing reached Twilio)."""

    code: ClassVar[str] = "sms_refused"


class SmsAddressError(SmsRefusedError):
    """The recipient's address is missing or not an E.164 number (``+`` and 8 to 15
    digits). The message never shows the address."""

    code: ClassVar[str] = "sms_address_invalid"

    def __init__(self) -> None:
        super().__init__(
            "the recipient's sms address is missing or not an E.164 number ('+' and 8 to 15 digits)"
        )


class SmsBodyError(SmsRefusedError):
    """The text cannot be sent as an SMS: empty, or not encodable text (a lone
    surrogate, a NUL character). The message never quotes the text."""

    code: ClassVar[str] = "sms_body_invalid"


class SmsTooLongError(SmsBodyError):
    """The text needs more segments than ``max_segments`` allows, or has more characters
    than Twilio takes (1600). ``segments``, ``max_segments``, ``encoding`` and ``length``
    (characters) say by how much."""

    code: ClassVar[str] = "sms_too_long"

    def __init__(self, *, segments: int, max_segments: int, encoding: str, length: int) -> None:
        allowed = "1 segment" if max_segments == 1 else f"{max_segments} segments"
        super().__init__(
            f"the sms text needs {segments} {encoding} segments ({length} characters); "
            f"at most {allowed} and 1600 characters are allowed"
        )
        self.segments = segments
        self.max_segments = max_segments
        self.encoding = encoding
        self.length = length


class TwilioDeliveryError(AdapterError):
    """Twilio did not accept the message.

    ``status`` is the last HTTP status (None after a network error or a timeout, when
    ``network_error`` names the exception's class); ``twilio_code`` is the numeric code
    of Twilio's error body (21211: an invalid To number, 20003: authentication...; see
    https://www.twilio.com/docs/api/errors), or None; ``attempts`` is how many were made.
    The message says the same and nothing else.
    """

    code: ClassVar[str] = "twilio_delivery_failed"

    def __init__(
        self,
        *,
        attempts: int,
        status: int | None,
        twilio_code: int | None = None,
        network_error: str | None = None,
    ) -> None:
        plural = "attempt" if attempts == 1 else "attempts"
        super().__init__(
            f"twilio delivery failed after {attempts} {plural}: "
            f"{describe_failure(status, twilio_code, network_error)}"
        )
        self.attempts = attempts
        self.status = status
        self.twilio_code = twilio_code
        self.network_error = network_error

    @property
    def retryable(self) -> bool:
        """True when the last failure was one that trying again may cure (a 5xx, a 429,
        a network error); False for any other status (a bad number, bad credentials)."""
        return self.status is None or self.status >= 500 or self.status == 429


def describe_failure(status: int | None, twilio_code: int | None, network_error: str | None) -> str:
    """``HTTP 400, Twilio error 21211`` or ``network error (TimeoutError)``: the words
    the errors and the log records use."""
    if status is None:
        return f"network error ({network_error or 'unknown'})"
    if twilio_code is None:
        return f"HTTP {status}"
    return f"HTTP {status}, Twilio error {twilio_code}"
