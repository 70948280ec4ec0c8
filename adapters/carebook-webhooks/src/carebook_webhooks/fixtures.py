"""Fixtures for the carebook-webhooks tests (a pytest plugin: a test module names it in
``pytest_plugins``): a verifying receiver on pytest-httpserver,
a recorded (instant) sleep, and a factory of notifiers aimed at the receiver."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from carebook_webhooks import WebhookNotifier, WebhookSettings, generate_secret
from carebook_webhooks.testing import SleepRecorder, WebhookReceiver

MakeNotifier = Callable[..., WebhookNotifier]


@pytest.fixture
def secret() -> str:
    return generate_secret()


@pytest.fixture
def receiver(httpserver: HTTPServer, secret: str) -> WebhookReceiver:
    return WebhookReceiver(httpserver, secret)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def make_notifier(receiver: WebhookReceiver, sleeps: SleepRecorder) -> MakeNotifier:
    """``make_notifier(**settings)``: a notifier posting to the receiver (its URL and
    secret unless overridden) whose backoff sleeps are recorded in ``sleeps``."""

    def make(**overrides: Any) -> WebhookNotifier:
        options: dict[str, Any] = {"url": receiver.url, "secret": receiver.secret}
        options.update(overrides)
        return WebhookNotifier(WebhookSettings(**options), sleep=sleeps)

    return make


@pytest.fixture
def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
