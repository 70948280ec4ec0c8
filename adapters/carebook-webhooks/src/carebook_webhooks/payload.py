"""The JSON body of a webhook, in the shape the Standard Webhooks spec recommends:
``{"type": ..., "timestamp": ..., "data": {...}}``.

``data`` carries the notification's ids, the language used, the appointment's start and
end (RFC 3339 with the location's offset) with the zone name, the rendered subject and
text, and the address the host's contact directory gave for this channel (or null). It
does not carry the names in the context (organisation, practitioner...): the host looks
them up by id if it needs them, and the rendered text already shows what the recipient
reads. The body is patient data: it is sent, never logged.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pendulum

from carebook.domain.messaging import OutboundMessage

__all__ = ["SCHEMA_VERSION", "encode_payload", "payload_of"]

SCHEMA_VERSION = 1


def _local(instant: pendulum.DateTime | None, zone: str) -> str | None:
    if instant is None:
        return None
    return instant.in_timezone(zone).isoformat()


def payload_of(message: OutboundMessage, sent_at: datetime) -> dict[str, Any]:
    """The body of ``message`` as a JSON-ready dict; ``sent_at`` is an aware datetime."""
    notification = message.notification
    context = message.context
    return {
        "type": notification.kind,
        "timestamp": sent_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": {
            "schema_version": SCHEMA_VERSION,
            "idempotency_key": message.idempotency_key,
            "channel": message.channel,
            "notification": {
                "kind": notification.kind,
                "event_id": str(notification.event_id),
                "appointment_id": str(notification.appointment_id),
                "correlation_id": notification.correlation_id,
                "recipient_role": notification.recipient_role,
                "recipient_id": str(notification.recipient_id),
            },
            "locale": message.rendered.locale,
            "requested_locale": context.locale,
            "appointment": {
                "start": _local(context.start, context.timezone),
                "end": _local(context.end, context.timezone),
                "timezone": context.timezone,
            },
            "message": {
                "subject": message.rendered.subject,
                "text": message.rendered.text,
            },
            "address": message.address,
        },
    }


def encode_payload(message: OutboundMessage, sent_at: datetime) -> bytes:
    """The exact bytes that are signed and sent: compact UTF-8 JSON."""
    return json.dumps(
        payload_of(message, sent_at), ensure_ascii=False, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")
