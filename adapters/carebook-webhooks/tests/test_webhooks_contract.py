"""WebhookNotifier passes carebook's ChannelNotifierContract against a verifying receiver."""

from __future__ import annotations

import pytest

from carebook.ports import ChannelNotifier
from carebook.testing.contracts.channel import ChannelNotifierContract
from carebook_webhooks import WebhookNotifier, WebhookSettings
from carebook_webhooks.testing import WebhookReceiver

pytest_plugins = ["carebook_webhooks.fixtures"]


class TestWebhookNotifier(ChannelNotifierContract):
    _receivers: dict[int, WebhookReceiver]

    @pytest.fixture
    def channel_notifier(self, receiver: WebhookReceiver) -> ChannelNotifier:
        notifier = WebhookNotifier(
            WebhookSettings(url=receiver.url, secret=receiver.secret), sleep=lambda _: None
        )
        self._receivers = {id(notifier): receiver}
        return notifier

    @pytest.fixture
    def broken_channel_notifier(self, closed_port_url: str, secret: str) -> ChannelNotifier:
        return WebhookNotifier(
            WebhookSettings(url=closed_port_url, secret=secret, retries=1), sleep=lambda _: None
        )

    @pytest.fixture
    def address(self) -> str:
        return "ana.patient@example.org"

    def received(self, channel_notifier: ChannelNotifier) -> list[str]:
        receiver = self._receivers[id(channel_notifier)]
        assert not receiver.rejected, "every request the notifier sent must verify"
        return receiver.texts()
