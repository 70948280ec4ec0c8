"""The ``smtp`` channel notifier, found through the ``carebook`` entry point."""

from __future__ import annotations

from carebook.hookspecs import Register, hookimpl
from carebook.ports import ChannelNotifier
from carebook_smtp.notifier import SmtpNotifier


@hookimpl
def carebook_register_channel_notifiers(register: Register[ChannelNotifier]) -> None:
    register("smtp", SmtpNotifier.from_options)
