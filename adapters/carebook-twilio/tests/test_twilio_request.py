"""The request: the account's Messages path, Basic auth, the form fields, the
idempotency token and the user agent, exactly as the stand-in Twilio received them;
messages refused before sending; what a 2xx answer means."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from urllib.parse import parse_qsl

import pytest
from pytest_httpserver import HTTPServer

from carebook.testing.contracts.channel import make_outbound
from carebook_twilio import (
    SmsAddressError,
    SmsBodyError,
    SmsRefusedError,
    TwilioDeliveryError,
    TwilioNotifier,
    TwilioSettings,
)
from carebook_twilio.notifier import IDEMPOTENCY_HEADER, USER_AGENT
from carebook_twilio.testing import (
    SENDER,
    ReceivedRequest,
    SleepRecorder,
    TwilioStandIn,
    new_auth_token,
)

MakeTwilioNotifier = Callable[..., TwilioNotifier]

pytest_plugins = ["carebook_twilio.fixtures"]


NUMBER = "+4915112345678"
SERVICE = "MG" + "0123456789abcdef" * 2
KEY = "SK" + "fedcba9876543210" * 2


def _only(standin: TwilioStandIn) -> ReceivedRequest:
    [received] = standin.requests
    return received


def test_the_request_goes_to_the_accounts_messages_path_with_basic_auth(
    twilio_standin: TwilioStandIn, make_twilio_notifier: MakeTwilioNotifier
) -> None:
    make_twilio_notifier().deliver(make_outbound("sms", NUMBER))
    received = _only(twilio_standin)
    assert received.method == "POST"
    assert received.path == f"/2010-04-01/Accounts/{twilio_standin.account_sid}/Messages.json"
    header = received.header("Authorization") or ""
    assert header.startswith("Basic ")
    decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
    assert decoded == f"{twilio_standin.account_sid}:{twilio_standin.auth_token}"
    assert received.status == 201


def test_the_form_carries_to_from_and_the_rendered_text_only(
    twilio_standin: TwilioStandIn, make_twilio_notifier: MakeTwilioNotifier
) -> None:
    message = make_outbound("sms", NUMBER, text="Praxis Nord: Ihr Termin morgen, 10:00 & mehr?")
    make_twilio_notifier().deliver(message)
    received = _only(twilio_standin)
    assert received.header("Content-Type") == "application/x-www-form-urlencoded"
    assert received.form == {
        "To": NUMBER,
        "From": SENDER,
        "Body": "Praxis Nord: Ihr Termin morgen, 10:00 & mehr?",
    }
    # exactly these fields, once each, in this order, and nothing of the subject or HTML
    assert [k for k, _ in parse_qsl(received.body.decode())] == ["To", "From", "Body"]
    assert b"subject" not in received.body and b"%3Cp%3E" not in received.body
    assert received.answer["body"] == message.rendered.text
    assert (received.answer["to"], received.answer["from"]) == (NUMBER, SENDER)


def test_a_messaging_service_replaces_from_and_a_status_callback_is_sent(
    twilio_standin: TwilioStandIn, make_twilio_notifier: MakeTwilioNotifier
) -> None:
    callback = "https://app.example.org/twilio/status?clinic=7"
    notifier = make_twilio_notifier(messaging_service_sid=SERVICE, status_callback=callback)
    notifier.deliver(make_outbound("sms", NUMBER, text="Bis morgen"))
    received = _only(twilio_standin)
    assert received.form == {
        "To": NUMBER,
        "MessagingServiceSid": SERVICE,
        "Body": "Bis morgen",
        "StatusCallback": callback,
    }
    assert "From" not in received.form
    assert received.answer["status"] == "accepted"  # a service picks the sender later
    assert received.answer["messaging_service_sid"] == SERVICE


def test_the_idempotency_token_user_agent_and_accept_headers(
    twilio_standin: TwilioStandIn, make_twilio_notifier: MakeTwilioNotifier
) -> None:
    message = make_outbound("sms", NUMBER)
    make_twilio_notifier().deliver(message)
    received = _only(twilio_standin)
    assert received.header(IDEMPOTENCY_HEADER) == message.idempotency_key
    assert message.idempotency_key.endswith(":appointment_booked:patient")
    assert received.header("User-Agent") == USER_AGENT == "carebook-twilio/0.1.0"
    assert received.header("Accept") == "application/json"


def test_non_latin_text_arrives_intact(
    twilio_standin: TwilioStandIn, make_twilio_notifier: MakeTwilioNotifier
) -> None:
    text = "आपकी अपॉइंटमेंट बुक हो गई है। 😀 Grüße"
    make_twilio_notifier().deliver(make_outbound("sms", NUMBER, text=text))
    received = _only(twilio_standin)
    assert received.form["Body"] == text
    assert received.body.isascii()  # percent-encoded UTF-8
    assert twilio_standin.messages[0]["body"] == text


def test_an_api_key_authenticates_in_place_of_the_account_sid(
    httpserver: HTTPServer, twilio_account_sid: str, twilio_sleeps: SleepRecorder
) -> None:
    secret = new_auth_token()
    standin = TwilioStandIn(
        httpserver,
        account_sid=twilio_account_sid,
        auth_token=new_auth_token(),
        api_key_sid=KEY,
        api_key_secret=secret,
    )
    settings = TwilioSettings(
        **standin.options(auth_token=secret, api_key_sid=KEY, from_number=SENDER)
    )
    TwilioNotifier(settings, sleep=twilio_sleeps).deliver(make_outbound("sms", NUMBER))
    received = _only(standin)
    assert received.basic_auth() == (KEY, secret)
    assert received.path == f"/2010-04-01/Accounts/{twilio_account_sid}/Messages.json"
    assert received.status == 201


def test_wrong_credentials_are_a_401_not_retried(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    twilio_sleeps: SleepRecorder,
) -> None:
    with pytest.raises(TwilioDeliveryError) as failed:
        make_twilio_notifier(auth_token=new_auth_token()).deliver(make_outbound("sms", NUMBER))
    assert (failed.value.status, failed.value.twilio_code, failed.value.attempts) == (401, 20003, 1)
    assert failed.value.retryable is False
    assert twilio_standin.messages == [] and twilio_sleeps == []


def test_another_account_sid_with_the_same_token_is_a_401(
    twilio_standin: TwilioStandIn, make_twilio_notifier: MakeTwilioNotifier
) -> None:
    other = "AC" + "1" * 32
    with pytest.raises(TwilioDeliveryError) as failed:
        make_twilio_notifier(account_sid=other).deliver(make_outbound("sms", NUMBER))
    assert (failed.value.status, failed.value.twilio_code) == (401, 20003)
    assert _only(twilio_standin).path.endswith(f"/Accounts/{other}/Messages.json")


def test_valid_credentials_on_another_accounts_path_are_a_404(
    httpserver: HTTPServer, twilio_account_sid: str, twilio_sleeps: SleepRecorder
) -> None:
    secret = new_auth_token()
    standin = TwilioStandIn(
        httpserver,
        account_sid=twilio_account_sid,
        auth_token=new_auth_token(),
        api_key_sid=KEY,
        api_key_secret=secret,
    )
    other = "AC" + "2" * 32
    settings = TwilioSettings(
        **standin.options(account_sid=other, api_key_sid=KEY, auth_token=secret, from_number=SENDER)
    )
    with pytest.raises(TwilioDeliveryError) as failed:
        TwilioNotifier(settings, sleep=twilio_sleeps).deliver(make_outbound("sms", NUMBER))
    assert (failed.value.status, failed.value.twilio_code, failed.value.attempts) == (404, 20404, 1)
    assert standin.messages == [] and twilio_sleeps == []


def test_a_base_url_with_a_path_prefix_is_honoured(
    httpserver: HTTPServer, twilio_account_sid: str, twilio_auth_token: str
) -> None:
    """A proxy in front of Twilio, at /egress/twilio."""
    expected = f"/egress/twilio/2010-04-01/Accounts/{twilio_account_sid}/Messages.json"
    httpserver.expect_request(expected, method="POST").respond_with_json(
        {"sid": "SM" + "a" * 32, "status": "queued"}, status=201
    )
    settings = TwilioSettings(
        account_sid=twilio_account_sid,
        auth_token=twilio_auth_token,
        from_number=SENDER,
        base_url=httpserver.url_for("/egress/twilio/"),
    )
    TwilioNotifier(settings).deliver(make_outbound("sms", NUMBER))
    [(request, response)] = httpserver.log
    assert request.path == expected and response.status_code == 201


def test_a_redirect_is_not_followed(
    httpserver: HTTPServer,
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    twilio_sleeps: SleepRecorder,
) -> None:
    moved = f"/moved/2010-04-01/Accounts/{twilio_standin.account_sid}/Messages.json"
    httpserver.expect_request(moved, method="POST").respond_with_data(
        "", status=307, headers={"Location": twilio_standin.base_url + twilio_standin.path}
    )
    notifier = make_twilio_notifier(base_url=httpserver.url_for("/moved"))
    with pytest.raises(TwilioDeliveryError) as failed:
        notifier.deliver(make_outbound("sms", NUMBER))
    assert (failed.value.status, failed.value.attempts, failed.value.twilio_code) == (307, 1, None)
    assert twilio_standin.requests == [] and twilio_sleeps == []


def test_a_repeated_delivery_reuses_its_token_and_twilio_creates_one_message(
    twilio_standin: TwilioStandIn, make_twilio_notifier: MakeTwilioNotifier
) -> None:
    notifier = make_twilio_notifier()
    message, other = make_outbound("sms", NUMBER), make_outbound("sms", NUMBER)
    notifier.deliver(message)
    notifier.deliver(message)
    notifier.deliver(other)
    tokens = [r.header(IDEMPOTENCY_HEADER) for r in twilio_standin.requests]
    assert tokens == [message.idempotency_key, message.idempotency_key, other.idempotency_key]
    assert [r.status for r in twilio_standin.requests] == [201, 201, 201]
    first, again, third = (r.answer["sid"] for r in twilio_standin.requests)
    assert first == again != third
    assert [m["sid"] for m in twilio_standin.messages] == [first, third]


def test_a_retry_after_a_lost_answer_does_not_send_twice(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    twilio_sleeps: SleepRecorder,
) -> None:
    twilio_standin.lose_next_answer()  # Twilio creates the message; its answer is a 502
    message = make_outbound("sms", NUMBER)
    make_twilio_notifier().deliver(message)
    assert [r.status for r in twilio_standin.requests] == [502, 201]
    assert len(twilio_standin.messages) == 1
    assert twilio_sleeps == [0.5]
    assert twilio_standin.requests[1].answer["sid"] == twilio_standin.messages[0]["sid"]


@pytest.mark.parametrize(
    "address",
    [
        None,
        "",
        "4915112345678",  # no +
        "+49 151 12345678",  # spaces
        "+49-151-12345678",
        "+0151123456789",  # no country code starts with 0
        "+1234567",  # 7 digits
        "+1234567890123456",  # 16 digits
        "+4915112345678\n",
        "+٤٩١٥١١٢٣٤٥٦٧٨",  # Arabic-Indic digits
        "ana@example.org",  # another channel's address
    ],
)
def test_an_address_that_is_not_e164_is_refused_before_sending(
    twilio_standin: TwilioStandIn, make_twilio_notifier: MakeTwilioNotifier, address: str | None
) -> None:
    with pytest.raises(SmsAddressError) as refused:
        make_twilio_notifier().deliver(make_outbound("sms", address))
    assert isinstance(refused.value, SmsRefusedError)
    assert refused.value.code == "sms_address_invalid"
    if address:
        assert address.strip() not in str(refused.value)
    assert twilio_standin.requests == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "empty"), ("   \n ", "empty"), ("hi \ud800 there", "lone surrogate"), ("a\x00b", "NUL")],
)
def test_an_empty_or_unencodable_text_is_refused_before_sending(
    twilio_standin: TwilioStandIn, make_twilio_notifier: MakeTwilioNotifier, text: str, problem: str
) -> None:
    with pytest.raises(SmsBodyError, match=problem) as refused:
        make_twilio_notifier().deliver(make_outbound("sms", NUMBER, text=text))
    assert refused.value.code == "sms_body_invalid"
    assert twilio_standin.requests == []


def test_a_2xx_without_a_readable_body_is_still_success_and_not_resent(
    httpserver: HTTPServer,
    twilio_account_sid: str,
    twilio_auth_token: str,
    twilio_sleeps: SleepRecorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="carebook_twilio")
    path = f"/2010-04-01/Accounts/{twilio_account_sid}/Messages.json"
    httpserver.expect_request(path, method="POST").respond_with_data("not json", status=201)
    settings = TwilioSettings(
        account_sid=twilio_account_sid,
        auth_token=twilio_auth_token,
        from_number=SENDER,
        base_url=httpserver.url_for("/"),
    )
    TwilioNotifier(settings, sleep=twilio_sleeps).deliver(make_outbound("sms", NUMBER))
    assert len(httpserver.log) == 1 and twilio_sleeps == []
    [record] = [r for r in caplog.records if r.name == "carebook_twilio"]
    assert record.levelno == logging.DEBUG and "(no sid)" in record.getMessage()


def test_success_logs_the_twilio_sid_at_debug(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="carebook_twilio")
    message = make_outbound("sms", NUMBER)
    make_twilio_notifier().deliver(message)
    [record] = [r for r in caplog.records if r.name == "carebook_twilio"]
    sid = twilio_standin.messages[0]["sid"]
    assert sid.startswith("SM") and len(sid) == 34
    assert record.levelno == logging.DEBUG
    assert sid in record.getMessage() and message.idempotency_key in record.getMessage()
    assert "status queued" in record.getMessage()
