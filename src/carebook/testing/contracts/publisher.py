"""The EventPublisher contract: ``publish`` accepts every domain event type."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from carebook.domain.events import EVENT_TYPES, Event
from carebook.ports import EventPublisher
from carebook.testing.builders import event_of_type, one_event_of_each_type

__all__ = ["PublisherContract"]


class PublisherContract:
    """Every EventPublisher adapter passes these tests; override the ``publisher`` fixture."""

    @pytest.fixture
    def publisher(self) -> Iterator[EventPublisher]:
        """The publisher under test; the adapter's test class overrides this."""
        raise NotImplementedError("override the 'publisher' fixture in your test class")

    def test_publisher_satisfies_the_event_publisher_protocol(
        self, publisher: EventPublisher
    ) -> None:
        assert isinstance(publisher, EventPublisher)

    @pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda cls: cls.__name__)
    def test_publish_accepts_every_event_type(
        self, publisher: EventPublisher, event_type: type[Event]
    ) -> None:
        publisher.publish(event_of_type(event_type))

    def test_publishing_the_same_event_twice_does_not_raise(
        self, publisher: EventPublisher
    ) -> None:
        for event in one_event_of_each_type() * 2:
            publisher.publish(event)
