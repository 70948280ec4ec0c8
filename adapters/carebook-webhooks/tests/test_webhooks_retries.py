"""Retries: 5xx, 429, timeouts and network errors are retried with capped exponential
backoff; other statuses fail at once; a failure names the status only."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator

import pytest
from pytest_httpserver import HTTPServer

from carebook.errors import AdapterError
from carebook.testing.contracts.channel import make_outbound
from carebook_webhooks import WebhookDeliveryError, WebhookNotifier, backoff_delay
from carebook_webhooks.notifier import BACKOFF_CAP
from carebook_webhooks.testing import SleepRecorder, WebhookReceiver

MakeNotifier = Callable[..., WebhookNotifier]

pytest_plugins = ["carebook_webhooks.fixtures"]


PATIENT = "Ana Sentinel-Patient, +49 30 1234567"
ADDRESS = "ana.sentinel@example.org"


@pytest.fixture
def silent_port() -> Iterator[str]:
    """An http URL whose server accepts connections and never answers (a hung endpoint)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # never accept(): connects succeed, reads time out
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"


def test_two_503s_then_success_delivers_once_after_three_attempts(
    receiver: WebhookReceiver, make_notifier: MakeNotifier, sleeps: SleepRecorder
) -> None:
    receiver.fail_next(2, status=503)
    message = make_outbound("webhook", ADDRESS)
    make_notifier().deliver(message)
    assert [r.status for r in receiver.requests] == [503, 503, 204]
    assert len(receiver.accepted) == 1
    assert {r.webhook_id for r in receiver.requests} == {message.idempotency_key}
    assert sleeps == [0.2, 0.4]


@pytest.mark.parametrize("status", [500, 502, 504, 429])
def test_server_errors_and_429_are_retried(
    receiver: WebhookReceiver, make_notifier: MakeNotifier, sleeps: SleepRecorder, status: int
) -> None:
    receiver.fail_next(1, status=status)
    make_notifier().deliver(make_outbound("webhook", None))
    assert [r.status for r in receiver.requests] == [status, 204]
    assert sleeps == [0.2]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 422])
def test_other_4xx_fail_at_once_without_a_retry(
    receiver: WebhookReceiver, make_notifier: MakeNotifier, sleeps: SleepRecorder, status: int
) -> None:
    receiver.fail_always(status=status)
    with pytest.raises(AdapterError) as failed:
        make_notifier().deliver(make_outbound("webhook", ADDRESS, text=PATIENT))
    assert isinstance(failed.value, WebhookDeliveryError)
    assert (failed.value.status, failed.value.attempts) == (status, 1)
    assert str(failed.value) == f"webhook delivery failed after 1 attempt: HTTP {status}"
    assert len(receiver.requests) == 1
    assert sleeps == []


def test_a_redirect_is_not_followed(
    httpserver: HTTPServer,
    receiver: WebhookReceiver,
    make_notifier: MakeNotifier,
    sleeps: SleepRecorder,
) -> None:
    httpserver.expect_request("/moved", method="POST").respond_with_data(
        "", status=307, headers={"Location": receiver.url}
    )
    with pytest.raises(WebhookDeliveryError) as failed:
        make_notifier(url=httpserver.url_for("/moved")).deliver(make_outbound("webhook", None))
    assert (failed.value.status, failed.value.attempts) == (307, 1)
    assert receiver.requests == []


def test_a_server_that_keeps_failing_raises_after_every_retry(
    receiver: WebhookReceiver, make_notifier: MakeNotifier, sleeps: SleepRecorder
) -> None:
    receiver.fail_always(status=503)
    with pytest.raises(WebhookDeliveryError) as failed:
        make_notifier().deliver(make_outbound("webhook", ADDRESS, text=PATIENT))
    assert (failed.value.status, failed.value.attempts) == (503, 4)  # 1 + retries=3
    assert str(failed.value) == "webhook delivery failed after 4 attempts: HTTP 503"
    assert len(receiver.requests) == 4
    assert sleeps == [0.2, 0.4, 0.8]


def test_retries_zero_means_a_single_attempt(
    receiver: WebhookReceiver, make_notifier: MakeNotifier, sleeps: SleepRecorder
) -> None:
    receiver.fail_always()
    with pytest.raises(WebhookDeliveryError) as failed:
        make_notifier(retries=0).deliver(make_outbound("webhook", None))
    assert failed.value.attempts == 1 and len(receiver.requests) == 1
    assert sleeps == []


def test_a_timeout_is_retried_then_raises(
    silent_port: str, secret: str, make_notifier: MakeNotifier, sleeps: SleepRecorder
) -> None:
    notifier = make_notifier(url=silent_port, secret=secret, timeout=0.2, retries=2)
    with pytest.raises(WebhookDeliveryError) as failed:
        notifier.deliver(make_outbound("webhook", ADDRESS, text=PATIENT))
    assert failed.value.status is None
    assert failed.value.network_error == "TimeoutError"
    assert failed.value.attempts == 3
    assert (
        str(failed.value)
        == "webhook delivery failed after 3 attempts: network error (TimeoutError)"
    )
    assert sleeps == [0.2, 0.4]


def test_a_refused_connection_is_retried_then_raises(
    closed_port_url: str, make_notifier: MakeNotifier, sleeps: SleepRecorder
) -> None:
    with pytest.raises(WebhookDeliveryError) as failed:
        make_notifier(url=closed_port_url, retries=1).deliver(make_outbound("webhook", None))
    assert failed.value.network_error == "ConnectionRefusedError"
    assert failed.value.attempts == 2
    assert failed.value.__cause__ is None and failed.value.__context__ is None
    assert sleeps == [0.2]


def test_the_failure_names_neither_the_url_nor_the_address_nor_the_text(
    receiver: WebhookReceiver, make_notifier: MakeNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.fail_always()
    with pytest.raises(WebhookDeliveryError) as failed:
        make_notifier().deliver(make_outbound("webhook", ADDRESS, text=PATIENT))
    ours = [r for r in caplog.records if r.name.startswith("carebook_webhooks")]
    logged = "\n".join(r.getMessage() + repr(vars(r)) for r in ours)
    everything = "\n".join(r.getMessage() + repr(vars(r)) for r in caplog.records)
    assert len(ours) == 4 and "HTTP 503" in logged  # three retries and the failure
    for leaked in (receiver.url, "127.0.0.1", ADDRESS, PATIENT, receiver.secret):
        assert leaked not in str(failed.value)
        assert leaked not in logged
    for leaked in (ADDRESS, PATIENT, receiver.secret):  # the test server's log included
        assert leaked not in everything


def test_backoff_doubles_from_0_2_seconds_and_is_capped() -> None:
    assert [backoff_delay(n) for n in (1, 2, 3, 4)] == [0.2, 0.4, 0.8, 1.6]
    assert backoff_delay(10) == BACKOFF_CAP == 5.0
