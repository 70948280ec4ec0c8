"""Channel notifiers wired by bootstrap: by name from the configuration, the contact
directory, template overrides from configuration and plugins, and what is refused."""

from __future__ import annotations

import logging

import pytest

from carebook import Actor, CarebookConfig
from carebook.builtin.contacts import RecordingChannel, StaticDirectory
from carebook.domain.messaging import OutboundMessage
from carebook.errors import ConfigurationError, DuplicateAdapterError
from carebook.hookspecs import Register, TemplateRegister, hookimpl
from carebook.plugins import make_plugin_manager
from carebook.ports import ChannelNotifier, ContactDirectory
from carebook.scheduling import BookAppointment
from carebook.testing.clinic import ClinicBuilder, open_carebook
from carebook.testing.world import T0, at

SENTINEL = "Sentinel-Patient-Zq7"
BOOKED = "en/appointment_booked.txt"


def _book_one(config: CarebookConfig, **overrides: object) -> RecordingChannel:
    cb, _ = open_carebook(config, start=T0, **overrides)
    clinic = ClinicBuilder.create(cb, "Northside Clinics")
    loc = clinic.location(f"{SENTINEL} Street")
    pr = clinic.practitioner("Dr Grey", loc)
    svc = clinic.service(practitioners=[pr])
    patient = clinic.patient(contact_ref="ref-1")
    cb.booking.book(
        Actor.system(),
        BookAppointment(
            patient_id=patient.id,
            service_ids=(svc.id,),
            start=at(10),
            practitioner_id=pr.id,
            location_id=loc.id,
            idempotency_key="book-1",
        ),
    )
    cb.events.dispatch()
    channel = cb.channel_notifiers["recording"]
    assert isinstance(channel, RecordingChannel)
    return channel


def _config(**fields: object) -> CarebookConfig:
    base: dict[str, object] = {
        "notifiers": (),
        "dispatch": "manual",
        "channels": ("recording",),
        "contacts": "static",
        "contacts_options": {"addresses": {"ref-1": {"email": f"{SENTINEL}@example.test"}}},
    }
    return CarebookConfig(**(base | fields))  # type: ignore[arg-type]


def test_channels_contacts_and_templates_are_chosen_by_name() -> None:
    channel = _book_one(_config())
    (message,) = channel.messages
    assert message.address == f"{SENTINEL}@example.test"
    assert message.rendered.subject == "Your visit on Mar 4, 2025 is booked"


def test_no_log_record_carries_the_address_or_a_name(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    channel = _book_one(_config())
    assert SENTINEL in channel.messages[0].rendered.text
    delivered = [r for r in caplog.records if r.name == "carebook.messaging"]
    assert delivered and all(getattr(r, "event_id", None) for r in delivered)
    for record in caplog.records:
        assert SENTINEL not in record.getMessage() + repr(vars(record))


def test_templates_from_the_configuration_override_the_shipped_ones() -> None:
    source = "{% block subject %}Booked: {{ start | time }}{% endblock %}{% block text %}ok{% endblock %}"
    channel = _book_one(_config(templates={BOOKED: source}))
    assert [m.rendered.subject for m in channel.messages] == [
        "Booked: 10:00 AM"
    ]  # a subject is one line of plain spaces


class _ClinicWording:
    @hookimpl
    def carebook_register_templates(self, register: TemplateRegister) -> None:
        register(
            BOOKED, "{% block subject %}See you soon{% endblock %}{% block text %}x{% endblock %}"
        )


def test_a_plugin_overrides_a_template_through_the_hook() -> None:
    pm = make_plugin_manager(autoload=False, plugins=[_ClinicWording()])
    channel = _book_one(_config(), plugin_manager=pm)
    assert [m.rendered.subject for m in channel.messages] == ["See you soon"]


def test_two_plugins_registering_one_template_is_an_error() -> None:
    pm = make_plugin_manager(autoload=False, plugins=[_ClinicWording(), _ClinicWording()])
    with pytest.raises(DuplicateAdapterError):
        open_carebook(_config(), start=T0, plugin_manager=pm)


def test_a_broken_template_stops_bootstrap() -> None:
    with pytest.raises(ConfigurationError) as refused:
        open_carebook(
            _config(templates={BOOKED: "{% block subject %}{{ x {% endblock %}"}), start=T0
        )
    assert BOOKED in str(refused.value)


def test_channel_notifiers_need_a_contact_directory() -> None:
    with pytest.raises(ConfigurationError) as refused:
        open_carebook(_config(contacts=None), start=T0)
    assert "contact directory" in str(refused.value)


def test_a_notifier_and_a_channel_notifier_cannot_share_a_name() -> None:
    with pytest.raises(ConfigurationError) as refused:
        open_carebook(_config(notifiers=("recording",)), start=T0)
    assert "share the name 'recording'" in str(refused.value)


def test_channel_notifiers_passed_directly_need_no_configuration() -> None:
    email = RecordingChannel("email")
    cb, _ = open_carebook(
        CarebookConfig(notifiers=()),
        start=T0,
        channel_notifiers={"email": email},
        contacts=StaticDirectory({}),
    )
    assert cb.channel_notifiers == {"email": email}
    assert "email" in cb.notifiers  # behind the sender that renders and addresses


class _Pager:
    channel = "pager"
    requires_address = True

    def __init__(self) -> None:
        self.pages: list[tuple[str | None, str]] = []

    def deliver(self, message: OutboundMessage) -> None:
        self.pages.append((message.address, message.rendered.subject))


class _PagerPlugin:
    """Registers a channel notifier and a directory, as an installed plugin would."""

    def __init__(self) -> None:
        self.pager = _Pager()

    @hookimpl
    def carebook_register_channel_notifiers(self, register: Register[ChannelNotifier]) -> None:
        register("pager", lambda options: self.pager)

    @hookimpl
    def carebook_register_contact_directories(self, register: Register[ContactDirectory]) -> None:
        register("ward", lambda options: StaticDirectory({"ref-1": {"pager": "pager-7"}}))


def test_plugins_register_channel_notifiers_and_contact_directories() -> None:
    plugin = _PagerPlugin()
    pm = make_plugin_manager(autoload=False, plugins=[plugin])
    cb, _ = open_carebook(
        CarebookConfig(notifiers=(), dispatch="manual", channels=("pager",), contacts="ward"),
        start=T0,
        plugin_manager=pm,
    )
    clinic = ClinicBuilder.create(cb, "Northside Clinics")
    loc = clinic.location("High Street")
    pr = clinic.practitioner("Dr Grey", loc)
    svc = clinic.service(practitioners=[pr])
    patient = clinic.patient(contact_ref="ref-1")
    command = BookAppointment(
        patient_id=patient.id,
        service_ids=(svc.id,),
        start=at(10),
        practitioner_id=pr.id,
        location_id=loc.id,
        idempotency_key="book-pager",
    )
    cb.booking.book(Actor.system(), command)
    cb.events.dispatch()
    assert plugin.pager.pages == [("pager-7", "Your visit on Mar 4, 2025 is booked")]
