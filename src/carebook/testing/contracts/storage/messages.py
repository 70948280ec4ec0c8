"""Storage contract: the outbox keeps committed events in order; the inbox remembers
which consumer handled which event."""

from __future__ import annotations

import uuid

from carebook.domain.ids import EventId
from carebook.ports import Storage
from carebook.testing import builders as b
from carebook.testing.contracts.storage.base import NOW, StorageContractBase

__all__ = ["MessageStorageContract"]


class MessageStorageContract(StorageContractBase):
    """The outbox keeps committed events in order; the inbox remembers handled events."""

    # -- outbox ----------------------------------------------------------------------
    def test_outbox_returns_committed_events_oldest_first(self, storage: Storage) -> None:
        first = b.one_event_of_each_type()
        second = b.one_event_of_each_type(NOW.add(minutes=1))
        self.append(storage, *first)
        self.append(storage, *second)
        assert self.pending(storage) == first + second
        assert self.pending(storage, limit=3) == first[:3]

    def test_mark_dispatched_removes_events_from_pending(self, storage: Storage) -> None:
        events = b.one_event_of_each_type()
        self.append(storage, *events)
        with storage.unit_of_work(write=True) as uow:
            uow.outbox.mark_dispatched([events[0].event_id, events[2].event_id])
        assert self.pending(storage) == events, "mark_dispatched without commit changes nothing"
        with storage.unit_of_work(write=True) as uow:
            uow.outbox.mark_dispatched([events[0].event_id, events[2].event_id])
            uow.commit()
        assert self.pending(storage) == [events[1], *events[3:]]

    def test_uncommitted_outbox_events_are_invisible(self, storage: Storage) -> None:
        committed = b.one_event_of_each_type()[:2]
        self.append(storage, *committed)
        with storage.unit_of_work(write=True) as uow:
            uow.outbox.append(b.one_event_of_each_type())
        assert self.pending(storage) == committed

    # -- inbox -----------------------------------------------------------------------
    def test_inbox_records_a_pair_only_once(self, storage: Storage) -> None:
        event_id = EventId(uuid.uuid4())
        with storage.unit_of_work(write=True) as uow:
            assert uow.inbox.record("notifier", event_id) is True
            assert uow.inbox.record("notifier", event_id) is False
            uow.commit()
        with storage.unit_of_work(write=True) as uow:
            assert uow.inbox.record("notifier", event_id) is False
            assert uow.inbox.record("audit", event_id) is True
            assert uow.inbox.record("notifier", EventId(uuid.uuid4())) is True

    def test_an_uncommitted_inbox_record_is_forgotten(self, storage: Storage) -> None:
        event_id = EventId(uuid.uuid4())
        with storage.unit_of_work(write=True) as uow:
            assert uow.inbox.record("notifier", event_id) is True
        with storage.unit_of_work(write=True) as uow:
            assert uow.inbox.record("notifier", event_id) is True
