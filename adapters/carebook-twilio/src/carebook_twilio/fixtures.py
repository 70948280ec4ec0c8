"""Fixtures for the carebook-twilio tests (a pytest plugin: a test module names it in
``pytest_plugins``): a stand-in Twilio on pytest-httpserver, a recorded (instant) sleep,
and a factory of notifiers aimed at the stand-in.

Every fixture name starts with ``twilio_`` (or is ``make_twilio_notifier``): a plugin's
fixtures are global once loaded, and other adapters' plugins have their own ``sleeps``
and ``make_notifier``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from carebook_twilio import TwilioNotifier, TwilioSettings
from carebook_twilio.testing import (
    SENDER,
    SleepRecorder,
    TwilioStandIn,
    new_account_sid,
    new_auth_token,
)

MakeTwilioNotifier = Callable[..., TwilioNotifier]


@pytest.fixture
def twilio_account_sid() -> str:
    return new_account_sid()


@pytest.fixture
def twilio_auth_token() -> str:
    return new_auth_token()


@pytest.fixture
def twilio_standin(
    httpserver: HTTPServer, twilio_account_sid: str, twilio_auth_token: str
) -> TwilioStandIn:
    return TwilioStandIn(httpserver, account_sid=twilio_account_sid, auth_token=twilio_auth_token)


@pytest.fixture
def twilio_sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def make_twilio_notifier(
    twilio_standin: TwilioStandIn, twilio_sleeps: SleepRecorder
) -> MakeTwilioNotifier:
    """``make_twilio_notifier(**settings)``: a notifier sending from :data:`SENDER`
    through the stand-in (its account, token and base URL unless overridden) whose
    backoff sleeps are recorded in ``twilio_sleeps``. A ``messaging_service_sid`` given
    replaces the sender number."""

    def make(**overrides: Any) -> TwilioNotifier:
        options = twilio_standin.options()
        if "messaging_service_sid" not in overrides:
            options["from_number"] = SENDER
        options.update(overrides)
        return TwilioNotifier(TwilioSettings(**options), sleep=twilio_sleeps)

    return make


@pytest.fixture
def twilio_closed_port_url() -> str:
    """An http base URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
