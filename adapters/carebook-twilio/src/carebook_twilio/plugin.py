"""Registers the ``sms`` channel notifier with carebook (entry-point group ``carebook``,
name ``twilio``)."""

from __future__ import annotations

from carebook.hookspecs import Register, hookimpl
from carebook.ports import ChannelNotifier
from carebook_twilio.notifier import TwilioNotifier


@hookimpl
def carebook_register_channel_notifiers(register: Register[ChannelNotifier]) -> None:
    register("sms", TwilioNotifier.from_options)
