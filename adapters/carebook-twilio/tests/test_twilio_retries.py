"""Retries: 5xx, 429, timeouts and network errors are retried with capped exponential
backoff (or after Retry-After); other statuses fail at once; a failure carries the
attempts, the status and Twilio's error code, nothing else."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from pytest_httpserver import HTTPServer

from carebook.errors import AdapterError
from carebook.testing.contracts.channel import make_outbound
from carebook_twilio import (
    TwilioDeliveryError,
    TwilioNotifier,
    TwilioSettings,
    backoff_delay,
    parse_retry_after,
)
from carebook_twilio.notifier import BACKOFF_CAP, IDEMPOTENCY_HEADER, RETRY_AFTER_CAP
from carebook_twilio.testing import SENDER, SleepRecorder, TwilioStandIn

MakeTwilioNotifier = Callable[..., TwilioNotifier]

pytest_plugins = ["carebook_twilio.fixtures"]


NUMBER = "+4915112345678"


@pytest.fixture
def silent_base_url() -> Iterator[str]:
    """An http base URL whose server accepts connections and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # never accept(): connects succeed, reads time out
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_two_503s_then_201_delivers_once_after_three_attempts(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    twilio_sleeps: SleepRecorder,
) -> None:
    twilio_standin.fail_next(2, status=503)
    message = make_outbound("sms", NUMBER)
    make_twilio_notifier().deliver(message)
    assert [r.status for r in twilio_standin.requests] == [503, 503, 201]
    assert len(twilio_standin.messages) == 1
    assert {r.header(IDEMPOTENCY_HEADER) for r in twilio_standin.requests} == {
        message.idempotency_key
    }
    assert {r.body for r in twilio_standin.requests} == {twilio_standin.requests[0].body}
    assert twilio_sleeps == [0.5, 1.0]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_server_errors_and_429_are_retried(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    twilio_sleeps: SleepRecorder,
    status: int,
) -> None:
    twilio_standin.fail_next(1, status=status)
    make_twilio_notifier().deliver(make_outbound("sms", NUMBER))
    assert [r.status for r in twilio_standin.requests] == [status, 201]
    assert twilio_sleeps == [0.5]


@pytest.mark.parametrize(
    ("retry_after", "slept"),
    [
        (3, 3.0),
        ("1.5", 1.5),
        ("0", 0.0),
        (120, RETRY_AFTER_CAP),
        ("Wed, 21 Oct 2026 07:28:00 GMT", 0.5),
    ],
)
def test_a_429_with_retry_after_waits_what_it_asks_up_to_the_cap(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    twilio_sleeps: SleepRecorder,
    retry_after: str | int,
    slept: float,
) -> None:
    twilio_standin.fail_next(1, status=429, retry_after=retry_after)
    make_twilio_notifier().deliver(make_outbound("sms", NUMBER))
    first, second = twilio_standin.requests
    assert (first.status, first.answer["code"], second.status) == (429, 20429, 201)
    assert twilio_sleeps == [slept]


def test_retry_after_on_a_503_is_honoured_too_and_the_backoff_resumes_after(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    twilio_sleeps: SleepRecorder,
) -> None:
    twilio_standin.fail_next(1, status=503, retry_after=4)
    twilio_standin.fail_next(1, status=503)
    make_twilio_notifier().deliver(make_outbound("sms", NUMBER))
    assert [r.status for r in twilio_standin.requests] == [503, 503, 201]
    assert twilio_sleeps == [4.0, 1.0]  # the second wait is the backoff for retry 2


def test_a_400_with_code_21211_fails_at_once_with_the_code(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    twilio_sleeps: SleepRecorder,
) -> None:
    twilio_standin.fail_next(1, status=400, code=21211)
    with pytest.raises(AdapterError) as failed:
        make_twilio_notifier().deliver(make_outbound("sms", NUMBER))
    error = failed.value
    assert isinstance(error, TwilioDeliveryError)
    assert (error.status, error.twilio_code, error.attempts) == (400, 21211, 1)
    assert error.network_error is None and error.retryable is False
    assert str(error) == "twilio delivery failed after 1 attempt: HTTP 400, Twilio error 21211"
    assert error.code == "twilio_delivery_failed"
    assert len(twilio_standin.requests) == 1 and twilio_standin.messages == []
    assert twilio_sleeps == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 422])
def test_other_4xx_fail_at_once_without_a_retry(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    twilio_sleeps: SleepRecorder,
    status: int,
) -> None:
    twilio_standin.fail_always(status=status)
    with pytest.raises(TwilioDeliveryError) as failed:
        make_twilio_notifier().deliver(make_outbound("sms", NUMBER))
    assert (failed.value.status, failed.value.attempts) == (status, 1)
    assert failed.value.twilio_code == twilio_standin.requests[0].answer["code"]
    assert len(twilio_standin.requests) == 1 and twilio_sleeps == []


def test_a_twilio_that_keeps_failing_raises_after_every_retry(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    twilio_sleeps: SleepRecorder,
) -> None:
    twilio_standin.fail_always(status=503)
    with pytest.raises(TwilioDeliveryError) as failed:
        make_twilio_notifier().deliver(make_outbound("sms", NUMBER))
    assert (failed.value.status, failed.value.attempts) == (503, 3)  # 1 + retries=2
    assert failed.value.retryable is True
    assert (
        str(failed.value) == "twilio delivery failed after 3 attempts: HTTP 503, Twilio error 20503"
    )
    assert len(twilio_standin.requests) == 3 and twilio_standin.messages == []
    assert twilio_sleeps == [0.5, 1.0]


def test_more_retries_back_off_exponentially_to_the_cap(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    twilio_sleeps: SleepRecorder,
) -> None:
    twilio_standin.fail_always(status=500)
    with pytest.raises(TwilioDeliveryError) as failed:
        make_twilio_notifier(retries=6).deliver(make_outbound("sms", NUMBER))
    assert failed.value.attempts == 7 == len(twilio_standin.requests)
    assert twilio_sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_retries_zero_means_a_single_attempt(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    twilio_sleeps: SleepRecorder,
) -> None:
    twilio_standin.fail_always()
    with pytest.raises(TwilioDeliveryError) as failed:
        make_twilio_notifier(retries=0).deliver(make_outbound("sms", NUMBER))
    assert failed.value.attempts == 1 and len(twilio_standin.requests) == 1
    assert twilio_sleeps == []


def test_a_refused_connection_is_retried_then_raises(
    twilio_closed_port_url: str,
    make_twilio_notifier: MakeTwilioNotifier,
    twilio_sleeps: SleepRecorder,
) -> None:
    notifier = make_twilio_notifier(base_url=twilio_closed_port_url, retries=1)
    with pytest.raises(TwilioDeliveryError) as failed:
        notifier.deliver(make_outbound("sms", NUMBER))
    error = failed.value
    assert (error.status, error.twilio_code) == (None, None)
    assert error.network_error == "ConnectionRefusedError"
    assert error.attempts == 2 and error.retryable is True
    assert str(error) == (
        "twilio delivery failed after 2 attempts: network error (ConnectionRefusedError)"
    )
    assert error.__cause__ is None and error.__context__ is None
    assert twilio_sleeps == [0.5]


def test_a_timeout_is_retried_then_raises(
    silent_base_url: str, make_twilio_notifier: MakeTwilioNotifier, twilio_sleeps: SleepRecorder
) -> None:
    notifier = make_twilio_notifier(base_url=silent_base_url, timeout=0.2, retries=1)
    with pytest.raises(TwilioDeliveryError) as failed:
        notifier.deliver(make_outbound("sms", NUMBER))
    assert failed.value.status is None
    assert failed.value.network_error == "TimeoutError"
    assert failed.value.attempts == 2
    assert twilio_sleeps == [0.5]


def test_a_refused_connection_then_a_live_twilio_delivers(
    twilio_closed_port_url: str, twilio_account_sid: str, twilio_auth_token: str
) -> None:
    """Nothing listens at the first attempt; during the backoff a Twilio comes up on
    that port, and the retry reaches it."""
    port = int(twilio_closed_port_url.rsplit(":", 1)[1])
    server = HTTPServer(host="127.0.0.1", port=port)
    standins: list[TwilioStandIn] = []
    sleeps: list[float] = []

    def come_up(seconds: float) -> None:
        sleeps.append(seconds)
        server.start()
        standins.append(
            TwilioStandIn(server, account_sid=twilio_account_sid, auth_token=twilio_auth_token)
        )

    settings = TwilioSettings(
        account_sid=twilio_account_sid,
        auth_token=twilio_auth_token,
        from_number=SENDER,
        base_url=twilio_closed_port_url,
        retries=1,
    )
    try:
        TwilioNotifier(settings, sleep=come_up).deliver(make_outbound("sms", NUMBER))
    finally:
        if server.is_running():
            server.stop()
    assert sleeps == [0.5]
    [standin] = standins
    assert [r.status for r in standin.requests] == [201] and len(standin.messages) == 1


def test_backoff_doubles_from_half_a_second_and_is_capped() -> None:
    assert [backoff_delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert backoff_delay(30) == BACKOFF_CAP == 8.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        (" 2 ", 2.0),
        ("0.25", 0.25),
        ("0", 0.0),
        ("31", RETRY_AFTER_CAP),
        ("999999999", RETRY_AFTER_CAP),
        (None, None),
        ("", None),
        ("-1", None),
        ("soon", None),
        ("1e3", None),
        ("Wed, 21 Oct 2026 07:28:00 GMT", None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds
