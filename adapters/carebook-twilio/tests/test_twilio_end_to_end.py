"""A booking in a Carebook wired by name (channel ``sms``, from the plugin) reaches the
stand-in Twilio as one SMS to the patient's number, rendered in the patient's language;
a failing Twilio never blocks the booking, and the retried delivery keeps its token."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest

import carebook_twilio.plugin
from carebook import Actor, Carebook, CarebookConfig
from carebook.builtin.clocks import ManualClock
from carebook.plugins import make_plugin_manager
from carebook.scheduling import BookAppointment
from carebook.testing.clinic import ClinicBuilder, open_carebook
from carebook.testing.world import T0, at
from carebook_twilio import TwilioNotifier
from carebook_twilio.notifier import IDEMPOTENCY_HEADER
from carebook_twilio.segments import is_gsm7
from carebook_twilio.testing import SENDER, TwilioStandIn

pytest_plugins = ["carebook_twilio.fixtures"]


SENTINEL = "Sentinel-Patient-Zq7"
NUMBER = "+4915100000001"


def _expected_segments(text: str) -> int:
    """The segment count of a text without extension characters or emoji, by the book."""
    single, per_segment = (160, 153) if is_gsm7(text) else (70, 67)
    return 1 if len(text) <= single else math.ceil(len(text) / per_segment)


def _book(standin: TwilioStandIn, language: str, **options: Any) -> tuple[Carebook, ManualClock]:
    pm = make_plugin_manager(autoload=False, plugins=[carebook_twilio.plugin])
    config = CarebookConfig(
        notifiers=(),
        dispatch="manual",
        channels=("sms",),
        channel_options={"sms": standin.options(from_number=SENDER, **options)},
        contacts="static",
        contacts_options={"addresses": {"ref-1": {"sms": NUMBER}}},
    )
    cb, clock = open_carebook(config, start=T0, plugin_manager=pm)
    assert isinstance(cb.channel_notifiers["sms"], TwilioNotifier)
    clinic = ClinicBuilder.create(cb, "Praxis Nord")
    loc = clinic.location(f"{SENTINEL} Straße", timezone="Europe/Berlin")
    pr = clinic.practitioner("Dr Grey", loc)
    svc = clinic.service(practitioners=[pr])
    patient = clinic.patient(contact_ref="ref-1", language=language)
    appointment = cb.booking.book(
        Actor.system(),
        BookAppointment(
            patient_id=patient.id,
            service_ids=(svc.id,),
            start=at(10),
            practitioner_id=pr.id,
            location_id=loc.id,
            idempotency_key=f"book-sms-{language}",
        ),
    )
    assert appointment.status.value == "booked"
    return cb, clock


@pytest.mark.parametrize(
    ("language", "phrases", "encoding"),
    [
        ("de", ("Praxis Nord: Ihr Termin am", "ist gebucht."), "GSM-7"),
        ("hi", ("Praxis Nord: आपकी अपॉइंटमेंट", "बुक हो गई है।"), "UCS-2"),
    ],
)
def test_a_booking_is_sent_as_an_sms_in_the_patients_language(
    twilio_standin: TwilioStandIn,
    caplog: pytest.LogCaptureFixture,
    language: str,
    phrases: tuple[str, str],
    encoding: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    cb, _ = _book(twilio_standin, language)
    cb.events.dispatch()

    [received] = twilio_standin.requests  # the practitioner has no number: skipped
    assert received.status == 201
    assert (received.form["To"], received.form["From"]) == (NUMBER, SENDER)
    body = received.form["Body"]
    assert body.startswith(phrases[0]) and body.endswith(phrases[1])
    assert "11:00" in body  # 10:00 UTC, in Berlin
    assert f"{SENTINEL} Straße" in body
    assert is_gsm7(body) is (encoding == "GSM-7")
    token = received.header(IDEMPOTENCY_HEADER) or ""
    assert token.endswith(":appointment_booked:patient")
    [message] = twilio_standin.messages
    assert message["num_segments"] == str(_expected_segments(body))
    assert message["status"] == "queued"
    assert cb.events.pending() == []  # delivered and recorded
    for record in caplog.records:
        text = record.getMessage() + repr(vars(record))
        assert SENTINEL not in text and NUMBER not in text and NUMBER[1:] not in text


def test_a_failing_twilio_never_blocks_the_booking_and_the_retry_sends_once(
    twilio_standin: TwilioStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    twilio_standin.fail_next(1, status=503)
    cb, clock = _book(twilio_standin, "de", retries=0)
    cb.events.dispatch()
    assert [r.status for r in twilio_standin.requests] == [503]
    assert twilio_standin.messages == []
    assert len(cb.events.pending()) == 1  # the notice is still owed
    failures = [r for r in caplog.records if "twilio delivery failed" in r.getMessage()]
    assert failures  # carebook's dispatcher logged our error's words

    clock.advance(hours=2)  # past carebook's backoff
    cb.events.dispatch()
    first, second = twilio_standin.requests
    assert second.status == 201
    assert first.header(IDEMPOTENCY_HEADER) == second.header(IDEMPOTENCY_HEADER)
    assert len(twilio_standin.messages) == 1
    assert cb.events.pending() == []
    for record in caplog.records:
        text = record.getMessage() + repr(vars(record))
        assert SENTINEL not in text and NUMBER not in text
