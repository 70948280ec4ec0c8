"""A real SMTP server for tests and examples (``aiosmtpd``, from the ``test`` extra).

:class:`SmtpTestServer` listens on loopback in a thread of its own and keeps what it
received (:attr:`SmtpTestServer.mailbox`). It can be told to misbehave for the next
messages: refuse the recipient (``"refuse"``, 550), refuse for now (``"defer"``, 451),
stall past the client's timeout (``"stall"``), or drop the connection in the middle of
the message (``"drop"``). With ``tls=True`` it offers STARTTLS with a certificate from
a throwaway CA (``trustme``), and with ``users`` it requires a login over TLS.

    with SmtpTestServer() as server:
        notifier = SmtpNotifier(SmtpSettings(**server.options(sender="desk@example.test")))
        ...
        (mail,) = server.messages()

:class:`SmtpServerProcess` is the same server in a process of its own, writing each
message to a file, for benchmarks: a client then shares no interpreter (no GIL) with
the server, as with a real relay. It speaks plain SMTP and never misbehaves.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import logging
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from attrs import frozen

__all__ = ["MISBEHAVIOURS", "Received", "SmtpServerProcess", "SmtpTestServer", "free_port"]

MISBEHAVIOURS = ("refuse", "defer", "stall", "drop")


@frozen
class Received:
    """One message as the server got it: the envelope and the raw bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes = attrs.field(repr=False)

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def free_port() -> int:
    """A loopback port nothing listens on (at the time of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _Handler:
    def __init__(self, server: SmtpTestServer) -> None:
        self._server = server

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        trouble = self._server._peek()
        if trouble == "refuse":
            self._server._take()
            # As real servers do: the reply quotes the address (the client must not).
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if trouble == "defer":
            self._server._take()
            return f"451 4.3.0 <{address}>: try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        trouble = self._server._peek()
        if trouble == "stall":
            self._server._take()
            await asyncio.sleep(self._server.stall_seconds)
            return "451 4.3.0 too late"
        if trouble == "drop":
            self._server._take()
            transport = server.transport
            if isinstance(transport, asyncio.WriteTransport):
                transport.abort()
            return "421 4.3.0 gone"
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode()
        self._server._store(
            Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(content))
        )
        return "250 2.0.0 queued"


class _Login:
    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = dict(users)

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if self._users.get(user) == password:
                return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)


class SmtpTestServer:
    """An SMTP server on ``127.0.0.1``; a context manager (started on enter)."""

    def __init__(
        self,
        *,
        tls: bool = False,
        users: Mapping[str, str] | None = None,
        stall_seconds: float = 3.0,
        port: int = 0,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.stall_seconds = stall_seconds
        self._lock = threading.Lock()
        self._mailbox: list[Received] = []
        self._troubles: list[str] = []
        self._folder = tempfile.TemporaryDirectory(prefix="carebook-smtp-")
        self.ca_file: str | None = None
        kwargs: dict[str, Any] = {}
        if tls or users:
            kwargs.update(tls_context=self._tls(), require_starttls=True)
        if users:
            kwargs.update(auth_required=True, authenticator=_Login(users))
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)

    def _tls(self) -> ssl.SSLContext:
        import trustme

        ca = trustme.CA()
        certificate = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(context)
        path = Path(self._folder.name) / "ca.pem"
        ca.cert_pem.write_to_path(str(path))
        self.ca_file = str(path)
        return context

    def options(self, **extra: Any) -> dict[str, Any]:
        """``SmtpSettings`` options that reach this server (plus ``extra``)."""
        options: dict[str, Any] = {"host": self.host, "port": self.port}
        if self.ca_file is None:
            options["security"] = "none"
        else:
            options.update(security="starttls", ca_file=self.ca_file)
        options.update(extra)
        return options

    # -- what arrived --------------------------------------------------------------
    @property
    def mailbox(self) -> list[Received]:
        with self._lock:
            return list(self._mailbox)

    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.mailbox]

    def clear(self) -> None:
        with self._lock:
            self._mailbox.clear()

    # -- misbehaving ---------------------------------------------------------------
    def misbehave(self, *troubles: str) -> None:
        """The next messages meet these troubles, one each, in order."""
        unknown = set(troubles) - set(MISBEHAVIOURS)
        if unknown:
            raise ValueError(f"unknown troubles {sorted(unknown)}; known: {MISBEHAVIOURS}")
        with self._lock:
            self._troubles.extend(troubles)

    def calm(self) -> None:
        """Forget the troubles not met yet: the next messages are accepted."""
        with self._lock:
            self._troubles.clear()

    def _peek(self) -> str | None:
        with self._lock:
            return self._troubles[0] if self._troubles else None

    def _take(self) -> None:
        with self._lock:
            self._troubles.pop(0)

    def _store(self, received: Received) -> None:
        with self._lock:
            self._mailbox.append(received)

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> SmtpTestServer:
        # aiosmtpd's own log quotes every envelope address; a test of what carebook
        # logs must not see the server's lines.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
        self._folder.cleanup()

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class _FolderServer(SmtpTestServer):
    """The server of :class:`SmtpServerProcess`'s child: each message to a file
    (``<n>.eml``: a JSON envelope line, then the raw bytes), written atomically."""

    def __init__(self, folder: Path, port: int) -> None:
        super().__init__(port=port)
        self._target = folder
        self._count = 0

    def _store(self, received: Received) -> None:
        with self._lock:
            self._count += 1
            name = f"{self._count:09d}.eml"
        envelope = json.dumps({"from": received.mail_from, "to": list(received.rcpt_tos)})
        partial = self._target / f".{name}"
        partial.write_bytes(envelope.encode() + b"\n" + received.content)
        os.replace(partial, self._target / name)


def _read(path: Path) -> Received:
    envelope, _, content = path.read_bytes().partition(b"\n")
    fields = json.loads(envelope)
    return Received(fields["from"], tuple(fields["to"]), content)


class SmtpServerProcess:
    """An SMTP server on ``127.0.0.1`` in a child process; a context manager.

    What it receives is read back from its folder: :attr:`mailbox`, :meth:`count`,
    :meth:`clear`. :meth:`options` gives the ``SmtpSettings`` options that reach it."""

    def __init__(self, *, port: int = 0) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._folder = tempfile.TemporaryDirectory(prefix="carebook-smtp-process-")
        self.folder = Path(self._folder.name)
        self._process: subprocess.Popen[bytes] | None = None

    def options(self, **extra: Any) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "security": "none", **extra}

    def start(self) -> SmtpServerProcess:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "carebook_smtp.testing", str(self.folder), str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._process.stdout is not None
        if self._process.stdout.readline().strip() != b"ready":  # b"" if the child died
            self.stop()
            raise RuntimeError("the SMTP server process did not start")
        return self

    def count(self) -> int:
        """How many messages arrived so far."""
        return sum(
            1 for name in os.listdir(self.folder) if name.endswith(".eml") and name[0] != "."
        )

    @property
    def mailbox(self) -> list[Received]:
        names = sorted(n for n in os.listdir(self.folder) if n.endswith(".eml") and n[0] != ".")
        return [_read(self.folder / name) for name in names]

    def clear(self) -> None:
        for name in os.listdir(self.folder):
            if name.endswith(".eml") and name[0] != ".":
                (self.folder / name).unlink()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.stdin is not None:
                process.stdin.close()  # the child's signal to stop
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        self._folder.cleanup()

    def __enter__(self) -> SmtpServerProcess:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _serve(folder: str, port: str) -> None:
    """The child of :class:`SmtpServerProcess`: serve until stdin closes."""
    with _FolderServer(Path(folder), int(port)):
        print("ready", flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    _serve(*sys.argv[1:3])
