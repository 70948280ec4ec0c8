"""SmtpServerProcess: the test server in a child process, read back from its folder."""

from __future__ import annotations

import smtplib

from carebook.testing.contracts.channel import make_outbound
from carebook_smtp import SmtpNotifier, SmtpSettings
from carebook_smtp.testing import SmtpServerProcess


def test_messages_sent_to_the_child_are_read_back_byte_for_byte() -> None:
    with SmtpServerProcess() as server:
        notifier = SmtpNotifier(SmtpSettings(**server.options(sender="desk@example.test")))
        notifier.deliver(make_outbound("email", "ana@example.test", text="Hello Ana"))
        raw = b"Subject: plain\r\n\r\nbody\r\n"
        with smtplib.SMTP(server.host, server.port, timeout=10) as client:
            client.sendmail("x@example.test", ["y@example.test", "z@example.test"], raw)
        notifier.close()
        assert server.count() == 2
        first, second = server.mailbox
        assert (first.mail_from, first.rcpt_tos) == ("desk@example.test", ("ana@example.test",))
        assert "Hello Ana" in first.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert second.rcpt_tos == ("y@example.test", "z@example.test")
        assert second.content == b"Subject: plain\r\n\r\nbody\r\n"
        server.clear()
        assert server.count() == 0 and server.mailbox == []
        folder = server.folder
    assert not folder.exists()  # stopped and cleaned up
