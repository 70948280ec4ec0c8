"""Privacy: no phone number, message text, auth token or Twilio error message in an
exception, a log record or a repr, whatever fails."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from carebook.testing.contracts.channel import make_outbound
from carebook_twilio import (
    SmsAddressError,
    SmsRefusedError,
    SmsTooLongError,
    TwilioDeliveryError,
    TwilioNotifier,
)
from carebook_twilio.testing import SENDER, TwilioStandIn

MakeTwilioNotifier = Callable[..., TwilioNotifier]

pytest_plugins = ["carebook_twilio.fixtures"]


NUMBER = "+4915198765432"
PATIENT_TEXT = "Ana Sentinel-Patient-Qz8: your visit with Dr Grey tomorrow at 10:00"


def _everything(caplog: pytest.LogCaptureFixture, prefix: str = "") -> str:
    return "\n".join(
        record.getMessage() + repr(vars(record))
        for record in caplog.records
        if record.name.startswith(prefix)
    )


def _assert_clean(text: str, standin: TwilioStandIn | None = None, *, token: str = "") -> None:
    for leaked in (NUMBER, NUMBER[1:], "Sentinel-Patient-Qz8", "Dr Grey", token or None):
        if leaked:
            assert leaked not in text
    if standin is not None:
        assert standin.auth_token not in text
        assert "is not a valid phone number" not in text  # Twilio's own message


def test_a_21211_names_neither_the_number_nor_twilios_message(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    twilio_standin.fail_next(1, status=400, code=21211)
    with pytest.raises(TwilioDeliveryError) as failed:
        make_twilio_notifier().deliver(make_outbound("sms", NUMBER, text=PATIENT_TEXT))
    # The stand-in's answer did quote the number, as Twilio's does...
    [received] = twilio_standin.requests
    assert NUMBER in received.answer["message"]
    # ...and none of it reached the error or a log record.
    assert failed.value.twilio_code == 21211
    _assert_clean(str(failed.value) + repr(failed.value), twilio_standin)
    ours = _everything(caplog, "carebook_twilio")
    assert "HTTP 400, Twilio error 21211" in ours
    _assert_clean(ours, twilio_standin)
    _assert_clean(_everything(caplog), twilio_standin)  # the test server's log included


def test_retries_and_a_final_failure_log_ids_attempts_and_codes_only(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    twilio_standin.fail_always(status=503)
    message = make_outbound("sms", NUMBER, text=PATIENT_TEXT)
    with pytest.raises(TwilioDeliveryError) as failed:
        make_twilio_notifier().deliver(message)
    ours = [r for r in caplog.records if r.name == "carebook_twilio"]
    assert len(ours) == 3  # two retries and the failure
    assert all(message.idempotency_key in r.getMessage() for r in ours)
    assert [r.levelno for r in ours] == [logging.WARNING] * 3
    assert "attempt 1 of 3 failed (HTTP 503, Twilio error 20503)" in ours[0].getMessage()
    assert "failed after 3 attempt(s)" in ours[-1].getMessage()
    _assert_clean(_everything(caplog) + str(failed.value), twilio_standin)
    assert twilio_standin.base_url not in _everything(caplog, "carebook_twilio")


def test_a_network_failure_names_the_exception_class_only(
    twilio_closed_port_url: str,
    make_twilio_notifier: MakeTwilioNotifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    notifier = make_twilio_notifier(base_url=twilio_closed_port_url, retries=1)
    with pytest.raises(TwilioDeliveryError) as failed:
        notifier.deliver(make_outbound("sms", NUMBER, text=PATIENT_TEXT))
    text = str(failed.value) + _everything(caplog)
    assert "ConnectionRefusedError" in text
    _assert_clean(text, token=notifier.settings.auth_token)
    assert twilio_closed_port_url not in text and "127.0.0.1" not in text


def test_a_success_logs_the_sid_but_not_the_number_or_text(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    make_twilio_notifier().deliver(make_outbound("sms", NUMBER, text=PATIENT_TEXT))
    ours = _everything(caplog, "carebook_twilio")
    assert twilio_standin.messages[0]["sid"] in ours
    _assert_clean(_everything(caplog), twilio_standin)
    assert SENDER not in ours


@pytest.mark.parametrize("address", ["+49 151 98765432", "004915198765432", "+4915198765432x"])
def test_a_refused_address_is_in_neither_the_error_nor_the_log(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    caplog: pytest.LogCaptureFixture,
    address: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SmsAddressError) as refused:
        make_twilio_notifier().deliver(make_outbound("sms", address, text=PATIENT_TEXT))
    text = str(refused.value) + repr(refused.value) + _everything(caplog)
    assert "sms_address_invalid" in _everything(caplog, "carebook_twilio")
    for leaked in (address, "98765432", "Sentinel-Patient-Qz8"):
        assert leaked not in text
    assert twilio_standin.requests == []


def test_a_too_long_text_is_described_by_counts_only(
    twilio_standin: TwilioStandIn,
    make_twilio_notifier: MakeTwilioNotifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    text = PATIENT_TEXT * 3  # 3 × 67 = 201 GSM-7 septets: 2 segments
    with pytest.raises(SmsTooLongError) as refused:
        make_twilio_notifier(max_segments=1).deliver(make_outbound("sms", NUMBER, text=text))
    assert isinstance(refused.value, SmsRefusedError)
    assert str(refused.value) == (
        f"the sms text needs 2 GSM-7 segments ({len(text)} characters); "
        "at most 1 segment and 1600 characters are allowed"
    )
    _assert_clean(str(refused.value) + _everything(caplog), twilio_standin)


def test_reprs_show_no_credentials_number_or_text(
    twilio_standin: TwilioStandIn, make_twilio_notifier: MakeTwilioNotifier
) -> None:
    notifier = make_twilio_notifier()
    message = make_outbound("sms", NUMBER, text=PATIENT_TEXT)
    notifier.deliver(message)
    [received] = twilio_standin.requests
    for text in (repr(notifier), repr(notifier.settings), repr(received), repr(message)):
        _assert_clean(text, twilio_standin)
    assert repr(received).startswith("ReceivedRequest(method='POST', path='/2010-04-01/")
