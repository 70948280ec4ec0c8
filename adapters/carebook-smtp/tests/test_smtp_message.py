"""What a patient's mail program gets: the parts, the headers, the calendar entry."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pendulum
import pytest
from icalendar import Calendar

from carebook.domain.messaging import Attachment, RenderedMessage
from carebook.testing.contracts.channel import make_outbound
from carebook_smtp import SmtpNotifier, SmtpSettings, compose, invitation
from carebook_smtp.testing import SmtpTestServer

SETTINGS = SmtpSettings(host="127.0.0.1", sender="desk@clinic.test", sender_name="Clinic Desk")


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


def _event(data: bytes) -> tuple[Calendar, object]:
    calendar = Calendar.from_ical(data)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_a_booking_notice_has_text_html_and_a_calendar_entry() -> None:
    message = make_outbound("email", "ana@example.test", text="See you soon", locale="de")
    mail = compose(message, SETTINGS)
    assert [p.get_content_type() for p in mail.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    assert mail["To"] == "ana@example.test"
    assert mail["From"] == "Clinic Desk <desk@clinic.test>"
    assert mail["Subject"] == "appointment_booked subject"
    assert mail["Content-Language"] == "de"
    assert mail["Auto-Submitted"] == "auto-generated"
    body = mail.get_body(("plain",))
    assert body is not None and body.get_content().strip() == "See you soon"


def test_the_calendar_entry_is_the_visit_in_the_location_zone() -> None:
    message = make_outbound("email", "ana@example.test")
    attachment = invitation(message)
    assert attachment is not None
    assert attachment.filename == "appointment.ics"
    assert attachment.content_type.startswith("text/calendar")
    calendar, event = _event(attachment.data)
    context = message.context
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(event["UID"]) == f"{context.notification.appointment_id}@carebook"  # type: ignore[index]
    start = event["DTSTART"].dt  # type: ignore[index]
    end = event["DTEND"].dt  # type: ignore[index]
    assert str(start.tzinfo) == "Europe/Berlin"
    assert context.start is not None and context.end is not None
    assert start.timestamp() == context.start.timestamp()
    assert end.timestamp() == context.end.timestamp()
    assert str(event["SUMMARY"]) == "Check-up · Contract Clinic"  # type: ignore[index]
    assert str(event["DESCRIPTION"]) == message.rendered.text  # type: ignore[index]
    assert str(event["LOCATION"]) == "Contract Office, Contract Clinic"  # type: ignore[index]
    assert str(event["STATUS"]) == "CONFIRMED"  # type: ignore[index]
    assert calendar.walk("VTIMEZONE"), "the zone travels with the entry"


def test_the_entry_title_falls_back_to_the_subject_without_names() -> None:
    message = make_outbound("email", "ana@example.test")
    bare = attrs.evolve(
        message,
        context=attrs.evolve(message.context, service_name=None, organisation_name=""),
    )
    attachment = invitation(bare)
    assert attachment is not None
    _, event = _event(attachment.data)
    assert str(event["SUMMARY"]) == message.rendered.subject  # type: ignore[index]


def test_a_reschedule_updates_the_same_entry_and_a_cancellation_cancels_it() -> None:
    booked = make_outbound("email", "ana@example.test")
    moved = attrs.evolve(
        make_outbound("email", "ana@example.test", kind="appointment_rescheduled"),
        context=attrs.evolve(
            booked.context,
            notification=attrs.evolve(booked.notification, kind="appointment_rescheduled"),
        ),
    )
    cancelled = attrs.evolve(
        booked,
        context=attrs.evolve(
            booked.context,
            notification=attrs.evolve(booked.notification, kind="appointment_cancelled"),
        ),
    )
    first = invitation(booked, pendulum.datetime(2026, 3, 1, 9))
    second = invitation(moved, pendulum.datetime(2026, 3, 2, 9))
    third = invitation(cancelled, pendulum.datetime(2026, 3, 3, 9))
    assert first is not None and second is not None and third is not None
    events = [_event(a.data)[1] for a in (first, second, third)]
    assert len({str(e["UID"]) for e in events}) == 1  # type: ignore[index]
    sequences = [int(e["SEQUENCE"]) for e in events]  # type: ignore[index]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    assert str(events[2]["STATUS"]) == "CANCELLED"  # type: ignore[index]


def test_the_calendar_part_is_utf8_so_other_languages_survive_the_trip(
    smtp_server: SmtpTestServer,
) -> None:
    text = "Grüße aus der Praxis · आपकी अपॉइंटमेंट"
    message = make_outbound("email", "ana@example.test", text=text, locale="de")
    SmtpNotifier(SmtpSettings(**smtp_server.options(sender="praxis@example.test"))).deliver(message)
    [received] = smtp_server.messages()
    [part] = [p for p in received.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_content_charset() == "utf-8"
    [event] = Calendar.from_ical(part.get_content()).walk("VEVENT")
    assert str(event["DESCRIPTION"]) == text
    assert str(event["SUMMARY"]) == "Check-up · Contract Clinic"


def test_a_reminder_and_a_notice_without_a_time_carry_no_calendar_entry() -> None:
    reminder = make_outbound("email", "ana@example.test", kind="appointment_reminder")
    assert invitation(reminder) is None
    assert "text/calendar" not in [p.get_content_type() for p in compose(reminder, SETTINGS).walk()]
    untimed = attrs.evolve(reminder, context=attrs.evolve(reminder.context, start=None, end=None))
    assert invitation(untimed) is None


def test_a_message_without_html_is_plain_text_and_given_attachments_go_along() -> None:
    message = make_outbound("email", "ana@example.test", kind="appointment_reminder")
    message = attrs.evolve(
        message,
        rendered=RenderedMessage(locale="en", subject="Tomorrow", text="Plain only"),
        attachments=(Attachment(filename="map.pdf", content_type="application/pdf", data=b"%PDF"),),
    )
    mail = compose(message, SETTINGS)
    types = [p.get_content_type() for p in mail.walk()]
    assert types == ["multipart/mixed", "text/plain", "application/pdf"]
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == "map.pdf"
    assert attachment.get_content() == b"%PDF"


def test_a_repeated_notice_keeps_its_message_id(smtp_server: SmtpTestServer) -> None:
    smtp_server.clear()
    notifier = SmtpNotifier(SmtpSettings(**smtp_server.options(sender="desk@clinic.test")))
    message = make_outbound("email", "ana@example.test")
    notifier.deliver(message)
    notifier.deliver(message)  # a retry after a crash, say
    other = make_outbound("email", "ana@example.test")
    notifier.deliver(other)
    ids = [m["Message-ID"] for m in smtp_server.messages()]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0].endswith("@clinic.test>")
    assert [r.rcpt_tos for r in smtp_server.mailbox] == [("ana@example.test",)] * 3
    notifier.close()


def test_what_arrives_parses_back_to_the_visit(smtp_server: SmtpTestServer) -> None:
    smtp_server.clear()
    notifier = SmtpNotifier(SmtpSettings(**smtp_server.options(sender="desk@clinic.test")))
    message = make_outbound("email", "ana@example.test", text="Grüße aus Berlin", locale="de")
    notifier.deliver(message)
    (mail,) = smtp_server.messages()
    body = mail.get_body(("plain",))
    assert body is not None and "Grüße aus Berlin" in body.get_content()
    (ics,) = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    _, event = _event(ics.get_content().encode())  # a text part decodes to str
    assert message.context.start is not None
    assert event["DTSTART"].dt.timestamp() == message.context.start.timestamp()  # type: ignore[index]
    notifier.close()
