"""A stand-in Twilio for tests, on top of ``pytest-httpserver``.

Longer than 400 lines because it is one stand-in of one API: the request checks and
every answer shape (success and each error) sit together so that a reader sees the
whole wire contract the notifier is tested against.

:class:`TwilioStandIn` registers a handler on an :class:`~pytest_httpserver.HTTPServer`
for ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` that answers the way
Twilio's Programmable Messaging API does:

- it checks HTTP Basic auth (the account SID and auth token, or an API key SID and its
  secret) and answers 401 with Twilio's error 20003 otherwise, and 404 (20404) for
  another account's path;
- it parses the form body and refuses, with a 400 and Twilio's error code, a missing or
  invalid ``To`` (21604, 21211: the message quotes the number, as Twilio's does), no
  sender (21603), an empty ``Body`` (21602) or one over 1600 characters (21617);
- it answers a valid request with 201 and a message resource of Twilio's documented
  shape (``sid``, ``account_sid``, ``to``, ``from``, ``body``, ``status`` ``"queued"``,
  or ``"accepted"`` through a Messaging Service, ``num_segments``, ``date_created``,
  ``uri``...);
- it keeps each ``I-Twilio-Idempotency-Token``: a request repeating one answers the
  message already created, and creates none;
- it records every request (:attr:`~TwilioStandIn.requests`) and every message created
  (:attr:`~TwilioStandIn.messages`).

It can fail the next N valid requests (``fail_next(2)``, 503 by default, with Twilio's
error body and an optional ``Retry-After``), all of them (``fail_always()``), or create
the message and still answer an error (``lose_next_answer()``: Twilio acted, the answer
was lost)::

    @pytest.fixture
    def twilio(httpserver: HTTPServer) -> TwilioStandIn:
        return TwilioStandIn(httpserver, account_sid=new_account_sid(), auth_token="...")

    def test_delivery(twilio: TwilioStandIn) -> None:
        notifier = TwilioNotifier(TwilioSettings(**twilio.options(from_number=SENDER)))
        ...
        assert twilio.messages[0]["body"] == "..."

Needs the ``test`` extra: ``pip install 'carebook-twilio[test]'``.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import json
import re
import secrets
import threading
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qsl

import attrs
from attrs import frozen
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from carebook_twilio.notifier import IDEMPOTENCY_HEADER
from carebook_twilio.segments import MAX_BODY_CHARS, count_segments
from carebook_twilio.settings import is_e164

__all__ = [
    "API_VERSION",
    "DEFAULT_ERROR_CODES",
    "SENDER",
    "ReceivedRequest",
    "SleepRecorder",
    "TwilioStandIn",
    "new_account_sid",
    "new_auth_token",
]

API_VERSION: Final = "2010-04-01"
SENDER: Final = "+15005550006"
"""A sender number for tests (Twilio's test credentials take it as a valid From)."""
DEFAULT_ERROR_CODES: Final = {
    400: 21211,
    401: 20003,
    404: 20404,
    429: 20429,
    500: 20500,
    503: 20503,
}
"""The Twilio error code the stand-in puts in an error body it is told to answer,
unless told another."""
_ERROR_MESSAGES: Final = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service is unavailable. Please try again",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}
_PATH: Final = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")


def new_account_sid() -> str:
    """A random account SID of Twilio's shape: ``AC`` + 32 hex digits."""
    return "AC" + secrets.token_hex(16)


def new_auth_token() -> str:
    """A random auth token of Twilio's shape: 32 hex digits."""
    return secrets.token_hex(16)


class SleepRecorder(list[float]):
    """Stands in for :func:`time.sleep` (``TwilioNotifier(settings, sleep=...)``): it
    records each backoff delay and returns at once, so retry tests run fast."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@frozen(kw_only=True)
class ReceivedRequest:
    """One request as the stand-in saw it, and what it answered. Only the path and the
    status show in ``repr``: the rest holds credentials, a number and a text."""

    method: str
    path: str
    headers: dict[str, str] = attrs.field(repr=False)
    body: bytes = attrs.field(repr=False)
    form: dict[str, str] = attrs.field(repr=False)
    status: int
    answer: dict[str, Any] = attrs.field(repr=False)
    """The JSON the stand-in answered (the message resource, or Twilio's error body)."""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    def basic_auth(self) -> tuple[str, str] | None:
        """The Basic-auth user and password the request carried, or None."""
        return _basic_auth(self.header("Authorization"))

    def as_text(self) -> str:
        """The headers and the form fields, decoded, as one text."""
        lines = [f"{key}: {value}" for key, value in self.headers.items()]
        fields = [f"{key}={value}" for key, value in self.form.items()]
        return "\r\n".join(lines) + "\r\n\r\n" + "\n".join(fields)


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if header is None or not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[len("Basic ") :], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def _form(body: bytes) -> dict[str, str] | None:
    """The form fields (the last value of a repeated one), or None if not a form."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        return None
    return dict(pairs)


def _error(code: int | None, status: int, message: str | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "message": message or _ERROR_MESSAGES.get(code or 0, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}" if code else None,
        "status": status,
    }


def _invalid_to(number: str) -> str:
    """Twilio's message for its error 21211. It quotes the number: a client must never
    pass it on (carebook-twilio reads the code only)."""
    return f"The 'To' number {number} is not a valid phone number."


@frozen
class _Failure:
    status: int
    code: int | None
    retry_after: str | None


class TwilioStandIn:
    """Twilio's Messages endpoint for one account, at :attr:`base_url` (see the module
    docstring). ``api_key_sid`` and ``api_key_secret`` add an API key that may
    authenticate as well as the auth token."""

    def __init__(
        self,
        server: HTTPServer,
        *,
        account_sid: str,
        auth_token: str,
        api_key_sid: str | None = None,
        api_key_secret: str | None = None,
    ) -> None:
        self._server = server
        self.account_sid = account_sid
        self._auth_token = auth_token
        self._credentials = {account_sid: auth_token}
        if api_key_sid is not None and api_key_secret is not None:
            self._credentials[api_key_sid] = api_key_secret
        self._lock = threading.Lock()
        self._failures: list[_Failure] = []
        self._fail_always: _Failure | None = None
        self._lose_remaining = 0
        self._lose_status = 502
        self._requests: list[ReceivedRequest] = []
        self._messages: list[dict[str, Any]] = []
        self._by_token: dict[str, dict[str, Any]] = {}
        server.expect_request(_PATH, method="POST").respond_with_handler(self._handle)

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give the notifier: the server's root, no trailing slash."""
        return self._server.url_for("/").rstrip("/")

    @property
    def path(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"

    @property
    def auth_token(self) -> str:
        return self._auth_token

    def options(self, **changes: Any) -> dict[str, Any]:
        """Channel options aimed at this stand-in (account, token, base URL), plus
        ``changes`` (a sender: ``from_number`` or ``messaging_service_sid``)."""
        options: dict[str, Any] = {
            "account_sid": self.account_sid,
            "auth_token": self._auth_token,
            "base_url": self.base_url,
        }
        options.update(changes)
        return options

    # --- failure modes -------------------------------------------------------------------

    def fail_next(
        self,
        times: int,
        status: int = 503,
        *,
        code: int | None = None,
        retry_after: str | int | float | None = None,
    ) -> None:
        """Answer the next ``times`` valid requests with ``status`` and Twilio's error
        body (``code``: :data:`DEFAULT_ERROR_CODES` unless given), with a
        ``Retry-After`` header when ``retry_after`` is given. Queued after any
        failures already planned."""
        failure = self._failure(status, code, retry_after)
        with self._lock:
            self._failures.extend([failure] * times)

    def fail_always(
        self,
        status: int = 503,
        *,
        code: int | None = None,
        retry_after: str | int | float | None = None,
    ) -> None:
        """Answer every valid request with ``status`` until :meth:`recover`."""
        failure = self._failure(status, code, retry_after)
        with self._lock:
            self._fail_always = failure

    def lose_next_answer(self, times: int = 1, status: int = 502) -> None:
        """For the next ``times`` valid requests, create the message and still answer
        ``status``, as when Twilio acted and its answer was lost on the way."""
        with self._lock:
            self._lose_remaining = times
            self._lose_status = status

    def recover(self) -> None:
        """Stop failing: answer every valid request as Twilio would."""
        with self._lock:
            self._failures.clear()
            self._fail_always = None
            self._lose_remaining = 0

    @staticmethod
    def _failure(status: int, code: int | None, retry_after: str | int | float | None) -> _Failure:
        return _Failure(
            status=status,
            code=code if code is not None else DEFAULT_ERROR_CODES.get(status),
            retry_after=None if retry_after is None else str(retry_after),
        )

    # --- what arrived --------------------------------------------------------------------

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request, in order, whatever it was answered."""
        with self._lock:
            return list(self._requests)

    @property
    def accepted(self) -> list[ReceivedRequest]:
        """The requests answered with success (201)."""
        return [r for r in self.requests if r.ok]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The message resources created, in order: one per idempotency token."""
        with self._lock:
            return [dict(m) for m in self._messages]

    def texts(self) -> list[str]:
        """Headers and form fields of each accepted request, decoded."""
        return [r.as_text() for r in self.accepted]

    # --- the handler ---------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        body = request.get_data(cache=False)
        headers = {key: value for key, value in request.headers.items()}
        form = _form(body)

        def answer(
            status: int, document: dict[str, Any], extra: dict[str, str] | None = None
        ) -> Response:
            return self._answer(request, headers, body, form or {}, status, document, extra)

        credentials = _basic_auth(headers.get("Authorization"))
        if credentials is None or self._credentials.get(credentials[0]) != credentials[1]:
            return answer(401, _error(20003, 401))
        match = _PATH.match(request.path)
        if match is None or match.group("account") != self.account_sid:
            return answer(404, _error(20404, 404))
        if form is None:
            return answer(400, _error(21604, 400))
        refusal = self._refusal(form)
        if refusal is not None:
            return answer(400, refusal)
        with self._lock:
            planned = self._planned()
            lose = planned is None and self._lose_remaining > 0
            if lose:
                self._lose_remaining -= 1
        if planned is not None:
            extra = {"Retry-After": planned.retry_after} if planned.retry_after else {}
            document = _error(planned.code, planned.status)
            if planned.code == 21211:  # Twilio's message for it quotes the number
                document["message"] = _invalid_to(form["To"])
            return answer(planned.status, document, extra)
        resource = self._create(form, headers.get(IDEMPOTENCY_HEADER))
        if lose:
            return answer(self._lose_status, _error(None, self._lose_status, "Bad Gateway"))
        return answer(201, resource)

    def _planned(self) -> _Failure | None:
        if self._fail_always is not None:
            return self._fail_always
        if self._failures:
            return self._failures.pop(0)
        return None

    @staticmethod
    def _refusal(form: dict[str, str]) -> dict[str, Any] | None:
        to = form.get("To")
        if not to:
            return _error(21604, 400)
        if not is_e164(to):
            return _error(21211, 400, _invalid_to(to))
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return _error(21603, 400)
        text = form.get("Body", "")
        if not text:
            return _error(21602, 400)
        if len(text) > MAX_BODY_CHARS:
            return _error(21617, 400)
        return None

    def _create(self, form: dict[str, str], token: str | None) -> dict[str, Any]:
        """The message resource for ``form``: a new one, or the one already created
        under the same idempotency token."""
        with self._lock:
            if token is not None and token in self._by_token:
                return dict(self._by_token[token])
            sid = "SM" + secrets.token_hex(16)
            now = email.utils.format_datetime(datetime.now(UTC).replace(microsecond=0))
            uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
            service = form.get("MessagingServiceSid")
            resource: dict[str, Any] = {
                "account_sid": self.account_sid,
                "api_version": API_VERSION,
                "body": form["Body"],
                "date_created": now,
                "date_sent": None,
                "date_updated": now,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": form.get("From"),
                "messaging_service_sid": service,
                "num_media": "0",
                "num_segments": str(count_segments(form["Body"]).segments),
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "status": "accepted" if service and not form.get("From") else "queued",
                "subresource_uris": {"media": f"{uri}/Media.json"},
                "to": form["To"],
                "uri": f"{uri}.json",
            }
            if token is not None:
                self._by_token[token] = resource
            self._messages.append(resource)
            return dict(resource)

    def _answer(
        self,
        request: Request,
        headers: dict[str, str],
        body: bytes,
        form: dict[str, str],
        status: int,
        document: dict[str, Any],
        extra: dict[str, str] | None = None,
    ) -> Response:
        """Record the request with its answer, and build the JSON response."""
        received = ReceivedRequest(
            method=request.method,
            path=request.path,
            headers=headers,
            body=body,
            form=form,
            status=status,
            answer=document,
        )
        with self._lock:
            self._requests.append(received)
        return Response(
            json.dumps(document),
            status=status,
            headers=extra or {},
            content_type="application/json; charset=utf-8",
        )
