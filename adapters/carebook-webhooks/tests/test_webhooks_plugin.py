"""The plugin registers the ``webhook`` channel notifier, found through carebook's
plugin manager and the ``carebook`` entry-point group."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

import carebook_webhooks.plugin
from carebook.errors import ConfigurationError, DuplicateAdapterError
from carebook.plugins import ENTRY_POINT_GROUP, collect_adapters, make_plugin_manager
from carebook.testing.contracts.channel import make_outbound
from carebook_webhooks import WebhookNotifier
from carebook_webhooks.testing import WebhookReceiver

pytest_plugins = ["carebook_webhooks.fixtures"]


def test_the_distribution_declares_its_entry_point() -> None:
    [entry] = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "webhooks"]
    assert entry.value == "carebook_webhooks.plugin"
    assert entry.load() is carebook_webhooks.plugin


def test_the_entry_point_plugin_registers_webhook() -> None:
    [entry] = entry_points(group=ENTRY_POINT_GROUP, name="webhooks")
    pm = make_plugin_manager(autoload=False, plugins=[entry.load()])
    adapters = collect_adapters(pm)
    assert "webhook" in adapters.channels.names()
    assert "recording" in adapters.channels.names()  # the built-ins are still there


def test_without_the_plugin_there_is_no_webhook_channel() -> None:
    adapters = collect_adapters(make_plugin_manager(autoload=False))
    assert "webhook" not in adapters.channels.names()


def test_the_registry_builds_a_working_notifier(receiver: WebhookReceiver) -> None:
    adapters = collect_adapters(
        make_plugin_manager(autoload=False, plugins=[carebook_webhooks.plugin])
    )
    notifier = adapters.channels.create(
        "webhook", {"url": receiver.url, "secret": receiver.secret, "retries": 0}
    )
    assert isinstance(notifier, WebhookNotifier)
    assert notifier.channel == "webhook" and notifier.settings.retries == 0
    message = make_outbound("webhook", None, text="through the registry")
    notifier.deliver(message)
    [received] = receiver.accepted
    assert received.payload["data"]["message"]["text"] == "through the registry"


def test_the_registry_refuses_bad_options() -> None:
    adapters = collect_adapters(
        make_plugin_manager(autoload=False, plugins=[carebook_webhooks.plugin])
    )
    with pytest.raises(ConfigurationError, match="unknown webhook options"):
        adapters.channels.create("webhook", {"url": "https://x.example/", "sekret": "x"})


def test_registering_the_plugin_twice_is_refused() -> None:
    class Again:
        carebook_register_channel_notifiers = staticmethod(
            carebook_webhooks.plugin.carebook_register_channel_notifiers
        )

    pm = make_plugin_manager(autoload=False, plugins=[carebook_webhooks.plugin, Again()])
    with pytest.raises(DuplicateAdapterError):
        collect_adapters(pm)
