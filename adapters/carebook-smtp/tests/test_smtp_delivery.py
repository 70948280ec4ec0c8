"""Real SMTP sessions: STARTTLS and login, servers that refuse, defer, stall or drop,
and a connection the server closed while it was idle. A failure is an AdapterError
with the reply code, never the address the server quoted back."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from carebook.errors import AdapterError
from carebook.testing.contracts.channel import make_outbound
from carebook_smtp import SmtpNotifier, SmtpSettings
from carebook_smtp.testing import SmtpTestServer

ADDRESS = "ana.patient@example.test"


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture(scope="module")
def tls_server() -> Iterator[SmtpTestServer]:
    """STARTTLS required, and a login (desk / s3cret-pass) over it."""
    with SmtpTestServer(users={"desk": "s3cret-pass"}, stall_seconds=2.0) as server:
        yield server


@pytest.fixture(autouse=True)
def _calm(smtp_server: SmtpTestServer) -> Iterator[None]:
    yield
    smtp_server.calm()  # no trouble left queued for the next test


def _notifier(server: SmtpTestServer, **extra: object) -> SmtpNotifier:
    return SmtpNotifier(SmtpSettings(**server.options(sender="desk@clinic.test", **extra)))


def test_starttls_and_login_deliver(tls_server: SmtpTestServer) -> None:
    tls_server.clear()
    notifier = _notifier(tls_server, username="desk", password="s3cret-pass")
    notifier.deliver(make_outbound("email", ADDRESS, text="over TLS"))
    notifier.deliver(make_outbound("email", ADDRESS, text="same connection"))
    assert [r.rcpt_tos for r in tls_server.mailbox] == [(ADDRESS,), (ADDRESS,)]
    notifier.close()


def test_a_wrong_password_is_refused_without_the_password(tls_server: SmtpTestServer) -> None:
    notifier = _notifier(tls_server, username="desk", password="wrong-pass-123")
    with pytest.raises(AdapterError) as failed:
        notifier.deliver(make_outbound("email", ADDRESS))
    assert str(failed.value) == "smtp server refused the login (reply 535)"


def test_an_untrusted_certificate_is_refused(tls_server: SmtpTestServer) -> None:
    options = tls_server.options(sender="desk@clinic.test", username="desk", password="x")
    del options["ca_file"]  # the system's trust store only: the test CA is not in it
    notifier = SmtpNotifier(SmtpSettings(**options))
    with pytest.raises(AdapterError, match="TLS failed"):
        notifier.deliver(make_outbound("email", ADDRESS))


def test_starttls_is_never_quietly_skipped(smtp_server: SmtpTestServer) -> None:
    # This server offers no STARTTLS; security "starttls" must not send in the clear.
    smtp_server.clear()
    notifier = _notifier(smtp_server, security="starttls")
    with pytest.raises(AdapterError, match="does not offer STARTTLS"):
        notifier.deliver(make_outbound("email", ADDRESS))
    assert smtp_server.mailbox == []


@pytest.mark.parametrize(
    ("trouble", "said"),
    [
        ("refuse", "smtp server refused the recipient (reply 550)"),
        ("defer", "smtp server refused the recipient (reply 451)"),
        ("drop", "smtp server closed the connection"),
    ],
)
def test_a_misbehaving_server_fails_the_delivery_and_the_next_one_goes_through(
    smtp_server: SmtpTestServer, trouble: str, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    smtp_server.clear()
    notifier = _notifier(smtp_server)
    smtp_server.misbehave(trouble)
    with pytest.raises(AdapterError) as failed:
        notifier.deliver(make_outbound("email", ADDRESS, text="first try"))
    assert str(failed.value) == said
    assert failed.value.__cause__ is None and failed.value.__suppress_context__
    assert smtp_server.mailbox == []
    notifier.deliver(make_outbound("email", ADDRESS, text="second try"))
    assert len(smtp_server.mailbox) == 1
    assert all(ADDRESS not in r.getMessage() + repr(vars(r)) for r in caplog.records)
    notifier.close()


def test_a_stalled_server_times_out(tls_server: SmtpTestServer) -> None:
    tls_server.clear()
    notifier = _notifier(tls_server, username="desk", password="s3cret-pass", timeout=0.5)
    tls_server.misbehave("stall")  # the server waits 2 s before its reply to DATA
    with pytest.raises(AdapterError, match="timed out"):
        notifier.deliver(make_outbound("email", ADDRESS))
    notifier.deliver(make_outbound("email", ADDRESS))  # a fresh connection
    assert len(tls_server.mailbox) == 1
    notifier.close()


def test_a_connection_the_server_closed_is_opened_again() -> None:
    with SmtpTestServer() as first:
        notifier = _notifier(first)
        notifier.deliver(make_outbound("email", ADDRESS))
        port = first.port
    # The server went away (a restart, an idle timeout) with the connection open.
    with SmtpTestServer(port=port) as second:
        notifier.deliver(make_outbound("email", ADDRESS))
        assert len(second.mailbox) == 1
    notifier.close()


def test_a_message_without_an_address_is_refused(smtp_server: SmtpTestServer) -> None:
    with pytest.raises(AdapterError, match="no address"):
        _notifier(smtp_server).deliver(make_outbound("email", None))
