"""Notifiers that need nothing outside the process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from carebook.domain.notifications import Notification
from carebook.errors import ConfigurationError

__all__ = ["LoggingNotifier", "RecordingNotifier"]


class RecordingNotifier:
    """Keeps every notification in ``sent`` (in order), for tests and demos."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        with self._lock:
            self.sent.append(notification)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> RecordingNotifier:
        if options:
            raise ConfigurationError(f"recording notifier takes no options, got {sorted(options)}")
        return cls()


class LoggingNotifier:
    """Writes one log line per notification: kind, role and ids, never patient data."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("carebook.notify")

    def send(self, notification: Notification) -> None:
        self.logger.info(
            "notify kind=%s to=%s:%s appointment=%s event=%s",
            notification.kind,
            notification.recipient_role,
            notification.recipient_id,
            notification.appointment_id,
            notification.event_id,
            extra={
                "correlation_id": notification.correlation_id,
                "event_id": str(notification.event_id),
                "appointment_id": str(notification.appointment_id),
                "idempotency_key": notification.idempotency_key,
            },
        )

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> LoggingNotifier:
        name = options.get("logger", "carebook.notify")
        if not isinstance(name, str):
            raise ConfigurationError("logging notifier option 'logger' must be a logger name")
        return cls(logging.getLogger(name))
