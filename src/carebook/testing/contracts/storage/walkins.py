"""Storage contract, walk-ins part two: queue entries; and the whole walk-in suite.

Settings, duty, learned durations, announced waits and the queue lock are part one,
:mod:`carebook.testing.contracts.storage.walkins_state`.

Part of :class:`~carebook.testing.contracts.storage.StorageContract`, which runs it
with every other part; subclass this class alone to run only this part:

```python
class TestMyWalkIns(WalkInStorageContract):
    @pytest.fixture
    def storage(self) -> Iterator[Storage]:
        ...
```

Every queue entry the tests store points at an appointment stored first, so adapters
with foreign keys pass too.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import attrs
import pytest

from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.calendar import Location, PatientKind
from carebook.domain.walkins.queue import (
    DutyShift,
    QueueEntryId,
    QueueStatus,
)
from carebook.domain.walkins.waittime import DurationStats, PublishedWait
from carebook.errors import ConflictError, StorageError
from carebook.ports import Storage, UnitOfWork
from carebook.testing.builders import SmallClinic
from carebook.testing.contracts.storage.base import NOW, at
from carebook.testing.contracts.storage.walkins_state import (
    WalkInContractBase,
    WalkInStateContract,
    entry_for,
    walkin_settings,
)

__all__ = ["WalkInQueueContract", "WalkInStorageContract", "entry_for"]

Q = QueueStatus


class WalkInQueueContract(WalkInContractBase):
    """Queue entries, one active entry per patient, and all-or-nothing writes."""

    # -- queue entries ----------------------------------------------------------------
    def test_an_entry_reads_back_equal_by_every_key(
        self, storage: Storage, arrived: list[Appointment]
    ) -> None:
        entry = entry_for(arrived[0], idempotency_key="p/check-in/1", kind=PatientKind.RETURNING)
        self.write(storage, lambda u: u.walkins.add_entry(entry))
        with storage.unit_of_work() as uow:
            assert uow.walkins.get_entry(entry.id) == entry
            assert uow.walkins.entry_for_appointment(arrived[0].id) == entry
            assert uow.walkins.active_entry_for_patient(entry.patient_id) == entry
            assert uow.walkins.entry_by_idempotency_key("p/check-in/1") == entry
            assert uow.walkins.entry_by_idempotency_key("p/check-in/2") is None
            assert uow.walkins.get_entry(QueueEntryId(uuid.uuid4())) is None

    def test_active_entries_are_per_location_oldest_check_in_first(
        self, storage: Storage, clinic: SmallClinic, arrived: list[Appointment], annex: Location
    ) -> None:
        entries = [
            entry_for(a, checked_in_at=NOW.add(minutes=10 - n)) for n, a in enumerate(arrived[:4])
        ]
        entries[3] = attrs.evolve(entries[3], location_id=annex.id)
        entries[2] = attrs.evolve(entries[2], status=Q.DONE, ended_at=NOW.add(hours=1))
        entries[1] = attrs.evolve(entries[1], status=Q.IN_SESSION, started_at=NOW)
        self.write(storage, *(lambda u, e=e: u.walkins.add_entry(e) for e in entries))
        with storage.unit_of_work() as uow:
            assert uow.walkins.active_entries([clinic.location.id]) == [entries[1], entries[0]]
            assert uow.walkins.active_entries([annex.id]) == [entries[3]]
            assert uow.walkins.active_entries([]) == []
            history = uow.walkins.check_ins(
                [clinic.location.id], NOW.add(minutes=8), NOW.add(minutes=11)
            )
            assert history == [entries[2], entries[1], entries[0]]
            assert uow.walkins.check_ins([clinic.location.id], NOW, NOW.add(minutes=8)) == []

    def test_update_checks_the_version_and_leaving_the_queue_frees_the_patient(
        self, storage: Storage, arrived: list[Appointment]
    ) -> None:
        entry = entry_for(arrived[0])
        self.write(storage, lambda u: u.walkins.add_entry(entry))
        started = entry.moved(Q.IN_SESSION, NOW.add(minutes=5))
        self.write(storage, lambda u: u.walkins.update_entry(started))
        with pytest.raises(ConflictError):
            self.write(storage, lambda u: u.walkins.update_entry(entry.moved(Q.LEFT, NOW)))
        done = started.moved(Q.DONE, NOW.add(minutes=30))
        self.write(storage, lambda u: u.walkins.update_entry(done))
        with storage.unit_of_work() as uow:
            assert uow.walkins.get_entry(entry.id) == done
            assert uow.walkins.active_entry_for_patient(entry.patient_id) is None
            assert uow.walkins.active_entries([entry.location_id]) == []
        again = entry_for(arrived[0], id=QueueEntryId(uuid.uuid4()))
        with pytest.raises(ConflictError):  # the appointment already has its entry
            self.write(storage, lambda u: u.walkins.add_entry(again))

    def test_a_patient_has_at_most_one_active_entry(
        self, storage: Storage, clinic: SmallClinic, arrived: list[Appointment]
    ) -> None:
        patient = clinic.patients[0]
        first = entry_for(arrived[0])
        second_appointment = clinic.appointment(
            at(20), patient=patient, status=AppointmentStatus.ARRIVED
        )
        self.add(storage, second_appointment)
        second = entry_for(second_appointment)
        self.write(storage, lambda u: u.walkins.add_entry(first))
        with pytest.raises(ConflictError):
            self.write(storage, lambda u: u.walkins.add_entry(second))
        with storage.unit_of_work() as uow:
            assert uow.walkins.get_entry(second.id) is None
        self.write(storage, lambda u: u.walkins.update_entry(first.moved(Q.LEFT, NOW)))
        self.write(storage, lambda u: u.walkins.add_entry(second))
        with storage.unit_of_work() as uow:
            assert uow.walkins.active_entry_for_patient(patient.id) == second

    def test_concurrent_active_entries_for_one_patient_let_exactly_one_win(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        patient = clinic.patients[0]
        appointments = [
            clinic.appointment(
                at(8, 0).add(minutes=40 * n),
                patient=patient,
                practitioner=clinic.practitioners[n % 2],
                status=AppointmentStatus.ARRIVED,
            )
            for n in range(6)
        ]
        self.add(storage, *appointments)
        barrier = threading.Barrier(len(appointments))
        outcomes: list[str] = []
        lock = threading.Lock()

        def attempt(appointment: Appointment) -> None:
            barrier.wait(timeout=30)
            try:
                self.write(storage, lambda u: u.walkins.add_entry(entry_for(appointment)))
                outcome = "queued"
            except ConflictError:
                outcome = "refused"
            except Exception as exc:  # reported below, not swallowed
                outcome = f"{type(exc).__name__}: {exc}"
            with lock:
                outcomes.append(outcome)

        threads = [threading.Thread(target=attempt, args=(a,), daemon=True) for a in appointments]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["queued"] + ["refused"] * (len(appointments) - 1)
        with storage.unit_of_work() as uow:
            assert len(uow.walkins.active_entries([clinic.location.id])) == 1

    # -- transactions -----------------------------------------------------------------
    def test_walk_in_changes_without_commit_are_forgotten(
        self, storage: Storage, clinic: SmallClinic, arrived: list[Appointment]
    ) -> None:
        loc = clinic.location.id
        entry = entry_for(arrived[0])
        shift = DutyShift(
            practitioner_id=clinic.practitioners[0].id, location_id=loc, since=NOW, free_since=NOW
        )
        with storage.unit_of_work(write=True) as uow:
            uow.walkins.save_settings(walkin_settings(clinic.location, clinic))
            uow.walkins.save_duty(shift)
            uow.walkins.add_entry(entry)
            uow.walkins.save_durations(
                DurationStats(location_id=loc, kind=PatientKind.NEW, samples=1, mean_seconds=60)
            )
            uow.walkins.save_published_wait(
                PublishedWait(location_id=loc, wait_minutes=5, published_at=NOW)
            )
            assert uow.walkins.get_entry(entry.id) == entry  # visible inside
            assert uow.walkins.active_entries([loc]) == [entry]
        with storage.unit_of_work() as uow:
            assert uow.walkins.get_settings(loc) is None
            assert uow.walkins.duty_of(shift.practitioner_id) is None
            assert uow.walkins.get_entry(entry.id) is None
            assert uow.walkins.active_entries([loc]) == []
            assert uow.walkins.durations([loc]) == []
            assert uow.walkins.published_waits([loc]) == []

    @pytest.mark.parametrize(
        "write",
        ["settings", "duty", "end_duty", "entry", "durations", "published"],
    )
    def test_a_read_only_unit_of_work_refuses_walk_in_writes(
        self, storage: Storage, clinic: SmallClinic, arrived: list[Appointment], write: str
    ) -> None:
        loc = clinic.location.id
        changes: dict[str, Callable[[UnitOfWork], object]] = {
            "settings": lambda u: u.walkins.save_settings(walkin_settings(clinic.location, clinic)),
            "duty": lambda u: u.walkins.save_duty(
                DutyShift(
                    practitioner_id=clinic.practitioners[0].id,
                    location_id=loc,
                    since=NOW,
                    free_since=NOW,
                )
            ),
            "end_duty": lambda u: u.walkins.end_duty(clinic.practitioners[0].id),
            "entry": lambda u: u.walkins.add_entry(entry_for(arrived[0])),
            "durations": lambda u: u.walkins.save_durations(
                DurationStats(location_id=loc, kind=PatientKind.NEW, samples=1, mean_seconds=60)
            ),
            "published": lambda u: u.walkins.save_published_wait(
                PublishedWait(location_id=loc, wait_minutes=1, published_at=NOW)
            ),
        }
        with pytest.raises(StorageError), storage.unit_of_work() as uow:
            changes[write](uow)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.walkins.get_settings(loc) is None
            assert uow.walkins.active_entries([loc]) == []
            assert uow.walkins.durations([loc]) == []


class WalkInStorageContract(WalkInQueueContract, WalkInStateContract):
    """The whole walk-in repository contract (``uow.walkins``). Override ``storage`` to
    yield a fresh, empty storage per test."""
