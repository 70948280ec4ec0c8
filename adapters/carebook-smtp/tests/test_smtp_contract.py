"""carebook-smtp passes the channel notifier contract against a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from carebook.ports import ChannelNotifier
from carebook.testing.contracts import ChannelNotifierContract
from carebook_smtp import SmtpNotifier, SmtpSettings
from carebook_smtp.testing import Received, SmtpTestServer, free_port


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


def _text(raw: bytes) -> str:
    """A received message as a reader sees it: headers, and every text part decoded."""
    message = Received("", (), raw).message
    parts = [str(message.items())]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(str(part.get_content()))
    return "\n".join(parts)


class TestSmtpNotifier(ChannelNotifierContract):
    @pytest.fixture
    def channel_notifier(self, smtp_server: SmtpTestServer) -> ChannelNotifier:
        smtp_server.clear()
        self._server = smtp_server
        return SmtpNotifier(SmtpSettings(**smtp_server.options(sender="desk@clinic.test")))

    @pytest.fixture
    def broken_channel_notifier(self) -> ChannelNotifier:
        # Nothing listens on that port: every delivery meets a refused connection.
        return SmtpNotifier(
            SmtpSettings(
                host="127.0.0.1",
                port=free_port(),
                security="none",
                sender="desk@clinic.test",
                timeout=2,
            )
        )

    @pytest.fixture
    def address(self) -> str:
        return "ana.patient@example.test"

    def received(self, channel_notifier: ChannelNotifier) -> list[str]:
        return [_text(r.content) for r in self._server.mailbox]
