"""carebook-smtp inside carebook: found by name through the entry point, configured
from options, and driven by the outbox: a booking's notice arrives in the patient's
language, and a server that fails never blocks a booking; its deliveries are retried
with backoff, then dead-lettered, and an admin's retry sends them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from carebook import Actor, CarebookConfig
from carebook.builtin.contacts import StaticDirectory
from carebook.plugins import collect_adapters, make_plugin_manager
from carebook.testing.clinic import open_carebook
from carebook.testing.world import T0, at, make_world
from carebook_smtp import SmtpNotifier
from carebook_smtp.testing import SmtpTestServer

ADDRESSES = {"ref-de": {"email": "de.patient@example.test"}}


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _calm(smtp_server: SmtpTestServer) -> Iterator[None]:
    yield
    smtp_server.calm()  # no trouble left queued for the next test


def test_the_entry_point_registers_smtp() -> None:
    adapters = collect_adapters(make_plugin_manager(autoload=True))
    assert "smtp" in adapters.channels.names()
    notifier = adapters.channels.create(
        "smtp", {"host": "mail.clinic.test", "sender": "desk@clinic.test"}
    )
    assert isinstance(notifier, SmtpNotifier)
    assert (notifier.channel, notifier.requires_address) == ("email", True)


def test_bootstrap_builds_it_from_the_configuration(smtp_server: SmtpTestServer) -> None:
    config = CarebookConfig(
        channels=("smtp",),
        channel_options={"smtp": smtp_server.options(sender="desk@clinic.test")},
        contacts="static",
        contacts_options={"addresses": ADDRESSES},
        dispatch="manual",
    )
    cb, _ = open_carebook(config, start=T0)
    try:
        assert isinstance(cb.channel_notifiers["smtp"], SmtpNotifier)
        assert "smtp" in cb.notifiers
    finally:
        cb.close()


def _world(server: SmtpTestServer, **options: Any) -> Any:
    notifier = SmtpNotifier.from_options(server.options(sender="desk@clinic.test", **options))
    w = make_world(
        dispatch="manual",
        channel_notifiers={"smtp": notifier},
        contacts=StaticDirectory(ADDRESSES),
    )
    patient = w.builder.patient(contact_ref="ref-de", language="de")
    w.patients.append(patient)
    return w, patient, notifier


def test_a_booking_notice_arrives_in_the_patients_language(smtp_server: SmtpTestServer) -> None:
    smtp_server.clear()
    w, patient, notifier = _world(smtp_server)
    w.book(patient, at(10), actor=w.staff)
    w.cb.events.dispatch()
    (received,) = smtp_server.mailbox
    assert received.rcpt_tos == ("de.patient@example.test",)
    mail = received.message
    assert mail["Content-Language"] == "de"
    assert "Termin" in str(mail["Subject"])  # the German template
    kinds = [p.get_content_type() for p in mail.walk()]
    assert "text/calendar" in kinds and "text/html" in kinds
    notifier.close()


def test_a_failing_server_never_blocks_a_booking_and_ends_as_a_dead_letter(
    smtp_server: SmtpTestServer,
) -> None:
    smtp_server.clear()
    w, patient, notifier = _world(smtp_server, timeout=2)
    smtp_server.misbehave(*["refuse", "drop", "defer"] * 3)  # more than max_attempts (8)
    booked = w.book(patient, at(10), actor=w.staff)
    assert booked.status.value == "booked"
    attempts_seen = []
    for _ in range(12):  # hours apart: past every backoff (at most an hour)
        w.cb.events.dispatch()
        dead = w.cb.events.dead_letters(Actor.system())
        if dead:
            break
        attempts_seen.append(len(w.cb.events.pending()))
        w.clock.advance(hours=2)
    (letter,) = [d for d in dead if d.consumer.startswith("notifier:smtp:")]
    assert letter.attempts == 8
    assert letter.last_error is not None and "smtp server" in letter.last_error
    assert "example.test" not in letter.last_error
    assert smtp_server.mailbox == []
    assert all(n == 1 for n in attempts_seen)  # the notice was owed all along
    smtp_server.calm()  # the server is fixed
    w.cb.events.retry(Actor.system(), letter.event_id, letter.consumer)
    w.cb.events.dispatch()
    assert [r.rcpt_tos for r in smtp_server.mailbox] == [("de.patient@example.test",)]
    assert w.cb.events.dead_letters(Actor.system()) == []
    notifier.close()
