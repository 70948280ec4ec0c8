"""The ChannelNotifier contract: ``deliver`` puts a rendered message on its channel,
tolerates a repeated delivery (same ``idempotency_key``), raises on a channel that
fails, and keeps what the recipient reads (the address, the text) out of logs and
exception messages.

An adapter's test class overrides three fixtures and one method::

    class TestSmtpNotifier(ChannelNotifierContract):
        @pytest.fixture
        def channel_notifier(self, smtp_server) -> ChannelNotifier: ...   # a working one
        @pytest.fixture
        def broken_channel_notifier(self) -> ChannelNotifier: ...         # one that fails
        @pytest.fixture
        def address(self) -> str: ...                                     # a valid address
        def received(self, channel_notifier) -> list[str]: ...            # what arrived

``received`` returns, for each message the stand-in server got so far, its full text
(headers and body as received, decoded); the suite looks for the markers it planted.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import ClassVar

import pendulum
import pytest

from carebook.domain.messaging import MessageContext, OutboundMessage, RenderedMessage
from carebook.ports import ChannelNotifier
from carebook.testing.contracts.notifier import SENTINEL, make_notification

__all__ = ["ChannelNotifierContract", "make_outbound"]

KINDS = (
    "appointment_booked",
    "appointment_cancelled",
    "appointment_rescheduled",
    "appointment_reminder",
)


def make_outbound(
    channel: str,
    address: str | None,
    *,
    kind: str = "appointment_booked",
    text: str = "Your visit",
    locale: str = "en",
) -> OutboundMessage:
    """A rendered message about a visit tomorrow at 10:00 Berlin time (fresh ids)."""
    start = pendulum.now("UTC").add(days=1).set(hour=9, minute=0, second=0, microsecond=0)
    context = MessageContext(
        notification=make_notification(kind, locale=locale),
        locale=locale,
        timezone="Europe/Berlin",
        organisation_name="Contract Clinic",
        location_name="Contract Office",
        practitioner_name="Dr. Contract",
        service_name="Check-up",
        start=start,
        end=start.add(minutes=30),
    )
    rendered = RenderedMessage(
        locale=locale, subject=f"{kind} subject", text=text, html=f"<p>{text}</p>"
    )
    return OutboundMessage(channel=channel, context=context, rendered=rendered, address=address)


class ChannelNotifierContract:
    """Every ChannelNotifier adapter passes these tests (see the module docstring)."""

    sentinel: ClassVar[str] = SENTINEL

    @pytest.fixture
    def channel_notifier(self) -> ChannelNotifier:
        raise NotImplementedError("override the 'channel_notifier' fixture")

    @pytest.fixture
    def broken_channel_notifier(self) -> ChannelNotifier:
        raise NotImplementedError("override the 'broken_channel_notifier' fixture")

    @pytest.fixture
    def address(self) -> str:
        raise NotImplementedError("override the 'address' fixture")

    def received(self, channel_notifier: ChannelNotifier) -> list[str]:
        raise NotImplementedError("override 'received'")

    def test_satisfies_the_channel_notifier_protocol(
        self, channel_notifier: ChannelNotifier
    ) -> None:
        assert isinstance(channel_notifier, ChannelNotifier)
        assert isinstance(channel_notifier.channel, str) and channel_notifier.channel
        assert isinstance(channel_notifier.requires_address, bool)

    @pytest.mark.parametrize("kind", KINDS)
    def test_a_delivered_message_arrives_with_its_text(
        self, channel_notifier: ChannelNotifier, address: str, kind: str
    ) -> None:
        marker = f"marker-{uuid.uuid4().hex}"
        before = len(self.received(channel_notifier))
        channel_notifier.deliver(
            make_outbound(channel_notifier.channel, address, kind=kind, text=marker)
        )
        arrived = self.received(channel_notifier)[before:]
        assert len(arrived) == 1
        assert marker in arrived[0]

    def test_a_repeated_delivery_does_not_raise(
        self, channel_notifier: ChannelNotifier, address: str
    ) -> None:
        message = make_outbound(channel_notifier.channel, address)
        channel_notifier.deliver(message)
        channel_notifier.deliver(message)
        assert 1 <= len(self.received(channel_notifier)) <= 2

    def test_a_failing_channel_raises_without_the_address_or_text(
        self, broken_channel_notifier: ChannelNotifier, address: str
    ) -> None:
        planted = f"{self.sentinel}-{address}"
        message = make_outbound(broken_channel_notifier.channel, address, text=planted)
        with pytest.raises(Exception) as failed:
            broken_channel_notifier.deliver(message)
        assert self.sentinel not in str(failed.value)
        assert address not in str(failed.value)

    def test_no_log_record_carries_the_address_or_the_text(
        self,
        channel_notifier: ChannelNotifier,
        broken_channel_notifier: ChannelNotifier,
        address: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        for notifier in (channel_notifier, broken_channel_notifier):
            message = make_outbound(notifier.channel, address, text=self.sentinel)
            with contextlib.suppress(Exception):  # the broken one fails; only logs matter
                notifier.deliver(message)
        for record in caplog.records:
            text = record.getMessage() + repr(vars(record))
            assert self.sentinel not in text
            assert address not in text
