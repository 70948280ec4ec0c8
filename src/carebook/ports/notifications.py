"""The ports that tell the world: :class:`Notifier` sends a
:class:`~carebook.domain.notifications.Notification` (ids only), :class:`EventPublisher`
hands on committed events.

Implementations run :class:`carebook.testing.contracts.NotifierContract` and
:class:`carebook.testing.contracts.PublisherContract`, and translate their own failures
into :class:`carebook.errors.AdapterError`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from carebook.domain.events import Event
from carebook.domain.notifications import Notification

__all__ = ["EventPublisher", "Notifier"]


@runtime_checkable
class Notifier(Protocol):
    def send(self, notification: Notification) -> None: ...


@runtime_checkable
class EventPublisher(Protocol):
    """Hands committed events to the world (in process, or a broker relay)."""

    def publish(self, event: Event) -> None: ...
