"""Storage contract: per-consumer delivery states (``uow.deliveries``), deferred outbox
events (``uow.outbox.due``/``defer``) and the list of organisations background work visits
(``uow.calendar.organisation_ids``)."""

from __future__ import annotations

import uuid

import attrs
import pendulum
import pytest

from carebook.domain.delivery import Delivery, DeliveryStatus, RetryPolicy
from carebook.domain.ids import EventId, OrganisationId
from carebook.errors import ConflictError
from carebook.ports import Storage, UnitOfWork
from carebook.testing import builders as b
from carebook.testing.contracts.storage.base import NOW, StorageContractBase

__all__ = ["DeliveryStorageContract"]

POLICY = RetryPolicy(max_attempts=2)
LATER = NOW.add(seconds=90, microseconds=123_457)


def claimed(event_id: EventId, consumer: str, now: pendulum.DateTime = NOW) -> Delivery:
    return Delivery.new(event_id, consumer, now).claimed(now, "claim-1", POLICY)


def dead(event_id: EventId, consumer: str) -> list[Delivery]:
    """Every version of a delivery that fails twice (the last one is dead)."""
    first = claimed(event_id, consumer)
    failed = first.failed(NOW, "claim-1", "E: one", POLICY, 0.5)
    second = failed.claimed(LATER, "claim-2", POLICY)
    return [first, failed, second, second.failed(LATER, "claim-2", "E: two", POLICY, 0.5)]


class DeliveryStorageContract(StorageContractBase):
    """Delivery states round-trip exactly, are versioned, and list dead letters in order;
    the outbox defers events to the microsecond; organisations are listed in id order."""

    @staticmethod
    def put(storage: Storage, *deliveries: Delivery) -> None:
        with storage.unit_of_work(write=True) as uow:
            uow.deliveries.put(deliveries)
            uow.commit()

    @staticmethod
    def states(storage: Storage, *event_ids: EventId) -> dict[tuple[EventId, str], Delivery]:
        with storage.unit_of_work() as uow:
            return {(d.event_id, d.consumer): d for d in uow.deliveries.for_events(event_ids)}

    # -- deliveries ----------------------------------------------------------------------
    def test_a_delivery_reads_back_equal_in_every_state(self, storage: Storage) -> None:
        event_id = EventId(uuid.uuid4())
        first = claimed(event_id, "publisher", LATER)
        self.put(storage, first)
        assert self.states(storage, event_id) == {(event_id, "publisher"): first}
        failed = first.failed(LATER, "claim-1", "RuntimeError: down <email>", POLICY, 0.25)
        self.put(storage, failed)
        assert self.states(storage, event_id)[event_id, "publisher"] == failed
        assert failed.next_attempt_at == LATER.add(seconds=18, microseconds=750_000)
        retry_at = failed.next_attempt_at
        again = failed.claimed(retry_at, "claim-2", POLICY)
        done = again.succeeded(retry_at)
        self.put(storage, again)
        self.put(storage, done)
        assert self.states(storage, event_id) == {(event_id, "publisher"): done}
        assert done.status is DeliveryStatus.DELIVERED

    def test_for_events_returns_only_the_deliveries_of_those_events(self, storage: Storage) -> None:
        one, two, other = (EventId(uuid.uuid4()) for _ in range(3))
        rows = [
            claimed(one, "publisher"),
            claimed(one, "subscriber:sagas"),
            claimed(two, "publisher"),
            claimed(other, "publisher"),
        ]
        self.put(storage, *rows)
        assert set(self.states(storage, one, two)) == {
            (one, "publisher"),
            (one, "subscriber:sagas"),
            (two, "publisher"),
        }
        assert self.states(storage) == {}

    def test_a_stale_or_repeated_delivery_is_a_conflict_and_changes_nothing(
        self, storage: Storage
    ) -> None:
        event_id = EventId(uuid.uuid4())
        first = claimed(event_id, "publisher")
        self.put(storage, first)
        with pytest.raises(ConflictError):
            self.put(storage, claimed(event_id, "publisher"))  # a second insert
        done = first.succeeded(NOW)
        self.put(storage, done)
        with pytest.raises(ConflictError):  # built on version 1, stored is 2
            self.put(storage, first.failed(NOW, "claim-1", "E", POLICY, 0.0))
        assert self.states(storage, event_id) == {(event_id, "publisher"): done}

    def test_a_large_batch_of_new_and_moved_deliveries_is_stored_whole(
        self, storage: Storage
    ) -> None:
        events = [EventId(uuid.uuid4()) for _ in range(130)]
        firsts = [claimed(e, c) for e in events for c in ("publisher", "notifier:x")]
        self.put(storage, *firsts[:60])
        # one batch: 200 new rows and 60 moved ones (more than one statement's worth)
        moved = [d.succeeded(LATER) for d in firsts[:60]]
        self.put(storage, *firsts[60:], *moved)
        stored = self.states(storage, *events)
        assert len(stored) == 260
        assert [stored[d.event_id, d.consumer] for d in moved] == moved
        assert [stored[d.event_id, d.consumer] for d in firsts[60:]] == firsts[60:]

    def test_one_stale_delivery_in_a_batch_is_a_conflict_and_the_batch_changes_nothing(
        self, storage: Storage
    ) -> None:
        events = [EventId(uuid.uuid4()) for _ in range(150)]
        firsts = [claimed(e, "publisher") for e in events]
        self.put(storage, *firsts)
        before = self.states(storage, *events)
        stale = firsts[120].failed(NOW, "claim-1", "E", POLICY, 0.0)
        self.put(storage, stale)  # another dispatcher moved this one
        after_other = self.states(storage, *events)
        batch = [d.succeeded(LATER) for d in firsts]  # built on what was read first
        with pytest.raises(ConflictError):
            self.put(storage, *batch, claimed(EventId(uuid.uuid4()), "publisher"))
        assert self.states(storage, *events) == after_other
        assert after_other == {**before, (events[120], "publisher"): stale}

    def test_an_uncommitted_delivery_is_forgotten_and_a_unit_of_work_sees_its_own(
        self, storage: Storage
    ) -> None:
        event_id = EventId(uuid.uuid4())
        with storage.unit_of_work(write=True) as uow:
            uow.deliveries.put([claimed(event_id, "publisher")])
            assert [d.consumer for d in uow.deliveries.for_events([event_id])] == ["publisher"]
        assert self.states(storage, event_id) == {}

    def test_dead_letters_are_listed_in_key_order_a_page_at_a_time(self, storage: Storage) -> None:
        ids = sorted((EventId(uuid.uuid4()) for _ in range(3)), key=str)
        chains = [dead(ids[0], "notifier:b"), dead(ids[0], "publisher"), dead(ids[2], "a")]
        for step in zip(*chains, strict=True):
            self.put(storage, *step)
        letters = [chain[-1] for chain in chains]
        done = claimed(ids[2], "b")
        self.put(storage, claimed(ids[1], "publisher"), done)
        self.put(storage, done.succeeded(NOW))

        def read(uow: UnitOfWork) -> list[Delivery]:
            return uow.deliveries.dead(10)

        assert self.read(storage, read) == letters
        with storage.unit_of_work() as uow:
            assert uow.deliveries.dead(2) == letters[:2]
            assert uow.deliveries.dead(2, after=(ids[0], "publisher")) == letters[2:]
            assert uow.deliveries.dead(2, after=(ids[2], "a")) == []
        assert all(d.last_error == "E: two" and d.attempts == 2 for d in letters)

    # -- the outbox's schedule -----------------------------------------------------------
    def test_a_deferred_event_is_due_again_at_its_time_to_the_microsecond(
        self, storage: Storage
    ) -> None:
        events = b.one_event_of_each_type()[:3]
        self.append(storage, *events)
        with storage.unit_of_work(write=True) as uow:
            uow.outbox.defer(events[0].event_id, LATER)
            uow.commit()

        def due(now: pendulum.DateTime, limit: int = 100) -> list[EventId]:
            with storage.unit_of_work() as uow:
                return [e.event_id for e in uow.outbox.due(now, limit)]

        ids = [e.event_id for e in events]
        assert due(NOW) == ids[1:], "a deferred event does not hold back later ones"
        assert due(NOW, limit=1) == ids[1:2]
        assert due(LATER.subtract(microseconds=1)) == ids[1:]
        assert due(LATER) == ids
        assert self.pending(storage) == events, "deferred events are still pending"
        with storage.unit_of_work(write=True) as uow:
            uow.outbox.mark_dispatched([ids[0]])
            uow.commit()
        assert due(LATER) == ids[1:]

    def test_an_uncommitted_deferral_changes_nothing(self, storage: Storage) -> None:
        (event,) = b.one_event_of_each_type()[:1]
        self.append(storage, event)
        with storage.unit_of_work(write=True) as uow:
            uow.outbox.defer(event.event_id, LATER)
        with storage.unit_of_work() as uow:
            assert uow.outbox.due(NOW) == [event]

    def test_reopened_events_are_pending_again_in_their_place_and_due_at_their_time(
        self, storage: Storage
    ) -> None:
        events = b.one_event_of_each_type()[:3]
        self.append(storage, *events)
        ids = [e.event_id for e in events]
        with storage.unit_of_work(write=True) as uow:
            uow.outbox.mark_dispatched(ids[:2])
            uow.commit()
        assert self.pending(storage) == events[2:]
        with storage.unit_of_work(write=True) as uow:
            uow.outbox.reopen([ids[0], EventId(uuid.uuid4())], LATER)
            uow.commit()
        assert self.pending(storage) == [events[0], events[2]]
        with storage.unit_of_work() as uow:
            assert uow.outbox.due(NOW) == [events[2]]
            assert uow.outbox.due(LATER) == [events[0], events[2]]

    # -- organisations ---------------------------------------------------------------------
    def test_organisation_ids_lists_every_organisation_in_id_order_a_page_at_a_time(
        self, storage: Storage
    ) -> None:
        orgs = [b.organisation(name=f"Clinic {n}") for n in range(5)]
        with storage.unit_of_work(write=True) as uow:
            for org in orgs:
                uow.calendar.save_organisation(org)
            assert len(uow.calendar.organisation_ids()) == 5, "a unit of work sees its own"
            uow.commit()
        ordered = sorted(org.id for org in orgs)
        with storage.unit_of_work() as uow:
            assert uow.calendar.organisation_ids() == ordered
            assert uow.calendar.organisation_ids(limit=2) == ordered[:2]
            assert uow.calendar.organisation_ids(after=ordered[1], limit=2) == ordered[2:4]
            assert uow.calendar.organisation_ids(after=ordered[4]) == []
            assert uow.calendar.organisation_ids(after=OrganisationId(uuid.UUID(int=0))) == (
                ordered
            )

    def test_saving_an_organisation_again_lists_it_once(self, storage: Storage) -> None:
        org = b.organisation()
        for name in ("First", "Renamed"):
            with storage.unit_of_work(write=True) as uow:
                uow.calendar.save_organisation(attrs.evolve(org, name=name))
                uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.calendar.organisation_ids() == [org.id]
