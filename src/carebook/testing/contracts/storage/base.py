"""What every part of the storage contract shares: the instants, the ``storage`` and
``clinic`` fixtures, and helpers that write and read in one unit of work.

Only the Protocols of :mod:`carebook.ports` are used, so the suite runs unchanged
against any adapter. Every row the tests refer to is saved first, so adapters with
foreign keys pass too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterator
from typing import TypeVar

import pendulum
import pytest

from carebook.domain.events import Event
from carebook.domain.ids import AppointmentId
from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.busy import BusyInterval
from carebook.ports import Storage, UnitOfWork
from carebook.testing import builders as b
from carebook.testing.builders import SmallClinic

__all__ = ["NOW", "StorageContractBase", "at"]

T = TypeVar("T")

NOW = pendulum.datetime(2030, 1, 7, 8)
"""The ``now`` every storage contract test passes (a Monday, 08:00 UTC)."""


def at(hour: int, minute: int = 0) -> pendulum.DateTime:
    """``hour:minute`` UTC on the day after :data:`NOW`."""
    return pendulum.datetime(2030, 1, 8, hour, minute)


class StorageContractBase:
    """Fixtures and helpers shared by the storage contract suites.

    Subclasses override :meth:`storage` to yield a fresh, empty storage per test and
    release it afterwards.
    """

    @pytest.fixture
    def storage(self) -> Iterator[Storage]:
        """A fresh, empty storage; the adapter's test class overrides this."""
        raise NotImplementedError("override the 'storage' fixture in your test class")

    @pytest.fixture
    def clinic(self, storage: Storage) -> SmallClinic:
        """A committed clinic: 2 practitioners, 2 rooms, 8 patients, 1 service."""
        clinic = b.small_clinic(practitioners=2, resources=2, patients=8)
        with storage.unit_of_work(write=True) as uow:
            clinic.save(uow)
            uow.commit()
        return clinic

    @staticmethod
    def write(storage: Storage, *changes: Callable[[UnitOfWork], object]) -> object:
        """Apply ``changes`` in order in one write unit of work and commit; return what
        the last change returned."""
        result: object = None
        with storage.unit_of_work(write=True) as uow:
            for change in changes:
                result = change(uow)
            uow.commit()
        return result

    @staticmethod
    def read(storage: Storage, query: Callable[[UnitOfWork], T]) -> T:
        """What ``query`` returns in a read-only unit of work."""
        with storage.unit_of_work() as uow:
            return query(uow)

    @staticmethod
    def add(storage: Storage, *appointments: Appointment, now: pendulum.DateTime = NOW) -> None:
        """Add ``appointments`` in one write unit of work and commit."""
        with storage.unit_of_work(write=True) as uow:
            for appointment in appointments:
                uow.appointments.add(appointment, now=now)
            uow.commit()

    @staticmethod
    def append(storage: Storage, *events: Event) -> None:
        """Append ``events`` to the outbox in one committed unit of work."""
        with storage.unit_of_work(write=True) as uow:
            uow.outbox.append(events)
            uow.commit()

    @staticmethod
    def pending(storage: Storage, limit: int = 100) -> list[Event]:
        """The committed, undispatched outbox events."""
        with storage.unit_of_work() as uow:
            return uow.outbox.pending(limit)

    @staticmethod
    def stored(storage: Storage, appointment_id: AppointmentId) -> Appointment | None:
        """The committed appointment, or None."""
        with storage.unit_of_work() as uow:
            return uow.appointments.get(appointment_id)

    def busy(
        self,
        storage: Storage,
        start: int,
        end: int,
        *,
        practitioner_ids: Collection[uuid.UUID] = (),
        resource_ids: Collection[uuid.UUID] = (),
        patient_ids: Collection[uuid.UUID] = (),
        exclude: uuid.UUID | None = None,
    ) -> set[BusyInterval]:
        """Committed busy intervals at :data:`NOW`, each reported once, without their
        ``appointment_id`` (a storage need not name it)."""
        with storage.unit_of_work() as uow:
            found = uow.appointments.busy_intervals(
                start,
                end,
                practitioner_ids=practitioner_ids,
                resource_ids=resource_ids,
                patient_ids=patient_ids,
                now=NOW,
                exclude=exclude,
            )
        spans = [b._replace(appointment_id=None) for b in found]
        assert len(spans) == len(set(spans)), "no busy interval is reported twice"
        return set(spans)
