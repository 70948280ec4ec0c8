"""Requests are signed per Standard Webhooks and verify with the standardwebhooks library;
the receiver refuses a tampered body or a wrong secret."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.error import HTTPError

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from carebook.testing.contracts.channel import make_outbound
from carebook_webhooks import WebhookDeliveryError, WebhookNotifier, WebhookSettings
from carebook_webhooks import generate_secret as new_secret
from carebook_webhooks.testing import ReceivedRequest, SleepRecorder, WebhookReceiver

MakeNotifier = Callable[..., WebhookNotifier]


pytest_plugins = ["carebook_webhooks.fixtures"]


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except HTTPError as answered:
        with answered:
            return int(answered.code)


def _only(receiver: WebhookReceiver) -> ReceivedRequest:
    [received] = receiver.requests
    return received


def test_a_delivery_verifies_with_the_standardwebhooks_library(
    receiver: WebhookReceiver, make_notifier: MakeNotifier, secret: str
) -> None:
    message = make_outbound("webhook", None, text="Bis morgen")
    make_notifier().deliver(message)
    received = _only(receiver)
    assert received.verified and received.status == 204
    payload = Webhook(secret).verify(received.body, received.headers)
    assert payload == json.loads(received.body)
    assert payload["data"]["message"]["text"] == "Bis morgen"


def test_the_headers_follow_the_standard_webhooks_spec(
    receiver: WebhookReceiver, make_notifier: MakeNotifier
) -> None:
    message = make_outbound("webhook", None)
    before = int(time.time())
    make_notifier().deliver(message)
    received = _only(receiver)
    assert received.webhook_id == message.idempotency_key
    assert received.header("content-type") == "application/json"
    timestamp = int(received.header("webhook-timestamp") or "0")
    assert before - 1 <= timestamp <= int(time.time()) + 1
    signature = received.header("webhook-signature") or ""
    assert signature.startswith("v1,")
    assert (
        Webhook(receiver.secret).sign(
            message.idempotency_key, datetime.fromtimestamp(timestamp, UTC), received.body
        )
        == signature
    )


def test_a_repeated_delivery_keeps_its_webhook_id_so_the_receiver_can_dedupe(
    receiver: WebhookReceiver, make_notifier: MakeNotifier
) -> None:
    message = make_outbound("webhook", None)
    notifier = make_notifier()
    notifier.deliver(message)
    notifier.deliver(message)
    other = make_outbound("webhook", None)
    notifier.deliver(other)
    ids = [r.webhook_id for r in receiver.accepted]
    assert ids == [message.idempotency_key, message.idempotency_key, other.idempotency_key]


def test_a_tampered_body_is_rejected(
    receiver: WebhookReceiver, make_notifier: MakeNotifier
) -> None:
    make_notifier().deliver(make_outbound("webhook", None, text="Original"))
    genuine = _only(receiver)
    tampered = genuine.body.replace(b"Original", b"Tampered")
    assert tampered != genuine.body
    with pytest.raises(WebhookVerificationError):
        Webhook(receiver.secret).verify(tampered, genuine.headers)
    assert _post(receiver.url, tampered, genuine.headers) == 401
    assert _post(receiver.url, genuine.body, genuine.headers) == 204  # the genuine replay passes
    assert [r.status for r in receiver.requests] == [204, 401, 204]
    assert len(receiver.rejected) == 1 and receiver.rejected[0].payload is None


def test_a_request_without_signature_headers_is_rejected(receiver: WebhookReceiver) -> None:
    assert _post(receiver.url, b"{}", {"Content-Type": "application/json"}) == 401
    assert len(receiver.rejected) == 1 and not receiver.accepted


def test_a_wrong_secret_is_rejected_and_not_retried(
    receiver: WebhookReceiver, make_notifier: MakeNotifier, sleeps: SleepRecorder
) -> None:
    notifier = make_notifier(secret=new_secret())
    with pytest.raises(WebhookDeliveryError) as failed:
        notifier.deliver(make_outbound("webhook", None))
    assert failed.value.status == 401 and failed.value.attempts == 1
    assert len(receiver.rejected) == 1 and not receiver.accepted
    assert sleeps == []


def test_each_attempt_is_signed_afresh_under_the_same_id(
    receiver: WebhookReceiver, sleeps: SleepRecorder
) -> None:
    start = datetime.now(UTC)
    ticks = iter(start + timedelta(seconds=7 * n) for n in range(10))
    notifier = WebhookNotifier(
        WebhookSettings(url=receiver.url, secret=receiver.secret),
        sleep=sleeps,
        now=lambda: next(ticks),
    )
    receiver.fail_next(1)
    message = make_outbound("webhook", None)
    notifier.deliver(message)
    first, second = receiver.requests
    assert (first.status, second.status) == (503, 204)
    assert first.webhook_id == second.webhook_id == message.idempotency_key
    assert first.body == second.body
    assert first.header("webhook-timestamp") != second.header("webhook-timestamp")
    assert first.header("webhook-signature") != second.header("webhook-signature")
    assert first.verified and second.verified
