"""Storage contract, walk-ins part one: shared fixtures, then settings, duty, learned
durations, announced waits and the queue lock. Part two (queue entries) and the whole
suite, :class:`~carebook.testing.contracts.storage.walkins.WalkInStorageContract`, are in
:mod:`carebook.testing.contracts.storage.walkins`.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import attrs
import pytest

from carebook.domain.ids import LocationId
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.calendar import Location, PatientKind
from carebook.domain.walkins.queue import (
    CheckInChannel,
    DutyShift,
    QueueEntry,
    QueueEntryId,
    QueueStatus,
    WalkInSettings,
)
from carebook.domain.walkins.waittime import DurationStats, PublishedWait
from carebook.errors import StorageError
from carebook.ports import Storage
from carebook.testing import builders as b
from carebook.testing.builders import SmallClinic
from carebook.testing.contracts.storage.base import NOW, StorageContractBase, at

__all__ = ["WalkInContractBase", "WalkInStateContract", "entry_for", "walkin_settings"]


def entry_for(appointment: Appointment, **changes: Any) -> QueueEntry:
    """A waiting walk-in entry for ``appointment``, checked in at :data:`NOW`."""
    entry = QueueEntry(
        id=QueueEntryId(uuid.uuid4()),
        organisation_id=appointment.organisation_id,
        location_id=appointment.location_id,
        patient_id=appointment.patient_id,
        appointment_id=appointment.id,
        practitioner_id=appointment.practitioner_id,
        kind=PatientKind.NEW,
        channel=CheckInChannel.APP,
        walk_in=True,
        status=QueueStatus.WAITING,
        checked_in_at=NOW,
        reserved_start=appointment.start,
        reserved_end=appointment.end,
    )
    return attrs.evolve(entry, **changes)


def walkin_settings(location: Location, clinic: SmallClinic, **changes: Any) -> WalkInSettings:
    return WalkInSettings(
        location_id=location.id,
        organisation_id=location.organisation_id,
        service_id=clinic.service.id,
        **changes,
    )


class WalkInContractBase(StorageContractBase):
    """Fixtures and helpers of the walk-in storage contract."""

    @pytest.fixture
    def arrived(self, storage: Storage, clinic: SmallClinic) -> list[Appointment]:
        """One stored ``arrived`` appointment per patient of the clinic, an hour apart."""
        found = [
            clinic.appointment(
                at(8 + n), patient=patient, status=AppointmentStatus.ARRIVED, minutes=30
            )
            for n, patient in enumerate(clinic.patients)
        ]
        self.add(storage, *found)
        return found

    @pytest.fixture
    def annex(self, storage: Storage, clinic: SmallClinic) -> Location:
        """A second location of the clinic's organisation, stored."""
        annex = b.location(clinic.organisation, name="Annex")
        with storage.unit_of_work(write=True) as uow:
            uow.calendar.save_location(annex)
            uow.commit()
        return annex


class WalkInStateContract(WalkInContractBase):
    """Settings, duty, learned durations, announced waits and the queue lock."""

    # -- settings ---------------------------------------------------------------------
    def test_settings_round_trip_and_are_listed_per_organisation(
        self, storage: Storage, clinic: SmallClinic, annex: Location
    ) -> None:
        main = walkin_settings(clinic.location, clinic, new_patient_slots=3, wait_limit=30)
        second = walkin_settings(annex, clinic)
        self.write(
            storage,
            lambda u: u.walkins.save_settings(main),
            lambda u: u.walkins.save_settings(second),
        )
        changed = attrs.evolve(main, no_show_grace=5)
        self.write(storage, lambda u: u.walkins.save_settings(changed))
        with storage.unit_of_work() as uow:
            assert uow.walkins.get_settings(clinic.location.id) == changed
            assert uow.walkins.get_settings(LocationId(uuid.uuid4())) is None
            listed = uow.walkins.settings_for(clinic.organisation.id)
            assert sorted(listed, key=lambda s: s.location_id.int) == listed
            assert set(listed) == {changed, second}
            assert uow.walkins.settings_for(b.organisation().id) == []

    # -- duty -------------------------------------------------------------------------
    def test_duty_is_one_row_per_practitioner_replaced_and_ended(
        self, storage: Storage, clinic: SmallClinic, annex: Location
    ) -> None:
        first, second = clinic.practitioners
        shift = DutyShift(
            practitioner_id=first.id, location_id=clinic.location.id, since=NOW, free_since=NOW
        )
        other = attrs.evolve(shift, practitioner_id=second.id, location_id=annex.id)
        self.write(
            storage, lambda u: u.walkins.save_duty(shift), lambda u: u.walkins.save_duty(other)
        )
        later = attrs.evolve(shift, free_since=NOW.add(minutes=20))
        self.write(storage, lambda u: u.walkins.save_duty(later))
        with storage.unit_of_work() as uow:
            assert uow.walkins.duty_of(first.id) == later
            assert uow.walkins.on_duty([clinic.location.id]) == [later]
            assert len(uow.walkins.on_duty([clinic.location.id, annex.id])) == 2
            assert uow.walkins.on_duty([]) == []
        self.write(storage, lambda u: u.walkins.end_duty(first.id))
        with storage.unit_of_work() as uow:
            assert uow.walkins.duty_of(first.id) is None
            assert uow.walkins.on_duty([clinic.location.id, annex.id]) == [other]

    def test_lock_queue_serialises_writers_at_one_location(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        loc = clinic.location
        self.write(storage, lambda u: u.walkins.save_settings(walkin_settings(loc, clinic)))
        locked, released = threading.Event(), threading.Event()
        order: list[str] = []

        def holder() -> None:
            with storage.unit_of_work(write=True) as uow:
                uow.walkins.lock_queue(loc.id)
                locked.set()
                released.wait(timeout=30)
                order.append("first done")
                uow.commit()

        def waiter() -> None:
            locked.wait(timeout=30)
            with storage.unit_of_work(write=True) as uow:
                uow.walkins.lock_queue(loc.id)
                order.append("second locked")
                uow.commit()

        threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
        for thread in threads:
            thread.start()
        locked.wait(timeout=30)
        threads[1].join(timeout=0.3)  # the second writer is kept waiting
        released.set()
        for thread in threads:
            thread.join(timeout=60)
        assert order == ["first done", "second locked"]
        with pytest.raises(StorageError), storage.unit_of_work() as uow:
            uow.walkins.lock_queue(loc.id)

    # -- durations and announced waits ------------------------------------------------
    def test_durations_and_published_waits_are_replaced_per_key(
        self, storage: Storage, clinic: SmallClinic, annex: Location
    ) -> None:
        loc = clinic.location.id
        new = DurationStats(location_id=loc, kind=PatientKind.NEW, samples=1, mean_seconds=1800)
        returning = attrs.evolve(new, kind=PatientKind.RETURNING, mean_seconds=900)
        elsewhere = attrs.evolve(new, location_id=annex.id)
        wait = PublishedWait(location_id=loc, wait_minutes=None, published_at=NOW)
        self.write(
            storage,
            *(lambda u, s=s: u.walkins.save_durations(s) for s in (new, returning, elsewhere)),
            lambda u: u.walkins.save_published_wait(wait),
        )
        newer = attrs.evolve(new, samples=2, mean_seconds=2000)
        later = attrs.evolve(wait, wait_minutes=25, published_at=NOW.add(minutes=1))
        self.write(
            storage,
            lambda u: u.walkins.save_durations(newer),
            lambda u: u.walkins.save_published_wait(later),
        )
        with storage.unit_of_work() as uow:
            assert set(uow.walkins.durations([loc])) == {newer, returning}
            assert uow.walkins.durations([annex.id]) == [elsewhere]
            assert uow.walkins.published_waits([loc]) == [later]
            assert uow.walkins.published_waits([annex.id]) == []
