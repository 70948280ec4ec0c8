"""Storage contract, hold expiry: a hold blocks its time until ``hold_expires_at`` and
not a microsecond longer, in every read and write of the storage, exactly as
:meth:`Appointment.occupies` says.

``hold_expires_at`` is held in whole seconds: an appointment built with a finer expiry
rounds it up (in the holder's favour), and that rounded value is the one reported and
the one enforced. ``now`` keeps its microseconds: a hold expiring at 08:10:01 still
blocks at 08:10:00.999999 and no longer at 08:10:01.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar

import attrs
import pendulum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carebook.domain.ids import AppointmentId, PatientId
from carebook.domain.instants import to_epoch
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.errors import SlotUnavailableError
from carebook.ports import Storage
from carebook.testing.builders import SmallClinic
from carebook.testing.contracts.storage.base import NOW, StorageContractBase, at

__all__ = ["HoldStorageContract"]

S = AppointmentStatus
SECOND = 1_000_000
"""Microseconds."""


class HoldStorageContract(StorageContractBase):
    """Busy time, the storage's own overlap check and ``expired_holds`` agree with
    ``Appointment.occupies`` on when a hold stops holding, to the microsecond."""

    hold_examples: ClassVar[int] = 100
    """Examples of the hold-expiry property; an adapter on a slower storage may lower it."""

    def hold_seen(
        self, storage: Storage, clinic: SmallClinic, hold: Appointment, now: pendulum.DateTime
    ) -> dict[str, bool]:
        """What the storage says of ``hold`` at ``now``, read every way a use case reads
        it, and whether it refuses another patient's booking of the same time."""
        start, end = hold.occupied_epochs
        other = next(p.id for p in clinic.patients if p.id != hold.patient_id)
        practitioners = [hold.practitioner_id]
        with storage.unit_of_work() as uow:
            booking_read = uow.appointments.busy_intervals(
                start, end, practitioner_ids=practitioners, now=now
            )
            # Many owners at once: a search, which a storage may read differently.
            search_read = uow.appointments.busy_intervals(
                start,
                end,
                practitioner_ids=[*practitioners, uuid.uuid4(), uuid.uuid4()],
                patient_ids=[hold.patient_id, uuid.uuid4()],
                resource_ids=[uuid.uuid4()],
                now=now,
            )
            expired = {a.id for a in uow.appointments.expired_holds(now, limit=1000)}
        return {
            "busy for a booking": len(booking_read) == 1,
            "busy for a search": len(search_read) == 2,  # its practitioner and its patient
            "not listed as expired": hold.id not in expired,
            "refuses another booking": self.refuses(storage, hold, other, now),
        }

    @staticmethod
    def refuses(
        storage: Storage, hold: Appointment, other_patient: PatientId, now: pendulum.DateTime
    ) -> bool:
        """Whether adding ``other_patient``'s booking of the hold's time is refused at
        ``now`` (the unit of work is rolled back either way)."""
        other = attrs.evolve(
            hold,
            id=AppointmentId(uuid.uuid4()),
            patient_id=other_patient,
            status=S.BOOKED,
            hold_expires_at=None,
        )
        with storage.unit_of_work(write=True) as uow:
            try:
                uow.appointments.add(other, now=now)
            except SlotUnavailableError:
                return True
            return False  # not committed

    def release(self, storage: Storage, hold: Appointment) -> None:
        """Cancel ``hold`` so that the next example starts from free time."""
        with storage.unit_of_work(write=True) as uow:
            current = uow.appointments.get(hold.id)
            assert current is not None
            uow.appointments.update(
                attrs.evolve(current, status=S.CANCELLED, version=current.version + 1)
            )
            uow.commit()

    # -- the reported expiry is the enforced one ---------------------------------------
    def test_a_finer_expiry_is_rounded_up_to_the_whole_second_it_is_stored_as(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        asked = NOW.add(minutes=10, microseconds=700_000)
        hold = clinic.appointment(at(9), status=S.PROPOSED, hold_expires_at=asked)
        assert hold.hold_expires_at == NOW.add(minutes=10, seconds=1)
        self.add(storage, hold)
        assert self.stored(storage, hold.id) == hold

    # -- the case of the review: expiry 08:10:00.700, looked at 08:10:00.010 ------------
    def test_a_hold_blocks_every_read_and_write_until_its_expiry(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        asked = NOW.add(minutes=10, microseconds=700_000)
        hold = clinic.appointment(at(9), status=S.PROPOSED, hold_expires_at=asked)
        expires = hold.hold_expires_at
        assert expires is not None and expires >= asked
        self.add(storage, hold)
        live = dict.fromkeys(self.hold_seen(storage, clinic, hold, NOW), True)
        gone = dict.fromkeys(live, False)
        for now in (
            NOW.add(minutes=10, microseconds=10_000),  # before the expiry the review saw
            asked,
            expires.subtract(microseconds=690_000),
            expires.subtract(microseconds=1),
        ):
            assert hold.occupies(now)
            seen = self.hold_seen(storage, clinic, hold, now)
            assert seen == live, (now, seen)
        for now in (expires, expires.add(microseconds=1), expires.add(minutes=5)):
            assert not hold.occupies(now)
            seen = self.hold_seen(storage, clinic, hold, now)
            assert seen == gone, (now, seen)

    def test_a_hold_with_an_expiry_of_whole_seconds_blocks_to_the_last_microsecond(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        expires = NOW.add(minutes=10)
        hold = clinic.appointment(at(9), status=S.PROPOSED, hold_expires_at=expires)
        assert hold.hold_expires_at == expires
        self.add(storage, hold)
        live = self.hold_seen(storage, clinic, hold, expires.subtract(microseconds=1))
        assert all(live.values()), live
        gone = self.hold_seen(storage, clinic, hold, expires)
        assert not any(gone.values()), gone

    # -- the property ------------------------------------------------------------------
    def test_a_hold_is_free_for_others_exactly_from_its_reported_expiry(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        """For any expiry and any ``now`` (both with microseconds), the storage treats
        the hold's time as free exactly when ``now >= hold_expires_at``."""
        near = st.integers(-3 * SECOND, 3 * SECOND)  # around the expiry
        anywhere = st.integers(-600 * SECOND, 600 * SECOND)

        @settings(
            max_examples=self.hold_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(
            expiry=st.integers(0, 3600 * SECOND).map(lambda us: NOW.add(microseconds=us)),
            offset=st.one_of(near, anywhere, st.integers(-2, 2)),
        )
        def check(expiry: pendulum.DateTime, offset: int) -> None:
            hold = clinic.appointment(at(9), status=S.PROPOSED, hold_expires_at=expiry)
            expires = hold.hold_expires_at
            assert expires is not None
            now = expires + dt.timedelta(microseconds=offset)
            self.add(storage, hold, now=NOW.subtract(hours=1))
            try:
                free = now >= expires
                assert hold.occupies(now) is not free
                seen = self.hold_seen(storage, clinic, hold, now)
                assert seen == dict.fromkeys(seen, not free), (expires, now, seen)
                # Reported as enforced: the asked expiry, rounded up to a whole second.
                assert expiry <= expires < expiry + dt.timedelta(seconds=1)
                assert expires.microsecond == 0
            finally:
                self.release(storage, hold)

        check()

    def test_expired_holds_lists_a_hold_from_the_second_its_expiry_rounds_up_to(
        self, storage: Storage, clinic: SmallClinic
    ) -> None:
        """A hold stored with a fine expiry is listed once ``now`` reaches the second
        its expiry was rounded up to, not the second it was truncated to."""
        asked = NOW.add(seconds=30, microseconds=1)
        hold = clinic.appointment(at(9), status=S.PROPOSED, hold_expires_at=asked)
        self.add(storage, hold, now=NOW)
        assert hold.hold_expires_at is not None
        assert to_epoch(hold.hold_expires_at) == to_epoch(asked) + 1
        with storage.unit_of_work() as uow:
            assert uow.appointments.expired_holds(NOW.add(seconds=30, microseconds=500)) == []
            assert [a.id for a in uow.appointments.expired_holds(NOW.add(seconds=31))] == [hold.id]
