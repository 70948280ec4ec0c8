"""Storage contract, reschedules: ``uow.appointments.move`` moves a row in place, with
the same no-overlap guarantee as an insert, and a refused move leaves no trace."""

from __future__ import annotations

import attrs
import pytest

from carebook.domain.instants import to_epoch
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.domain.scheduling.busy import PRACTITIONER, RESOURCE
from carebook.errors import ConflictError, SlotUnavailableError
from carebook.ports import Storage
from carebook.testing.builders import SmallClinic
from carebook.testing.contracts.storage.base import NOW, StorageContractBase, at

__all__ = ["MoveStorageContract"]

S = AppointmentStatus


def _moved(appointment: Appointment, target: Appointment) -> Appointment:
    """``appointment`` at ``target``'s span, practitioner and resources, one version on."""
    return attrs.evolve(
        appointment,
        practitioner_id=target.practitioner_id,
        resource_ids=target.resource_ids,
        start=target.start,
        end=target.end,
        occupied_start=target.occupied_start,
        occupied_end=target.occupied_end,
        version=appointment.version + 1,
    )


class MoveStorageContract(StorageContractBase):
    """A reschedule moves the row, frees the old time, occupies the new, and refuses an
    overlap or a stale version without changing anything."""

    def move(self, storage: Storage, moved: Appointment, previous: Appointment) -> None:
        with storage.unit_of_work(write=True) as uow:
            uow.appointments.move(moved, previous=previous, now=NOW)
            uow.commit()

    def test_a_move_reads_back_and_frees_the_old_time(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        first, second = clinic.practitioners[:2]
        appointment = clinic.appointment(at(9), resources=clinic.resources[:1])
        self.add(storage, appointment)
        target = clinic.appointment(at(11), practitioner=second, resources=clinic.resources[1:2])
        moved = _moved(appointment, target)

        self.move(storage, moved, appointment)

        assert self.stored(storage, appointment.id) == moved
        old_start, old_end = appointment.occupied_epochs
        assert self.busy(storage, old_start, old_end, practitioner_ids=[first.id]) == set()
        assert (
            self.busy(storage, old_start, old_end, resource_ids=[clinic.resources[0].id]) == set()
        )
        new_start, new_end = moved.occupied_epochs
        busy = self.busy(storage, new_start, new_end, practitioner_ids=[second.id])
        assert {(b.owner_kind, b.start, b.end) for b in busy} == {
            (PRACTITIONER, new_start, new_end)
        }
        room = self.busy(storage, new_start, new_end, resource_ids=[clinic.resources[1].id])
        assert {b.owner_kind for b in room} == {RESOURCE}
        # the freed time takes a new appointment
        self.add(storage, clinic.appointment(at(9), patient=clinic.patients[1]))

    def test_a_move_may_overlap_its_own_old_span(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        appointment = clinic.appointment(at(9), minutes=60)
        self.add(storage, appointment)
        moved = _moved(appointment, clinic.appointment(at(9, 30), minutes=60))
        self.move(storage, moved, appointment)
        assert self.stored(storage, appointment.id) == moved

    def test_a_move_onto_taken_time_is_refused_and_changes_nothing(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        appointment = clinic.appointment(at(9))
        other = clinic.appointment(at(11), patient=clinic.patients[1])
        self.add(storage, appointment, other)
        moved = _moved(appointment, clinic.appointment(at(11, 15)))

        with pytest.raises(SlotUnavailableError):
            self.move(storage, moved, appointment)

        assert self.stored(storage, appointment.id) == appointment
        start, end = appointment.occupied_epochs
        assert (
            len(self.busy(storage, start, end, practitioner_ids=[appointment.practitioner_id])) == 1
        )

    def test_a_move_onto_the_patients_other_booking_is_refused(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        appointment = clinic.appointment(at(9))
        elsewhere = clinic.appointment(at(11), practitioner=clinic.practitioners[1])
        self.add(storage, appointment, elsewhere)
        moved = _moved(appointment, clinic.appointment(at(11)))
        with pytest.raises(SlotUnavailableError):
            self.move(storage, moved, appointment)
        assert self.stored(storage, appointment.id) == appointment

    def test_a_move_onto_an_expired_hold_takes_the_time(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        appointment = clinic.appointment(at(9))
        hold = clinic.appointment(
            at(11),
            patient=clinic.patients[1],
            status=S.PROPOSED,
            created_at=NOW.subtract(hours=1),
            hold_expires_at=NOW.subtract(minutes=1),
        )
        self.add(storage, appointment)
        self.add(storage, hold, now=NOW.subtract(hours=1))
        moved = _moved(appointment, clinic.appointment(at(11)))
        self.move(storage, moved, appointment)
        assert self.stored(storage, appointment.id) == moved

    def test_a_stale_move_is_a_conflict_and_changes_nothing(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        appointment = clinic.appointment(at(9))
        self.add(storage, appointment)
        confirmed = attrs.evolve(appointment, status=S.BOOKED, version=2)
        with storage.unit_of_work(write=True) as uow:
            uow.appointments.update(confirmed)
            uow.commit()
        moved = _moved(appointment, clinic.appointment(at(11)))  # built on version 1
        with pytest.raises(ConflictError):
            self.move(storage, moved, appointment)
        assert self.stored(storage, appointment.id) == confirmed

    def test_a_move_rolled_back_leaves_the_old_time_held(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        appointment = clinic.appointment(at(9))
        self.add(storage, appointment)
        moved = _moved(appointment, clinic.appointment(at(11)))
        with storage.unit_of_work(write=True) as uow:
            uow.appointments.move(moved, previous=appointment, now=NOW)
            # no commit
        assert self.stored(storage, appointment.id) == appointment
        with pytest.raises(SlotUnavailableError):
            self.add(storage, clinic.appointment(at(9), patient=clinic.patients[1]))
        new_start = to_epoch(at(11))
        assert (
            self.busy(
                storage, new_start, new_start + 1800, practitioner_ids=[appointment.practitioner_id]
            )
            == set()
        )
