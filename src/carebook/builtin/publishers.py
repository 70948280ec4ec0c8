"""Event publishers that stay in the process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from carebook.domain.events import Event
from carebook.errors import ConfigurationError

__all__ = ["InProcessPublisher", "RecordingPublisher"]


class InProcessPublisher:
    """Calls each subscriber in turn; a host app subscribes with :meth:`subscribe`."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[Event], None]] = []

    def subscribe(self, handler: Callable[[Event], None]) -> None:
        self._subscribers.append(handler)

    def publish(self, event: Event) -> None:
        for handler in list(self._subscribers):
            handler(event)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> InProcessPublisher:
        if options:
            raise ConfigurationError(
                f"in-process publisher takes no options, got {sorted(options)}"
            )
        return cls()


class RecordingPublisher:
    """Keeps every published event in ``published``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.published: list[Event] = []

    def publish(self, event: Event) -> None:
        with self._lock:
            self.published.append(event)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> RecordingPublisher:
        if options:
            raise ConfigurationError(f"recording publisher takes no options, got {sorted(options)}")
        return cls()
