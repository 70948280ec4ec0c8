"""Storage contract, part two: appointments, busy time, and the no-overlap guarantee."""

from __future__ import annotations

import uuid

import attrs
import pytest

from carebook.domain.ids import LocationId, PatientId
from carebook.domain.instants import to_epoch
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus, SessionStatus
from carebook.domain.scheduling.appointment import TreatmentSession as Session
from carebook.domain.scheduling.busy import PRACTITIONER, BusyInterval
from carebook.errors import ConflictError, SlotUnavailableError
from carebook.ports import Storage
from carebook.testing.builders import SmallClinic
from carebook.testing.contracts.storage.base import NOW, StorageContractBase, at

__all__ = ["AppointmentStorageContract"]

S = AppointmentStatus


def _busy(appointment: Appointment, kind: str, owner: uuid.UUID) -> BusyInterval:
    start, end = appointment.occupied_epochs
    return BusyInterval(kind, owner, start, end)


class AppointmentStorageContract(StorageContractBase):
    """Appointments round-trip, and storage itself refuses overlapping occupied time."""

    def refused(self, storage: Storage, appointment: Appointment) -> None:
        """Assert that adding ``appointment`` is refused and leaves no trace."""
        with pytest.raises(SlotUnavailableError):
            self.add(storage, appointment)
        assert self.stored(storage, appointment.id) is None

    # -- add, get, update ------------------------------------------------------------
    def test_added_appointment_reads_back_equal(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        appointment = clinic.appointment(
            at(9),
            resources=clinic.resources,
            buffer_before=5,
            buffer_after=10,
            idempotency_key="client-key-1",
        )
        appointment = attrs.evolve(appointment, request_fingerprint="f" * 64)
        with storage.unit_of_work(write=True) as uow:
            uow.appointments.add(appointment, now=NOW)
            assert uow.appointments.get(appointment.id) == appointment
            uow.commit()
        assert self.stored(storage, appointment.id) == appointment

    def test_updated_appointment_reads_back_equal(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        appointment = clinic.appointment(at(9))
        self.add(storage, appointment)
        arrived = attrs.evolve(
            appointment,
            status=S.ARRIVED,
            session=Session(status=SessionStatus.IN_PROGRESS, started_at=at(9, 2)),
            version=2,
        )
        with storage.unit_of_work(write=True) as uow:
            uow.appointments.update(arrived)
            uow.commit()
        assert self.stored(storage, appointment.id) == arrived

    def test_update_with_a_stale_version_raises_conflict_and_changes_nothing(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        appointment = clinic.appointment(at(9))
        self.add(storage, appointment)
        arrived = attrs.evolve(appointment, status=S.ARRIVED, version=2)
        with storage.unit_of_work(write=True) as uow:
            uow.appointments.update(arrived)
            uow.commit()
        stale = attrs.evolve(appointment, status=S.CANCELLED, cancel_reason="late", version=2)
        with pytest.raises(ConflictError), storage.unit_of_work(write=True) as uow:
            uow.appointments.update(stale)
            uow.commit()
        assert self.stored(storage, appointment.id) == arrived

    def test_cancelling_frees_the_time(self, storage: Storage, clinic: SmallClinic) -> None:
        appointment = clinic.appointment(at(9))
        self.add(storage, appointment)
        cancelled = attrs.evolve(appointment, status=S.CANCELLED, cancel_reason="ill", version=2)
        with storage.unit_of_work(write=True) as uow:
            uow.appointments.update(cancelled)
            uow.commit()
        owner = appointment.practitioner_id
        assert self.busy(storage, *appointment.occupied_epochs, practitioner_ids=[owner]) == set()
        self.add(storage, clinic.appointment(at(9), patient=clinic.patients[1]))

    def test_by_idempotency_key_finds_the_appointment(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        appointment = clinic.appointment(at(9), idempotency_key="retry-me")
        self.add(storage, appointment, clinic.appointment(at(11), idempotency_key="other"))
        with storage.unit_of_work() as uow:
            assert uow.appointments.by_idempotency_key("retry-me") == appointment
            assert uow.appointments.by_idempotency_key("never-used") is None

    def test_for_patient_lists_their_appointments_earliest_first(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        patient, other = clinic.patients[0], clinic.patients[1]
        late = clinic.appointment(at(15), patient=patient)
        early = clinic.appointment(at(8), patient=patient, practitioner=clinic.practitioners[1])
        cancelled = clinic.appointment(at(11), patient=patient, status=S.CANCELLED)
        self.add(storage, late, clinic.appointment(at(10), patient=other), cancelled, early)
        with storage.unit_of_work() as uow:
            assert uow.appointments.for_patient(patient.id) == [early, cancelled, late]
            assert uow.appointments.for_patient(PatientId(uuid.uuid4())) == []

    def test_starting_between_lists_a_window_of_a_location_earliest_first(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        first = clinic.appointment(at(9))
        cancelled = clinic.appointment(at(10), status=S.CANCELLED)
        last = clinic.appointment(at(11), patient=clinic.patients[1])
        outside = clinic.appointment(at(12))
        self.add(storage, outside, last, first, cancelled)
        location = [clinic.location.id]
        with storage.unit_of_work() as uow:
            found = uow.appointments.starting_between(location, to_epoch(at(9)), to_epoch(at(12)))
            assert found == [first, cancelled, last]  # half-open: 12:00 is out
            assert uow.appointments.starting_between([], 0, to_epoch(at(23))) == []
            other = [LocationId(uuid.uuid4())]
            assert uow.appointments.starting_between(other, 0, to_epoch(at(23))) == []

    # -- the no-overlap guarantee ----------------------------------------------------
    def test_overlap_for_the_same_practitioner_is_refused(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        self.add(storage, clinic.appointment(at(9)))
        self.refused(storage, clinic.appointment(at(9, 15), patient=clinic.patients[1]))

    def test_overlap_for_the_same_resource_is_refused(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        room = clinic.resources[:1]
        self.add(storage, clinic.appointment(at(9), resources=room))
        self.refused(
            storage,
            clinic.appointment(
                at(8, 45),
                practitioner=clinic.practitioners[1],
                patient=clinic.patients[1],
                resources=room,
            ),
        )

    def test_overlap_for_the_same_patient_is_refused(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        self.add(storage, clinic.appointment(at(9), minutes=60))
        self.refused(storage, clinic.appointment(at(9, 20), practitioner=clinic.practitioners[1]))

    def test_overlap_within_one_unit_of_work_is_refused(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        first = clinic.appointment(at(9))
        second = clinic.appointment(at(9), patient=clinic.patients[1])
        with pytest.raises(SlotUnavailableError):
            self.add(storage, first, second)
        assert self.stored(storage, second.id) is None

    def test_buffers_are_occupied_time(self, storage: Storage, clinic: SmallClinic) -> None:
        self.add(storage, clinic.appointment(at(9), minutes=30, buffer_after=15))
        self.refused(storage, clinic.appointment(at(9, 30), patient=clinic.patients[1]))
        self.add(storage, clinic.appointment(at(9, 45), patient=clinic.patients[1]))

    def test_touching_spans_are_allowed(self, storage: Storage, clinic: SmallClinic) -> None:
        room = clinic.resources[:1]
        self.add(storage, clinic.appointment(at(9), minutes=30, resources=room))
        self.add(
            storage,
            clinic.appointment(at(9, 30), resources=room),
            clinic.appointment(at(8, 30), resources=room),
        )

    def test_different_owners_may_share_the_same_time(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        self.add(
            storage,
            clinic.appointment(at(9), resources=clinic.resources[:1]),
            clinic.appointment(
                at(9),
                practitioner=clinic.practitioners[1],
                patient=clinic.patients[1],
                resources=clinic.resources[1:2],
            ),
        )

    @pytest.mark.parametrize("status", [S.CANCELLED, S.NOSHOW, S.ENTERED_IN_ERROR])
    def test_inactive_appointments_do_not_block(
        self, storage: Storage, clinic: SmallClinic, status: AppointmentStatus
    ) -> None:
        inactive = clinic.appointment(at(9), status=status, resources=clinic.resources)
        self.add(storage, inactive)
        owner = inactive.practitioner_id
        assert self.busy(storage, *inactive.occupied_epochs, practitioner_ids=[owner]) == set()
        self.add(storage, clinic.appointment(at(9), resources=clinic.resources))

    @pytest.mark.parametrize("expired_minutes_ago", [0, 1, 60])
    def test_an_expired_hold_neither_blocks_nor_is_busy(
        self, storage: Storage, clinic: SmallClinic, expired_minutes_ago: int
    ) -> None:
        expires = NOW.subtract(minutes=expired_minutes_ago)
        hold = clinic.appointment(at(9), status=S.PROPOSED, hold_expires_at=expires)
        self.add(storage, hold, now=expires.subtract(minutes=5))
        window = hold.occupied_epochs
        assert self.busy(storage, *window, practitioner_ids=[hold.practitioner_id]) == set()
        assert self.busy(storage, *window, patient_ids=[hold.patient_id]) == set()
        self.add(storage, clinic.appointment(at(9)))

    def test_a_live_hold_blocks_and_is_busy(self, storage: Storage, clinic: SmallClinic) -> None:
        hold = clinic.appointment(at(9), status=S.PROPOSED, hold_expires_at=NOW.add(seconds=1))
        self.add(storage, hold)
        owner = hold.practitioner_id
        assert self.busy(storage, *hold.occupied_epochs, practitioner_ids=[owner]) == {
            _busy(hold, PRACTITIONER, hold.practitioner_id)
        }
        self.refused(storage, clinic.appointment(at(9), patient=clinic.patients[1]))

    # -- busy intervals --------------------------------------------------------------
    def test_busy_intervals_are_exactly_the_named_owners_overlapping_spans(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        (one, two), patients = clinic.practitioners, clinic.patients
        nine = clinic.appointment(at(9), practitioner=one, patient=patients[0])
        eleven = clinic.appointment(at(11), practitioner=one, patient=patients[1], buffer_before=10)
        afternoon = clinic.appointment(at(15), practitioner=one, patient=patients[2])
        colleague = clinic.appointment(at(9), practitioner=two, patient=patients[3])
        self.add(storage, nine, eleven, afternoon, colleague)
        window = (to_epoch(at(9, 15)), to_epoch(at(11)))
        assert self.busy(storage, *window, practitioner_ids=[one.id]) == {
            _busy(nine, PRACTITIONER, one.id),
            _busy(eleven, PRACTITIONER, one.id),  # its 10 minute buffer reaches into the window
        }
        assert self.busy(storage, *window, practitioner_ids=[one.id, two.id]) == {
            _busy(nine, PRACTITIONER, one.id),
            _busy(eleven, PRACTITIONER, one.id),
            _busy(colleague, PRACTITIONER, two.id),
        }
        assert self.busy(storage, *window, practitioner_ids=[uuid.uuid4()]) == set()
        assert self.busy(storage, *window) == set()

    def test_busy_intervals_name_each_owner_kind(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        room = clinic.resources[0]
        appointment = clinic.appointment(at(9), resources=[room])
        self.add(storage, appointment)
        practitioner, patient = appointment.practitioner_id, appointment.patient_id
        window = appointment.occupied_epochs
        assert self.busy(
            storage, *window, practitioner_ids=[practitioner], resource_ids=[room.id]
        ) == {
            _busy(appointment, "practitioner", practitioner),
            _busy(appointment, "resource", room.id),
        }
        assert self.busy(storage, *window, patient_ids=[patient]) == {
            _busy(appointment, "patient", patient)
        }

    def test_busy_intervals_window_is_half_open(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        appointment = clinic.appointment(at(9), minutes=30)
        self.add(storage, appointment)
        start, end = appointment.occupied_epochs
        owner = [appointment.practitioner_id]
        assert self.busy(storage, end, end + 3600, practitioner_ids=owner) == set()
        assert self.busy(storage, start - 3600, start, practitioner_ids=owner) == set()
        assert len(self.busy(storage, end - 1, end + 3600, practitioner_ids=owner)) == 1
        assert len(self.busy(storage, start - 3600, start + 1, practitioner_ids=owner)) == 1

    def test_busy_intervals_see_appointments_staged_in_the_same_unit_of_work(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        appointment = clinic.appointment(at(9))
        window, owner = appointment.occupied_epochs, appointment.practitioner_id
        with storage.unit_of_work(write=True) as uow:
            uow.appointments.add(appointment, now=NOW)
            found = uow.appointments.busy_intervals(*window, practitioner_ids=[owner], now=NOW)
            assert [b._replace(appointment_id=None) for b in found] == [
                _busy(appointment, PRACTITIONER, owner)
            ]
            assert found[0].appointment_id in (None, appointment.id)
        assert self.busy(storage, *window, practitioner_ids=[owner]) == set()

    def test_a_read_for_many_owners_equals_the_reads_for_each(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        """A search asks for every practitioner, room and patient at once (a storage may
        read that differently from a booking's few owners); it must see exactly what
        one read per owner sees: bookings, live holds, not expired holds, not ``exclude``."""
        ana, ben = clinic.practitioners
        room = clinic.resources[0]
        p = clinic.patients
        expired_at = NOW.subtract(minutes=1)
        live = clinic.appointment(at(8), practitioner=ben, patient=p[1], resources=[room])
        self.add(
            storage,
            clinic.appointment(at(9), patient=p[0]),
            live,
            clinic.appointment(at(10), status=S.PROPOSED, hold_expires_at=NOW.add(hours=1)),
            clinic.appointment(at(11), practitioner=ben, patient=p[2], resources=[room]),
        )
        self.add(
            storage,
            clinic.appointment(at(12), patient=p[3], status=S.PROPOSED, hold_expires_at=expired_at),
            now=expired_at.subtract(minutes=5),
        )
        start, end = to_epoch(at(0)), to_epoch(at(23))
        practitioners = [ana.id, ben.id]
        rooms = [r.id for r in clinic.resources]
        patients = [x.id for x in p]
        for exclude in (None, live.id):
            together = self.busy(
                storage,
                start,
                end,
                practitioner_ids=practitioners,
                resource_ids=rooms,
                patient_ids=patients,
                exclude=exclude,
            )
            one_by_one = set().union(
                *(
                    self.busy(storage, start, end, practitioner_ids=[x], exclude=exclude)
                    for x in practitioners
                ),
                *(self.busy(storage, start, end, resource_ids=[x], exclude=exclude) for x in rooms),
                *(
                    self.busy(storage, start, end, patient_ids=[x], exclude=exclude)
                    for x in patients
                ),
            )
            assert together == one_by_one
            # 2 + 3 + 2 + 3 spans (practitioner, patient, room); the expired hold none.
            assert len(together) == (7 if exclude else 10)

    def test_busy_intervals_leave_out_the_excluded_appointment_only(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        """``exclude`` names the hold being turned into a booking: its own time is not
        busy for it, every other appointment's still is, for every kind of owner."""
        room = clinic.resources[0]
        hold = clinic.appointment(
            at(9), status=S.PROPOSED, hold_expires_at=NOW.add(hours=1), resources=[room]
        )
        other = clinic.appointment(at(10), patient=clinic.patients[1], resources=[room])
        self.add(storage, hold, other)
        start, end = to_epoch(at(8)), to_epoch(at(12))

        def busy(exclude: uuid.UUID | None = None) -> set[BusyInterval]:
            return self.busy(
                storage,
                start,
                end,
                practitioner_ids=[hold.practitioner_id],
                patient_ids=[hold.patient_id],
                resource_ids=[room.id],
                exclude=exclude,
            )

        everything = busy()
        assert busy(exclude=hold.id) == {
            b for b in everything if (b.start, b.end) != hold.occupied_epochs
        }
        assert busy(exclude=other.id) == {
            b for b in everything if (b.start, b.end) != other.occupied_epochs
        }
        assert len(everything) == 5  # hold: practitioner, patient, room; other: two

    # -- holds -----------------------------------------------------------------------
    def test_expired_holds_lists_only_proposed_holds_past_their_expiry(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        def hold(hour: int, minutes_left: int) -> Appointment:
            expires = NOW.add(minutes=minutes_left)
            return clinic.appointment(at(hour), status=S.PROPOSED, hold_expires_at=expires)

        expired = [hold(9, -5), hold(10, 0), hold(11, -60)]
        live = hold(12, 5)
        self.add(storage, *expired, live, clinic.appointment(at(13)), now=NOW.subtract(hours=2))
        with storage.unit_of_work() as uow:
            found = uow.appointments.expired_holds(NOW)
            assert {a.id for a in found} == {a.id for a in expired}
            assert len(uow.appointments.expired_holds(NOW, limit=2)) == 2
