"""carebook-webhooks: carebook's rendered notices as signed HTTP POSTs to the host's system.

Requests are signed per the Standard Webhooks spec; see :mod:`carebook_webhooks.notifier`
for the wire format and the retries, and :mod:`carebook_webhooks.testing` for a verifying
receiver to test against.
"""

from __future__ import annotations

from carebook_webhooks.errors import WebhookDeliveryError
from carebook_webhooks.notifier import WebhookNotifier, backoff_delay
from carebook_webhooks.payload import encode_payload, payload_of
from carebook_webhooks.settings import WebhookSettings, generate_secret

__all__ = [
    "WebhookDeliveryError",
    "WebhookNotifier",
    "WebhookSettings",
    "backoff_delay",
    "encode_payload",
    "generate_secret",
    "payload_of",
]

__version__ = "0.1.0"
