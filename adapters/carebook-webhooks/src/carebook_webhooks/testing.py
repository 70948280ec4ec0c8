"""A verifying webhook receiver for tests, on top of ``pytest-httpserver``.

:class:`WebhookReceiver` registers a handler on an
:class:`~pytest_httpserver.HTTPServer` that checks every request's signature with
``standardwebhooks`` (``Webhook(secret).verify(body, headers)``), answers 401 to a bad
one, and records what it got. It can be told to fail the next N requests with a 503 (or
another status), or every request, to exercise retries::

    @pytest.fixture
    def receiver(httpserver: HTTPServer) -> WebhookReceiver:
        return WebhookReceiver(httpserver, generate_secret())

    def test_delivery(receiver: WebhookReceiver) -> None:
        notifier = WebhookNotifier(WebhookSettings(url=receiver.url, secret=receiver.secret))
        ...
        assert receiver.payloads[0]["type"] == "appointment_booked"

Needs the ``test`` extra: ``pip install 'carebook-webhooks[test]'``.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import attrs
from attrs import frozen
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug import Request, Response

__all__ = ["DEFAULT_PATH", "ReceivedRequest", "SleepRecorder", "WebhookReceiver"]

DEFAULT_PATH = "/carebook/webhook"


class SleepRecorder(list[float]):
    """Stands in for :func:`time.sleep` (``WebhookNotifier(settings, sleep=...)``): it
    records each backoff delay and returns at once, so retry tests run fast."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@frozen(kw_only=True)
class ReceivedRequest:
    """One request as the receiver saw it, and what it answered."""

    headers: dict[str, str]
    body: bytes = attrs.field(repr=False)
    verified: bool
    status: int
    payload: Any = attrs.field(default=None, repr=False)
    """The parsed JSON body when the signature verified, else None."""

    @property
    def webhook_id(self) -> str | None:
        return self.header("webhook-id")

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    def as_text(self) -> str:
        """The headers and the body, decoded, as one text."""
        lines = [f"{key}: {value}" for key, value in self.headers.items()]
        return "\r\n".join(lines) + "\r\n\r\n" + self.body.decode("utf-8", errors="replace")


class WebhookReceiver:
    """A webhook endpoint at ``url`` that verifies signatures with ``secret``."""

    def __init__(
        self,
        server: HTTPServer,
        secret: str,
        *,
        path: str = DEFAULT_PATH,
        success_status: int = 204,
    ) -> None:
        self._server = server
        self._path = path
        self._secret = secret
        self._webhook = Webhook(secret)
        self._success_status = success_status
        self._lock = threading.Lock()
        self._fail_remaining = 0
        self._fail_status = 503
        self._fail_always: int | None = None
        self._requests: list[ReceivedRequest] = []
        server.expect_request(path, method="POST").respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        return self._server.url_for(self._path)

    @property
    def secret(self) -> str:
        return self._secret

    # --- failure modes -------------------------------------------------------------------

    def fail_next(self, times: int, status: int = 503) -> None:
        """Answer the next ``times`` correctly signed requests with ``status``."""
        with self._lock:
            self._fail_remaining = times
            self._fail_status = status

    def fail_always(self, status: int = 503) -> None:
        """Answer every correctly signed request with ``status`` until :meth:`recover`."""
        with self._lock:
            self._fail_always = status

    def recover(self) -> None:
        """Stop failing: accept every correctly signed request."""
        with self._lock:
            self._fail_always = None
            self._fail_remaining = 0

    # --- what arrived --------------------------------------------------------------------

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request, in order, whatever it was answered."""
        with self._lock:
            return list(self._requests)

    @property
    def accepted(self) -> list[ReceivedRequest]:
        """The requests that verified and were answered with success."""
        return [r for r in self.requests if r.verified and r.status == self._success_status]

    @property
    def rejected(self) -> list[ReceivedRequest]:
        """The requests whose signature did not verify (answered 401)."""
        return [r for r in self.requests if not r.verified]

    @property
    def payloads(self) -> list[Any]:
        """The parsed bodies of the accepted requests."""
        return [r.payload for r in self.accepted]

    def texts(self) -> list[str]:
        """Headers and body of each accepted request, decoded."""
        return [r.as_text() for r in self.accepted]

    # --- the handler ---------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        body = request.get_data(cache=False)
        headers = {key: value for key, value in request.headers.items()}
        try:
            payload = self._webhook.verify(body, headers)
        except (WebhookVerificationError, json.JSONDecodeError):
            return self._record(headers, body, verified=False, status=401)
        with self._lock:
            if self._fail_always is not None:
                status = self._fail_always
            elif self._fail_remaining > 0:
                self._fail_remaining -= 1
                status = self._fail_status
            else:
                status = self._success_status
        return self._record(headers, body, verified=True, status=status, payload=payload)

    def _record(
        self,
        headers: dict[str, str],
        body: bytes,
        *,
        verified: bool,
        status: int,
        payload: Any = None,
    ) -> Response:
        received = ReceivedRequest(
            headers=headers, body=body, verified=verified, status=status, payload=payload
        )
        with self._lock:
            self._requests.append(received)
        return Response(status=status)
