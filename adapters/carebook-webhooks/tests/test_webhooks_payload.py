"""The JSON body: kind, ids, language, local times with offset and zone, subject and text."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pendulum

from carebook.domain.ids import AppointmentId, EventId
from carebook.domain.messaging import MessageContext, OutboundMessage, RenderedMessage
from carebook.domain.notifications import Notification
from carebook_webhooks import WebhookNotifier, encode_payload, payload_of
from carebook_webhooks.testing import WebhookReceiver

MakeNotifier = Callable[..., WebhookNotifier]
pytest_plugins = ["carebook_webhooks.fixtures"]


SENT_AT = datetime(2026, 6, 30, 12, 0, 0, tzinfo=UTC)


def _message(
    *, start: pendulum.DateTime | None, text: str = "Ihr Termin", address: str | None = None
) -> OutboundMessage:
    notification = Notification(
        kind="appointment_reminder",
        recipient_role="patient",
        recipient_id=uuid.UUID(int=1),
        appointment_id=AppointmentId(uuid.UUID(int=2)),
        event_id=EventId(uuid.UUID(int=3)),
        correlation_id="corr-4",
        locale="de",
    )
    context = MessageContext(
        notification=notification,
        locale="de-AT",
        timezone="Europe/Berlin",
        organisation_name="Praxis Secret-Org",
        practitioner_name="Dr. Secret-Name",
        start=start,
        end=start.add(minutes=45) if start is not None else None,
    )
    rendered = RenderedMessage(locale="de", subject="Erinnerung", text=text, html="<p>x</p>")
    return OutboundMessage(channel="webhook", context=context, rendered=rendered, address=address)


def test_the_body_carries_kind_ids_language_times_and_text() -> None:
    start = pendulum.datetime(2026, 7, 1, 8, 0, tz="UTC")
    message = _message(start=start, address="ana@example.org")
    assert payload_of(message, SENT_AT) == {
        "type": "appointment_reminder",
        "timestamp": "2026-06-30T12:00:00Z",
        "data": {
            "schema_version": 1,
            "idempotency_key": f"{uuid.UUID(int=3)}:appointment_reminder:patient",
            "channel": "webhook",
            "notification": {
                "kind": "appointment_reminder",
                "event_id": str(uuid.UUID(int=3)),
                "appointment_id": str(uuid.UUID(int=2)),
                "correlation_id": "corr-4",
                "recipient_role": "patient",
                "recipient_id": str(uuid.UUID(int=1)),
            },
            "locale": "de",
            "requested_locale": "de-AT",
            "appointment": {
                "start": "2026-07-01T10:00:00+02:00",
                "end": "2026-07-01T10:45:00+02:00",
                "timezone": "Europe/Berlin",
            },
            "message": {"subject": "Erinnerung", "text": "Ihr Termin"},
            "address": "ana@example.org",
        },
    }


def test_times_carry_the_winter_offset_and_name_the_same_instant() -> None:
    start = pendulum.datetime(2026, 1, 15, 8, 0, tz="UTC")
    data = payload_of(_message(start=start), SENT_AT)["data"]
    assert data["appointment"]["start"] == "2026-01-15T09:00:00+01:00"
    assert datetime.fromisoformat(data["appointment"]["start"]) == start


def test_a_notice_without_a_time_has_null_start_and_end_and_no_address() -> None:
    data = payload_of(_message(start=None), SENT_AT)["data"]
    assert data["appointment"] == {"start": None, "end": None, "timezone": "Europe/Berlin"}
    assert data["address"] is None


def test_the_body_is_compact_utf8_json_without_the_context_names() -> None:
    body = encode_payload(_message(start=None, text="Grüße, bis morgen"), SENT_AT)
    assert "Grüße".encode() in body
    compact = json.dumps(
        json.loads(body), ensure_ascii=False, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")
    assert body == compact
    assert json.loads(body)["data"]["message"]["text"] == "Grüße, bis morgen"
    assert b"Secret-Org" not in body and b"Secret-Name" not in body
    assert b"<p>" not in body  # the HTML alternative is not sent


def test_the_receiver_gets_exactly_the_encoded_body(
    receiver: WebhookReceiver, make_notifier: MakeNotifier
) -> None:
    message = _message(start=pendulum.datetime(2026, 7, 1, 8, 0, tz="UTC"))
    make_notifier().deliver(message)
    [received] = receiver.accepted
    assert received.payload["data"]["appointment"]["start"] == "2026-07-01T10:00:00+02:00"
    assert received.payload["type"] == "appointment_reminder"
    assert received.header("content-type") == "application/json"
