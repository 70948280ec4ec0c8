"""Storage contract, reminders: policies, the appointments a scan reads, the ledger."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from carebook.domain.instants import to_epoch
from carebook.domain.reminders import ReminderPolicy
from carebook.domain.scheduling.appointment import AppointmentStatus
from carebook.errors import StorageError
from carebook.ports import Storage
from carebook.testing.builders import SmallClinic
from carebook.testing.contracts.storage.base import StorageContractBase, at

__all__ = ["ReminderStorageContract"]

S = AppointmentStatus


class ReminderStorageContract(StorageContractBase):
    """``uow.reminders`` keeps policies, lists upcoming appointments by start, and
    records each ledger key once."""

    def test_a_policy_reads_back_and_is_replaced(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        org = clinic.organisation.id
        quiet = ReminderPolicy(
            offsets=(60, 2880), channels=("sms",), quiet_from=dt.time(22), quiet_until=dt.time(7)
        )
        with storage.unit_of_work() as uow:
            assert uow.reminders.policy(org) is None
            assert uow.reminders.longest_offset() == 0
        with storage.unit_of_work(write=True) as uow:
            uow.reminders.set_policy(org, quiet)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.reminders.policy(org) == quiet
            assert uow.reminders.longest_offset() == 2880
        with storage.unit_of_work(write=True) as uow:
            uow.reminders.set_policy(org, ReminderPolicy(offsets=(30,)))
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.reminders.policy(org) == ReminderPolicy(offsets=(30,))
            assert uow.reminders.longest_offset() == 30

    def test_a_policy_not_committed_is_not_kept(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        with storage.unit_of_work(write=True) as uow:
            uow.reminders.set_policy(clinic.organisation.id, ReminderPolicy(offsets=(30,)))
        with storage.unit_of_work() as uow:
            assert uow.reminders.policy(clinic.organisation.id) is None

    def test_upcoming_lists_occupying_appointments_in_the_window_by_start(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        p1, p2 = clinic.practitioners[:2]
        early = clinic.appointment(at(9), practitioner=p1)
        same_time = clinic.appointment(at(9), practitioner=p2, patient=clinic.patients[1])
        later = clinic.appointment(at(11), practitioner=p1)
        pending = clinic.appointment(at(12), practitioner=p1, status=S.PENDING)
        cancelled = clinic.appointment(at(13), practitioner=p1, status=S.CANCELLED)
        fulfilled = clinic.appointment(at(14), practitioner=p1, status=S.FULFILLED)
        outside = clinic.appointment(at(16), practitioner=p1)
        self.add(storage, early, same_time, later, pending, cancelled, fulfilled, outside)
        low, high = to_epoch(at(9)) - 1, to_epoch(at(15))
        with storage.unit_of_work() as uow:
            found = uow.reminders.upcoming(low, high, 100)
            assert {a.id for a in found} == {early.id, same_time.id, later.id, pending.id}
            assert [to_epoch(a.start) for a in found] == sorted(to_epoch(a.start) for a in found)
            first, second = uow.reminders.upcoming(low, high, 2)
            rest = uow.reminders.upcoming(low, high, 100, second.id)
            assert [a.id for a in (first, second, *rest)] == [a.id for a in found]
            assert uow.reminders.upcoming(to_epoch(at(9)), high, 100)[0].id == later.id

    def test_upcoming_unsettled_keeps_only_appointments_still_owed_a_reminder(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        p1, p2 = clinic.practitioners[:2]
        soon = clinic.appointment(at(9), practitioner=p1)
        settled = clinic.appointment(at(9), practitioner=p2, patient=clinic.patients[1])
        later = clinic.appointment(at(12), practitioner=p1)
        self.add(storage, soon, settled, later)
        with storage.unit_of_work(write=True) as uow:
            assert uow.reminders.record((settled.id, 120, to_epoch(settled.start)), 1)
            assert uow.reminders.record((soon.id, 120, to_epoch(soon.start) - 3600), 1)  # old start
            uow.commit()
        low, high = to_epoch(at(8)), to_epoch(at(15))
        by_nine = ((120, to_epoch(at(9))),)
        with storage.unit_of_work() as uow:
            assert [a.id for a in uow.reminders.upcoming(low, high, 100, unsettled=by_nine)] == [
                soon.id
            ]
            both = ((1440, high), (120, to_epoch(at(9))))
            found = uow.reminders.upcoming(low, high, 100, unsettled=both)
            assert {a.id for a in found} == {soon.id, settled.id, later.id}
            assert uow.reminders.upcoming(low, high, 100, unsettled=()) == []

    def test_policies_lists_every_stored_policy(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        with storage.unit_of_work() as uow:
            assert uow.reminders.policies() == []
        with storage.unit_of_work(write=True) as uow:
            uow.reminders.set_policy(clinic.organisation.id, ReminderPolicy(offsets=(30,)))
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.reminders.policies() == [ReminderPolicy(offsets=(30,))]

    def test_the_ledger_records_a_key_once(self, storage: Storage, clinic: SmallClinic) -> None:
        appointment = clinic.appointment(at(9))
        self.add(storage, appointment)
        key = (appointment.id, 120, to_epoch(appointment.start))
        with storage.unit_of_work(write=True) as uow:
            assert uow.reminders.record(key, 1) is True
            assert uow.reminders.record(key, 2) is False
            uow.commit()
        with storage.unit_of_work(write=True) as uow:
            assert uow.reminders.record(key, 3) is False
            assert uow.reminders.record((appointment.id, 1440, key[2]), 3) is True
            moved = (appointment.id, 120, key[2] + 3600)
            assert uow.reminders.record(moved, 3) is True
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.reminders.sent([appointment.id]) == {
                key,
                (appointment.id, 1440, key[2]),
                (appointment.id, 120, key[2] + 3600),
            }
            assert uow.reminders.sent([]) == set()

    def test_a_key_rolled_back_can_be_recorded_again(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        appointment = attrs.evolve(clinic.appointment(at(9)))
        self.add(storage, appointment)
        key = (appointment.id, 120, to_epoch(appointment.start))
        with storage.unit_of_work(write=True) as uow:
            assert uow.reminders.record(key, 1) is True
        with storage.unit_of_work(write=True) as uow:
            assert uow.reminders.record(key, 1) is True
            uow.commit()

    def test_writes_need_a_write_unit_of_work(self, storage: Storage, clinic: SmallClinic) -> None:
        with storage.unit_of_work() as uow, pytest.raises(StorageError):
            uow.reminders.set_policy(clinic.organisation.id, ReminderPolicy())
