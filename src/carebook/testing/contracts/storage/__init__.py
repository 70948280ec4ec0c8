"""The Storage contract: every storage adapter subclasses :class:`StorageContract`.

```python
class TestMyStorage(StorageContract):
    @pytest.fixture
    def storage(self, tmp_path) -> Iterator[Storage]:
        storage = MyStorage(path=tmp_path / "carebook.db")
        yield storage
        storage.close()
```

The suite is split by subject: calendar rows
(:mod:`~carebook.testing.contracts.storage.calendar`), appointments and busy time
(:mod:`~carebook.testing.contracts.storage.appointments`), and here units of work,
concurrent writers, the outbox and the inbox.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import attrs
import pytest

from carebook.domain.events import Event
from carebook.domain.ids import EventId, LocationId, OrganisationId, PatientId
from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.calendar import Organisation, Patient
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.errors import SlotUnavailableError, StorageError
from carebook.ports import Storage, UnitOfWork
from carebook.testing import builders as b
from carebook.testing.builders import SmallClinic
from carebook.testing.contracts.storage.appointments import AppointmentStorageContract
from carebook.testing.contracts.storage.calendar import (
    NOW,
    CalendarStorageContract,
    StorageContractBase,
    at,
)

__all__ = ["MessageStorageContract", "StorageContract", "TransactionStorageContract"]


@attrs.frozen(kw_only=True)
class _Fresh:
    """What a read-only unit of work tries to write: new rows, and changes to stored ones."""

    clinic: SmallClinic
    stored: Appointment
    event: Event
    organisation: Organisation
    patient: Patient
    appointment: Appointment

    @classmethod
    def for_clinic(cls, clinic: SmallClinic) -> _Fresh:
        return cls(
            clinic=clinic,
            stored=clinic.appointment(at(9)),
            event=b.one_event_of_each_type()[0],
            organisation=b.organisation(),
            patient=b.patient(clinic.organisation),
            appointment=clinic.appointment(at(14), patient=clinic.patients[1]),
        )


Write = Callable[[UnitOfWork, _Fresh], object]

_READ_ONLY_WRITES: dict[str, Write] = {
    "save_organisation": lambda u, f: u.calendar.save_organisation(f.organisation),
    "save_location": lambda u, f: u.calendar.save_location(
        attrs.evolve(f.clinic.location, name="Changed")
    ),
    "save_practitioner": lambda u, f: u.calendar.save_practitioner(
        attrs.evolve(f.clinic.practitioners[0], name="Changed")
    ),
    "save_service": lambda u, f: u.calendar.save_service(
        attrs.evolve(f.clinic.service, duration=5)
    ),
    "save_resource": lambda u, f: u.calendar.save_resource(
        attrs.evolve(f.clinic.resources[0], name="Changed")
    ),
    "save_patient": lambda u, f: u.patients.save(f.patient),
    "add_appointment": lambda u, f: u.appointments.add(f.appointment, now=NOW),
    "update_appointment": lambda u, f: u.appointments.update(
        attrs.evolve(f.stored, cancel_reason="changed", version=f.stored.version + 1)
    ),
    "outbox_append": lambda u, f: u.outbox.append(b.one_event_of_each_type()),
    "outbox_mark_dispatched": lambda u, f: u.outbox.mark_dispatched([f.event.event_id]),
    "inbox_record": lambda u, f: u.inbox.record("contract", f.event.event_id),
}


class TransactionStorageContract(StorageContractBase):
    """Units of work commit all or nothing, read-only ones refuse writes, writers serialise."""

    # -- units of work ---------------------------------------------------------------
    def test_a_unit_of_work_left_without_commit_changes_nothing(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        org = b.organisation()
        loc = b.location(org)
        patient = b.patient(clinic.organisation)
        appointment = clinic.appointment(at(9), patient=patient)
        event = b.one_event_of_each_type()[0]
        with storage.unit_of_work(write=True) as uow:
            uow.calendar.save_organisation(org)
            uow.calendar.save_location(loc)
            uow.patients.save(patient)
            uow.appointments.add(appointment, now=NOW)
            uow.outbox.append([event])
            assert uow.inbox.record("contract", event.event_id)
        self.assert_nothing_stored(storage, org.id, loc.id, patient.id, appointment)
        with storage.unit_of_work(write=True) as uow:
            assert uow.inbox.record("contract", event.event_id)

    def test_an_exception_in_a_unit_of_work_propagates_and_rolls_back(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        org = b.organisation()
        loc = b.location(org)
        patient = b.patient(clinic.organisation)
        appointment = clinic.appointment(at(9), patient=patient)
        with pytest.raises(RuntimeError, match="boom"), storage.unit_of_work(write=True) as uow:
            uow.calendar.save_organisation(org)
            uow.calendar.save_location(loc)
            uow.patients.save(patient)
            uow.appointments.add(appointment, now=NOW)
            uow.outbox.append(b.one_event_of_each_type())
            raise RuntimeError("boom")
        self.assert_nothing_stored(storage, org.id, loc.id, patient.id, appointment)

    def assert_nothing_stored(
        self,
        storage: Storage,
        org: OrganisationId,
        loc: LocationId,
        patient: PatientId,
        appointment: Appointment,
    ) -> None:
        start, end = appointment.occupied_epochs
        with storage.unit_of_work() as uow:
            assert uow.calendar.get_organisation(org) is None
            assert uow.calendar.get_location(loc) is None
            assert uow.calendar.load(org) is None
            assert uow.patients.get(patient) is None
            assert uow.appointments.get(appointment.id) is None
            assert uow.appointments.for_patient(patient) == []
            assert (
                uow.appointments.busy_intervals(
                    start, end, practitioner_ids=[appointment.practitioner_id], now=NOW
                )
                == []
            )
            assert uow.outbox.pending() == []

    @pytest.mark.parametrize("write", _READ_ONLY_WRITES.values(), ids=_READ_ONLY_WRITES.keys())
    def test_writes_in_a_read_only_unit_of_work_raise_storage_error(
        self, storage: Storage, clinic: SmallClinic, write: Write
    ) -> None:
        fresh = _Fresh.for_clinic(clinic)
        self.add(storage, fresh.stored)
        self.append(storage, fresh.event)
        # The adapter may refuse at the write or at commit; either way nothing changes.
        with pytest.raises(StorageError), storage.unit_of_work() as uow:
            write(uow, fresh)
            uow.commit()
        assert self.stored(storage, fresh.stored.id) == fresh.stored
        assert self.stored(storage, fresh.appointment.id) is None
        assert self.pending(storage) == [fresh.event]
        with storage.unit_of_work() as uow:
            assert uow.calendar.get_organisation(fresh.organisation.id) is None
            assert uow.patients.get(fresh.patient.id) is None
            assert uow.calendar.load(clinic.organisation.id) == ClinicCalendar.build(
                clinic.organisation,
                [clinic.location],
                clinic.practitioners,
                [clinic.service],
                clinic.resources,
            )
        with storage.unit_of_work(write=True) as uow:
            assert uow.inbox.record("contract", fresh.event.event_id) is True

    # -- concurrency -----------------------------------------------------------------
    def test_concurrent_overlapping_adds_let_exactly_one_win(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        attempts = [clinic.appointment(at(9), patient=patient) for patient in clinic.patients]
        barrier = threading.Barrier(len(attempts))
        outcomes: list[str] = []
        lock = threading.Lock()

        def attempt(appointment: Appointment) -> None:
            barrier.wait(timeout=30)
            try:
                self.add(storage, appointment)
                outcome = "booked"
            except SlotUnavailableError:
                outcome = "refused"
            except Exception as exc:  # reported below, not swallowed
                outcome = f"{type(exc).__name__}: {exc}"
            with lock:
                outcomes.append(outcome)

        threads = [threading.Thread(target=attempt, args=(a,), daemon=True) for a in attempts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["booked"] + ["refused"] * (len(attempts) - 1)
        owner = clinic.practitioners[0].id
        busy = self.busy(storage, *attempts[0].occupied_epochs, practitioner_ids=[owner])
        assert len(busy) == 1


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


class StorageContract(
    CalendarStorageContract,
    AppointmentStorageContract,
    TransactionStorageContract,
    MessageStorageContract,
):
    """The whole Storage contract. Override the ``storage`` fixture to yield a fresh,
    empty storage for each test (and close it afterwards)."""
