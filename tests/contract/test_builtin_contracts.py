"""The built-in adapters pass the contract suites of carebook.testing."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import pkgutil
from collections.abc import Iterator

import pendulum
import pytest

from carebook.builtin.clocks import ManualClock, SystemClock
from carebook.builtin.memory import MemoryStorage
from carebook.builtin.notifiers import LoggingNotifier, RecordingNotifier
from carebook.builtin.publishers import InProcessPublisher, RecordingPublisher
from carebook.domain.events import Event
from carebook.errors import ConfigurationError, ValidationError
from carebook.ports import Clock, EventPublisher, Notifier, Storage
from carebook.testing import builders
from carebook.testing.contracts import (
    ClockContract,
    NotifierContract,
    PublisherContract,
    StorageContract,
)
from carebook.testing.contracts import storage as storage_contracts
from carebook.testing.contracts.notifier import SENTINEL, make_notification
from carebook.testing.contracts.storage.base import StorageContractBase

START = pendulum.datetime(2030, 1, 7, 8)


class TestMemoryStorage(StorageContract):
    @pytest.fixture
    def storage(self) -> Iterator[Storage]:
        storage = MemoryStorage()
        yield storage
        storage.close()


def test_the_storage_contract_holds_every_part_of_the_storage_port() -> None:
    """An adapter subclasses StorageContract alone: a part class left out of it would
    silently go untested."""
    parts = [
        cls
        for info in pkgutil.iter_modules(storage_contracts.__path__)
        for cls in vars(
            importlib.import_module(f"{storage_contracts.__name__}.{info.name}")
        ).values()
        if isinstance(cls, type)
        and issubclass(cls, StorageContractBase)
        and any(name.startswith("test_") for name in vars(cls))
    ]
    assert len(parts) >= 7
    assert [cls for cls in parts if not issubclass(StorageContract, cls)] == []


# -- clocks --------------------------------------------------------------------------------


class TestSystemClock(ClockContract):
    @pytest.fixture
    def clock(self) -> Iterator[Clock]:
        yield SystemClock()

    def test_now_is_close_to_the_real_time(self, clock: Clock) -> None:
        assert abs(clock.now() - pendulum.now(pendulum.UTC)) < dt.timedelta(seconds=5)


class TestManualClock(ClockContract):
    @pytest.fixture
    def clock(self) -> Iterator[Clock]:
        yield ManualClock(START)

    def test_now_stays_where_it_was_set(self) -> None:
        clock = ManualClock(START)
        assert clock.now() == START
        assert clock.now() == START

    def test_advance_moves_forward_and_returns_the_new_now(self) -> None:
        clock = ManualClock(START)
        assert clock.advance(hours=1, minutes=30) == START.add(hours=1, minutes=30)
        assert clock.now() == START.add(hours=1, minutes=30)
        assert clock.advance(seconds=0) == START.add(hours=1, minutes=30)

    def test_advance_refuses_to_go_backwards(self) -> None:
        clock = ManualClock(START)
        with pytest.raises(ValidationError):
            clock.advance(minutes=-1)
        assert clock.now() == START

    def test_set_jumps_forward(self) -> None:
        clock = ManualClock(START)
        assert clock.set(START.add(days=3)) == START.add(days=3)
        assert clock.now() == START.add(days=3)

    def test_set_refuses_an_earlier_instant(self) -> None:
        clock = ManualClock(START)
        with pytest.raises(ValidationError):
            clock.set(START.subtract(seconds=1))
        assert clock.now() == START

    def test_naive_datetimes_are_refused(self) -> None:
        with pytest.raises(ValidationError):
            ManualClock(dt.datetime(2030, 1, 7, 8))
        clock = ManualClock(START)
        with pytest.raises(ValidationError):
            clock.set(dt.datetime(2031, 1, 1))
        assert clock.now() == START

    def test_a_start_in_another_zone_is_normalised_to_utc(self) -> None:
        clock = ManualClock(pendulum.datetime(2030, 1, 7, 9, tz="Europe/Berlin"))
        assert clock.now() == START
        assert clock.now().timezone_name == "UTC"

    def test_from_options_parses_an_iso_start(self) -> None:
        assert ManualClock.from_options({"start": "2030-01-07T08:00:00Z"}).now() == START
        with pytest.raises(ConfigurationError):
            ManualClock.from_options({})


# -- notifiers -----------------------------------------------------------------------------


class TestRecordingNotifier(NotifierContract):
    @pytest.fixture
    def notifier(self) -> Iterator[Notifier]:
        yield RecordingNotifier()

    def test_records_notifications_in_order(self) -> None:
        notifier = RecordingNotifier()
        sent = [make_notification(kind) for kind in ("a", "b", "c")]
        for notification in sent:
            notifier.send(notification)
        assert notifier.sent == sent


class TestLoggingNotifier(NotifierContract):
    @pytest.fixture
    def notifier(self) -> Iterator[Notifier]:
        yield LoggingNotifier()

    def test_logs_one_line_with_the_ids_and_no_patient_data(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        clinic = builders.small_clinic(patients=1)
        patient = builders.patient(clinic.organisation, contact_ref=f"tel:+49 {SENTINEL}")
        caplog.set_level(logging.DEBUG)
        notification = make_notification(recipient_id=patient.id)
        LoggingNotifier().send(notification)
        [record] = [r for r in caplog.records if r.name == "carebook.notify"]
        line = record.getMessage()
        for ident in (
            notification.recipient_id,
            notification.appointment_id,
            notification.event_id,
        ):
            assert str(ident) in line
        assert notification.kind in line
        assert SENTINEL not in caplog.text
        assert patient.contact_ref is not None
        assert patient.contact_ref not in caplog.text


# -- publishers ----------------------------------------------------------------------------


class TestRecordingPublisher(PublisherContract):
    @pytest.fixture
    def publisher(self) -> Iterator[EventPublisher]:
        yield RecordingPublisher()

    def test_keeps_published_events_in_order(self) -> None:
        publisher = RecordingPublisher()
        events = builders.one_event_of_each_type()
        for event in events:
            publisher.publish(event)
        assert publisher.published == events


class TestInProcessPublisher(PublisherContract):
    @pytest.fixture
    def publisher(self) -> Iterator[EventPublisher]:
        publisher = InProcessPublisher()
        publisher.subscribe(lambda event: None)
        yield publisher

    def test_publishing_without_subscribers_does_nothing(self) -> None:
        first, second = builders.one_event_of_each_type()[:2]
        publisher = InProcessPublisher()
        publisher.publish(first)  # nobody listens: dropped, not queued
        seen: list[Event] = []
        publisher.subscribe(seen.append)
        publisher.publish(second)
        assert seen == [second]

    def test_calls_each_subscriber_in_subscription_order_for_each_event(self) -> None:
        publisher = InProcessPublisher()
        calls: list[tuple[str, Event]] = []
        publisher.subscribe(lambda event: calls.append(("first", event)))
        publisher.subscribe(lambda event: calls.append(("second", event)))
        events = builders.one_event_of_each_type()[:3]
        for event in events:
            publisher.publish(event)
        assert calls == [(name, e) for e in events for name in ("first", "second")]
