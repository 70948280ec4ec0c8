"""The plugin registers the ``sms`` channel notifier, found through carebook's plugin
manager and the ``carebook`` entry-point group (entry point ``twilio``)."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

import carebook_twilio.plugin
from carebook.errors import ConfigurationError, DuplicateAdapterError
from carebook.plugins import ENTRY_POINT_GROUP, collect_adapters, make_plugin_manager
from carebook.testing.contracts.channel import make_outbound
from carebook_twilio import TwilioNotifier
from carebook_twilio.testing import SENDER, TwilioStandIn

pytest_plugins = ["carebook_twilio.fixtures"]


def test_the_distribution_declares_its_entry_point() -> None:
    assert ENTRY_POINT_GROUP == "carebook"
    [entry] = [ep for ep in entry_points(group="carebook") if ep.name == "twilio"]
    assert entry.value == "carebook_twilio.plugin"
    assert entry.load() is carebook_twilio.plugin
    assert entry.dist is not None and entry.dist.name == "carebook-twilio"


def test_the_entry_point_plugin_registers_sms() -> None:
    [entry] = entry_points(group=ENTRY_POINT_GROUP, name="twilio")
    adapters = collect_adapters(make_plugin_manager(autoload=False, plugins=[entry.load()]))
    assert "sms" in adapters.channels.names()
    assert "recording" in adapters.channels.names()  # the built-ins are still there


def test_autoload_finds_it_too() -> None:
    adapters = collect_adapters(make_plugin_manager(autoload=True))
    assert "sms" in adapters.channels.names()


def test_without_the_plugin_there_is_no_sms_channel() -> None:
    adapters = collect_adapters(make_plugin_manager(autoload=False))
    assert "sms" not in adapters.channels.names()


def test_the_registry_builds_a_working_notifier(twilio_standin: TwilioStandIn) -> None:
    adapters = collect_adapters(
        make_plugin_manager(autoload=False, plugins=[carebook_twilio.plugin])
    )
    notifier = adapters.channels.create(
        "sms", twilio_standin.options(from_number=SENDER, retries=0, max_segments=3)
    )
    assert isinstance(notifier, TwilioNotifier)
    assert (notifier.channel, notifier.requires_address) == ("sms", True)
    assert (notifier.settings.retries, notifier.settings.max_segments) == (0, 3)
    notifier.deliver(make_outbound("sms", "+4915112345678", text="through the registry"))
    [message] = twilio_standin.messages
    assert (message["to"], message["body"]) == ("+4915112345678", "through the registry")


def test_the_registry_refuses_bad_options() -> None:
    adapters = collect_adapters(
        make_plugin_manager(autoload=False, plugins=[carebook_twilio.plugin])
    )
    with pytest.raises(ConfigurationError, match=r"unknown twilio options: \['from'\]"):
        adapters.channels.create("sms", {"account_sid": "AC" + "0" * 32, "from": SENDER})
    with pytest.raises(ConfigurationError, match="missing twilio options"):
        adapters.channels.create("sms", {"from_number": SENDER})


def test_registering_the_plugin_twice_is_refused() -> None:
    class Again:
        carebook_register_channel_notifiers = staticmethod(
            carebook_twilio.plugin.carebook_register_channel_notifiers
        )

    pm = make_plugin_manager(autoload=False, plugins=[carebook_twilio.plugin, Again()])
    with pytest.raises(DuplicateAdapterError):
        collect_adapters(pm)
