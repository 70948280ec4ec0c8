"""Storage contract: units of work (all or nothing, read-only ones refuse writes) and
concurrent writers."""

from __future__ import annotations

import threading
from collections.abc import Callable

import attrs
import pytest

from carebook.domain.events import Event
from carebook.domain.ids import LocationId, OrganisationId, PatientId
from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.calendar import Organisation, Patient
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.errors import SlotUnavailableError, StorageError
from carebook.ports import Storage, UnitOfWork
from carebook.testing import builders as b
from carebook.testing.builders import SmallClinic
from carebook.testing.contracts.storage.base import NOW, StorageContractBase, at

__all__ = ["TransactionStorageContract"]


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
