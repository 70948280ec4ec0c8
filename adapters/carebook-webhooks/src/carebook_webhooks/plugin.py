"""Registers the ``webhook`` channel notifier with carebook (entry-point group ``carebook``)."""

from __future__ import annotations

from carebook.hookspecs import Register, hookimpl
from carebook.ports import ChannelNotifier
from carebook_webhooks.notifier import WebhookNotifier


@hookimpl
def carebook_register_channel_notifiers(register: Register[ChannelNotifier]) -> None:
    register("webhook", WebhookNotifier.from_options)
