"""Readable messages through the public API: part of
:class:`~carebook.testing.flows.ServiceFlows`, so every storage runs it (the patients'
languages and the context are read back from the storage under test).
:class:`MessagingFlows` needs the ``make_world`` fixture."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from carebook import Actor
from carebook.builtin.contacts import RecordingChannel, StaticDirectory
from carebook.domain.messaging import OutboundMessage
from carebook.domain.reminders import ReminderPolicy
from carebook.errors import ValidationError
from carebook.scheduling import CancelAppointment
from carebook.testing.snapshot import storage_state
from carebook.testing.world import World, at

__all__ = ["FlakyChannel", "MessagingFlows"]

MakeWorld = Callable[..., World]

ADDRESSES = {
    "ref-en": {"email": "en@example.test"},
    "ref-de": {"email": "de@example.test", "sms": "+4915100000001"},
    "ref-hi": {"email": "hi@example.test"},
}


class FlakyChannel(RecordingChannel):
    """Fails its first ``failures`` deliveries, then records like its parent."""

    def __init__(self, channel: str, failures: int) -> None:
        super().__init__(channel)
        self.failures = failures
        self.attempts = 0

    def deliver(self, message: OutboundMessage) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ConnectionError("the channel is down")
        super().deliver(message)


class _Staff:
    """A directory that knows staff only: every practitioner at one address."""

    def address(
        self, recipient_role: str, recipient_id: uuid.UUID, contact_ref: str | None, channel: str
    ) -> str | None:
        return "grey@example.test" if recipient_role == "practitioner" else None


def _world(make_world: MakeWorld, *channels: RecordingChannel, **kwargs: object) -> World:
    return make_world(
        dispatch="manual",
        channel_notifiers={c.channel: c for c in channels},
        contacts=StaticDirectory(ADDRESSES),
        **kwargs,
    )


def _by_ref(w: World, message: OutboundMessage) -> str:
    refs: dict[uuid.UUID, str | None] = {p.id: p.contact_ref for p in w.patients}
    return refs[message.notification.recipient_id] or ""


class MessagingFlows:
    """Channel notifiers on the storage under test (docs/notifications.md)."""

    def test_a_booking_reaches_each_patient_in_their_language(self, make_world: MakeWorld) -> None:
        email = RecordingChannel("email")
        w = _world(make_world, email)
        for ref, language in (("ref-en", None), ("ref-de", "de"), ("ref-hi", "hi-IN")):
            patient = w.builder.patient(contact_ref=ref, language=language)
            w.patients.append(patient)
            w.book(patient, at(10 + len(w.patients)), actor=w.staff)
        w.cb.events.dispatch()
        got = {_by_ref(w, m): m for m in email.messages}
        assert sorted(got) == ["ref-de", "ref-en", "ref-hi"]
        assert {ref: m.address for ref, m in got.items()} == {
            ref: ADDRESSES[ref]["email"] for ref in got
        }
        assert {ref: m.rendered.locale for ref, m in got.items()} == {
            "ref-en": "en",
            "ref-de": "de",
            "ref-hi": "hi",
        }
        assert got["ref-de"].context.locale == "de"
        assert got["ref-hi"].context.locale == "hi-IN"
        assert "gebucht" in got["ref-de"].rendered.subject
        assert "बुक" in got["ref-hi"].rendered.subject
        assert "Tuesday, March 4, 2025" in got["ref-en"].rendered.text
        assert "Dienstag, 4. März 2025" in got["ref-de"].rendered.text
        assert "High Street" in got["ref-en"].rendered.text
        html = got["ref-en"].rendered.html or ""
        assert html.startswith("<!DOCTYPE html>") and 'lang="en"' in html
        with w.cb.storage.unit_of_work() as uow:
            stored = [uow.patients.get(p.id) for p in w.patients[2:]]
        assert [p.language if p else "?" for p in stored] == [None, "de", "hi-IN"]

    def test_local_times_follow_the_location_zone(self, make_world: MakeWorld) -> None:
        email = RecordingChannel("email")
        w = _world(make_world, email)
        patient = w.builder.patient(contact_ref="ref-en")
        w.patients.append(patient)
        w.book(patient, at(10), actor=w.staff)  # 10:00 UTC is 10:00 in London in March
        w.cb.events.dispatch()
        (message,) = email.messages
        assert message.context.timezone == "Europe/London"
        assert "10:00" in message.rendered.text
        assert "London" in message.rendered.text

    def test_the_organisation_language_is_the_default(self, make_world: MakeWorld) -> None:
        email = RecordingChannel("email")
        w = _world(make_world, email, language="de")
        patient = w.builder.patient(contact_ref="ref-en")  # no language of their own
        w.patients.append(patient)
        w.book(patient, at(10), actor=w.staff)
        w.cb.events.dispatch()
        assert [m.rendered.locale for m in email.messages] == ["de"]

    def test_a_recipient_with_no_address_is_skipped_and_not_retried(
        self, make_world: MakeWorld
    ) -> None:
        email = RecordingChannel("email")
        w = _world(make_world, email)
        w.book(w.alice, at(10), actor=w.staff)  # alice's contact_ref is in no directory
        w.cb.events.dispatch()
        assert email.messages == []
        assert w.cb.events.pending() == []
        assert w.cb.events.dead_letters(Actor.system()) == []
        assert [n.kind for n in w.sent] == ["appointment_booked"]  # the plain notifier

    def test_a_practitioner_hears_of_a_cancellation_at_their_address(
        self, make_world: MakeWorld
    ) -> None:
        email = RecordingChannel("email")
        w = make_world(dispatch="manual", channel_notifiers={"email": email}, contacts=_Staff())
        booked = w.book(w.alice, at(10), actor=w.staff)
        w.cb.lifecycle.cancel(w.staff, CancelAppointment(appointment_id=booked.id))
        w.cb.events.dispatch()
        (message,) = email.messages
        assert (message.notification.recipient_role, message.address) == (
            "practitioner",
            "grey@example.test",
        )
        assert message.rendered.subject.startswith("Cancelled:")

    def test_reminders_go_on_the_first_preferred_channel_only(self, make_world: MakeWorld) -> None:
        email, sms = RecordingChannel("email"), RecordingChannel("sms")
        w = _world(make_world, email, sms)
        w.cb.reminders.set_policy(
            Actor.system(), w.org.id, ReminderPolicy(offsets=(120,), channels=("sms", "email"))
        )
        both = w.builder.patient(contact_ref="ref-de", language="de")  # e-mail and SMS
        only_email = w.builder.patient(contact_ref="ref-en")
        w.patients.extend([both, only_email])
        w.book(both, at(10), actor=w.staff)
        w.book(only_email, at(11), actor=w.staff)
        w.cb.events.dispatch()
        assert len(email.messages) == 2 and len(sms.messages) == 1  # the booking notices
        email.messages.clear()
        sms.messages.clear()
        w.clock.set(at(9, 30))  # both are due (08:00 and 09:00), neither has started
        assert w.cb.reminders.send_due(Actor.system()) == 2
        w.cb.events.dispatch()
        assert [(_by_ref(w, m), m.channel) for m in sms.messages] == [("ref-de", "sms")]
        assert [(_by_ref(w, m), m.channel) for m in email.messages] == [("ref-en", "email")]
        assert len(sms.messages[0].rendered.text) <= 160 * 2  # the short SMS text

    def test_a_failing_channel_is_retried_alone(self, make_world: MakeWorld) -> None:
        flaky, email = FlakyChannel("sms", failures=1), RecordingChannel("email")
        w = _world(make_world, flaky, email)
        patient = w.builder.patient(contact_ref="ref-de")
        w.patients.append(patient)
        w.book(patient, at(10), actor=w.staff)
        w.cb.events.dispatch()
        assert (flaky.attempts, len(flaky.messages), len(email.messages)) == (1, 0, 1)
        assert len(w.cb.events.pending()) == 1  # the SMS is owed
        w.clock.advance(minutes=30)  # past the first backoff
        w.cb.events.dispatch()
        assert (flaky.attempts, len(flaky.messages), len(email.messages)) == (2, 1, 1)
        assert w.cb.events.pending() == []

    def test_a_bad_language_is_refused_and_changes_nothing(self, make_world: MakeWorld) -> None:
        w = make_world(dispatch="manual")
        before = storage_state(w.cb.storage, w.org.id, [p.id for p in w.patients])
        with pytest.raises(ValidationError) as refused:
            w.builder.patient(contact_ref="ref-x", language="not a language")
        assert "not a language" not in str(refused.value)
        assert storage_state(w.cb.storage, w.org.id, [p.id for p in w.patients]) == before
