"""A channel notifier behind the plain Notifier port: resolve, render, address, deliver.

The dispatcher calls :meth:`ChannelSender.send` after commit, outside any storage
transaction, like any notifier. The sender reads the context in one read-only unit of
work, closes it, and only then asks the host's directory for the address, renders the
message and hands it to the channel. A recipient with no address on a channel that needs
one is skipped (logged with ids), not retried; a failing channel raises, and the
dispatcher retries that delivery with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from carebook.domain.messaging import OutboundMessage
from carebook.domain.notifications import Notification
from carebook.domain.reminders.policy import ReminderPolicy
from carebook.ports import ChannelNotifier, ContactDirectory, MessageRenderer, Storage
from carebook.services.messaging.context import Resolved, resolve

__all__ = ["ChannelSender"]

log = logging.getLogger("carebook.messaging")

REMINDER = "appointment_reminder"


class ChannelSender:
    """Sends each notification on one channel through ``channel_notifier``.

    ``channels`` maps every configured channel to whether it needs an address (for
    the reminder preference: a reminder goes on the first preferred channel the
    recipient is reachable on)."""

    def __init__(
        self,
        storage: Storage,
        renderer: MessageRenderer,
        contacts: ContactDirectory,
        channel_notifier: ChannelNotifier,
        channels: Mapping[str, bool],
    ) -> None:
        self._storage = storage
        self._renderer = renderer
        self._contacts = contacts
        self._notifier = channel_notifier
        self._channels = dict(channels)
        self.channel = channel_notifier.channel

    def send(self, notification: Notification) -> None:
        with self._storage.unit_of_work() as uow:
            resolved = resolve(uow, notification)
            policy = None
            if resolved is not None and notification.kind == REMINDER:
                policy = uow.reminders.policy(resolved.organisation_id)
        if resolved is None:
            self._skip(notification, "its appointment is gone")
            return
        address = self._address(resolved, self.channel)
        if address is None and self._notifier.requires_address:
            self._skip(notification, "the recipient has no address on this channel")
            return
        if policy is not None and not self._preferred(policy, resolved):
            self._skip(notification, "reminders go on a preferred channel")
            return
        rendered = self._renderer.render(resolved.context, self.channel)
        self._notifier.deliver(
            OutboundMessage(
                channel=self.channel, context=resolved.context, rendered=rendered, address=address
            )
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "delivered %s on %s",
                notification.kind,
                self.channel,
                extra=_ids(notification) | {"channel": self.channel, "locale": rendered.locale},
            )

    def _address(self, resolved: Resolved, channel: str) -> str | None:
        n = resolved.context.notification
        return self._contacts.address(
            n.recipient_role, n.recipient_id, resolved.contact_ref, channel
        )

    def _preferred(self, policy: ReminderPolicy, resolved: Resolved) -> bool:
        def reachable(channel: str) -> bool:
            if channel not in self._channels:
                return False
            return not self._channels[channel] or self._address(resolved, channel) is not None

        return policy.channel_for(self.channel, reachable)

    def _skip(self, notification: Notification, why: str) -> None:
        log.info(
            "%s not sent on %s: %s",
            notification.kind,
            self.channel,
            why,
            extra=_ids(notification) | {"channel": self.channel},
        )


def _ids(notification: Notification) -> dict[str, str]:
    return {
        "event_id": str(notification.event_id),
        "appointment_id": str(notification.appointment_id),
        "recipient_role": notification.recipient_role,
        "kind": notification.kind,
    }
