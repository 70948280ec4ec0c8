"""TwilioNotifier passes carebook's ChannelNotifierContract against the stand-in Twilio."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from carebook.ports import ChannelNotifier
from carebook.testing.contracts.channel import ChannelNotifierContract
from carebook_twilio import TwilioNotifier, TwilioSettings
from carebook_twilio.testing import SENDER, TwilioStandIn

pytest_plugins = ["carebook_twilio.fixtures"]


class TestTwilioNotifier(ChannelNotifierContract):
    _standins: dict[int, TwilioStandIn]

    @pytest.fixture
    def channel_notifier(
        self, twilio_standin: TwilioStandIn, make_twilio_notifier: Callable[..., TwilioNotifier]
    ) -> ChannelNotifier:
        notifier = make_twilio_notifier()
        self._standins = {id(notifier): twilio_standin}
        return notifier

    @pytest.fixture
    def broken_channel_notifier(
        self, twilio_closed_port_url: str, twilio_account_sid: str, twilio_auth_token: str
    ) -> ChannelNotifier:
        settings = TwilioSettings(
            account_sid=twilio_account_sid,
            auth_token=twilio_auth_token,
            from_number=SENDER,
            base_url=twilio_closed_port_url,
            retries=1,
        )
        return TwilioNotifier(settings, sleep=lambda _: None)

    @pytest.fixture
    def address(self) -> str:
        return "+4915112345678"

    def received(self, channel_notifier: ChannelNotifier) -> list[str]:
        standin = self._standins[id(channel_notifier)]
        refused = [r.status for r in standin.requests if not r.ok]
        assert refused == [], "every request the notifier sent must be one Twilio accepts"
        return standin.texts()
