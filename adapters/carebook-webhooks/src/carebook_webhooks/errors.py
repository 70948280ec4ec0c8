"""The webhook channel's error: a delivery that failed after its attempts."""

from __future__ import annotations

from typing import ClassVar

from carebook.errors import AdapterError

__all__ = ["WebhookDeliveryError"]


class WebhookDeliveryError(AdapterError):
    """The endpoint did not accept the message.

    ``status`` is the last HTTP status (None after a network error or a timeout, when
    ``network_error`` names the exception's class); ``attempts`` is how many were made.
    The message says the same and nothing else: never the URL, the body or the address.
    """

    code: ClassVar[str] = "webhook_delivery_failed"

    def __init__(self, *, attempts: int, status: int | None, network_error: str | None = None):
        cause = f"HTTP {status}" if status is not None else f"network error ({network_error})"
        plural = "attempt" if attempts == 1 else "attempts"
        super().__init__(f"webhook delivery failed after {attempts} {plural}: {cause}")
        self.attempts = attempts
        self.status = status
        self.network_error = network_error
