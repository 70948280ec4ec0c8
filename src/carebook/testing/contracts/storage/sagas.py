"""Storage contract: ``uow.sagas`` (booking sagas and their event timelines).

Part of :class:`~carebook.testing.contracts.storage.StorageContract`, which runs it
with every other part; subclass this class alone to run only this part:

```python
class TestMySagas(SagaStorageContract):
    @pytest.fixture
    def storage(self) -> Iterator[Storage]:
        ...
```

Every saga the tests store points at an appointment stored first, so adapters with
foreign keys pass too.
"""

from __future__ import annotations

import uuid
from typing import Any

import attrs
import pendulum
import pytest

from carebook.domain.events import EventStamp
from carebook.domain.ids import SagaId
from carebook.domain.payments.payment import PaymentStatus
from carebook.domain.payments.saga import BookingSaga, Compensation, SagaStatus
from carebook.domain.scheduling.appointment import Appointment, AppointmentStatus
from carebook.errors import ConflictError, StorageError, TransientStorageError
from carebook.ports import Storage
from carebook.testing.builders import SmallClinic
from carebook.testing.contracts.storage.base import NOW, StorageContractBase, at

__all__ = ["SagaStorageContract", "booking_saga"]


def booking_saga(appointment: Appointment, **changes: Any) -> BookingSaga:
    """A saga awaiting payment for ``appointment`` (a hold), stamped :data:`NOW`."""
    saga_id = SagaId(uuid.uuid4())
    values: dict[str, Any] = {
        "id": saga_id,
        "organisation_id": appointment.organisation_id,
        "location_id": appointment.location_id,
        "patient_id": appointment.patient_id,
        "appointment_id": appointment.id,
        "correlation_id": uuid.uuid4().hex,
        "idempotency_key": f"{appointment.patient_id}/{saga_id}",
        "request_fingerprint": "0" * 64,
        "status": SagaStatus.AWAITING_PAYMENT,
        "base_amount": 110_000,
        "amount": 96_800,
        "currency": "EUR",
        "discount": "high_value",
        "quota_day": NOW.date(),
        "requested_at": NOW,
        "payment_deadline": NOW.add(minutes=15),
        "updated_at": NOW,
    }
    values.update(changes)
    return BookingSaga(**values)


def stamp(now: pendulum.DateTime = NOW) -> EventStamp:
    return EventStamp(now, "contract", uuid.uuid4)


class SagaStorageContract(StorageContractBase):
    """What every adapter's ``uow.sagas`` must do."""

    @pytest.fixture
    def holds(self, storage: Storage, clinic: SmallClinic) -> list[Appointment]:
        """Four committed holds, one per patient, from 09:00 tomorrow, hourly."""
        holds = [
            clinic.appointment(
                at(9 + n),
                patient=clinic.patients[n],
                status=AppointmentStatus.PROPOSED,
                hold_expires_at=NOW.add(hours=1),
            )
            for n in range(4)
        ]
        self.add(storage, *holds)
        return holds

    def store(self, storage: Storage, *sagas: BookingSaga) -> None:
        with storage.unit_of_work(write=True) as uow:
            for saga in sagas:
                uow.sagas.add(saga)
            uow.commit()

    def test_a_saga_reads_back_equal_by_id_and_key(
        self, storage: Storage, holds: list[Appointment]
    ) -> None:
        saga = booking_saga(holds[0], promo_code="SPRING")
        self.store(storage, saga)
        with storage.unit_of_work() as uow:
            assert uow.sagas.get(saga.id) == saga
            assert uow.sagas.by_idempotency_key(saga.idempotency_key) == saga
            assert uow.sagas.by_intent("pi_unknown") is None

    def test_updates_are_versioned_and_find_the_intent(
        self, storage: Storage, holds: list[Appointment]
    ) -> None:
        saga = booking_saga(holds[0])
        self.store(storage, saga)
        seen = saga.observe(PaymentStatus.CAPTURED, "pi_contract_1").touched(stamp())
        failed, _ = saga.payment_failed(stamp(), "card_declined")
        with storage.unit_of_work(write=True) as uow:
            uow.sagas.update(seen)
            uow.commit()
        with storage.unit_of_work(write=True) as uow, pytest.raises(ConflictError):
            uow.sagas.update(failed)  # made from the stale version 1
        with storage.unit_of_work() as uow:
            assert uow.sagas.get(saga.id) == seen
            assert uow.sagas.by_intent("pi_contract_1") == seen

    def test_a_second_saga_with_the_same_key_is_refused(
        self, storage: Storage, holds: list[Appointment]
    ) -> None:
        saga = booking_saga(holds[0])
        self.store(storage, saga)
        twin = booking_saga(holds[1], idempotency_key=saga.idempotency_key)
        # ConflictError, or TransientStorageError where the adapter reports a racing key
        # as one (a retried request then finds the first saga by its key).
        with pytest.raises((ConflictError, TransientStorageError)):
            self.store(storage, twin)
        with storage.unit_of_work() as uow:
            assert uow.sagas.get(twin.id) is None

    def test_unfinished_sagas_come_oldest_first_in_pages(
        self, storage: Storage, holds: list[Appointment]
    ) -> None:
        done = attrs.evolve(booking_saga(holds[0]), status=SagaStatus.CONFIRMED)
        gone = booking_saga(
            holds[1],
            status=SagaStatus.FAILED,
            compensated={Compensation.RELEASE_HOLD},
            requested_at=NOW.subtract(minutes=9),
        )
        later = booking_saga(holds[2], requested_at=NOW.add(minutes=1))
        undoing = booking_saga(holds[3], status=SagaStatus.COMPENSATING, requested_at=NOW)
        self.store(storage, done, gone, later, undoing)
        with storage.unit_of_work() as uow:
            assert [s.id for s in uow.sagas.unfinished()] == [undoing.id, later.id]
            first = uow.sagas.unfinished(limit=1)
            assert [s.id for s in first] == [undoing.id]
            rest = uow.sagas.unfinished(after=(first[0].requested_at, first[0].id))
            assert [s.id for s in rest] == [later.id]

    def test_the_timeline_keeps_events_in_order_with_the_change(
        self, storage: Storage, holds: list[Appointment]
    ) -> None:
        saga = booking_saga(holds[0])
        started = saga.started_events(stamp(), holds[0].start, holds[0].end)
        failed, more = saga.payment_failed(stamp(NOW.add(minutes=1)), "card_declined")
        with storage.unit_of_work(write=True) as uow:
            uow.sagas.add(saga)
            uow.sagas.append_timeline(saga.id, started)
            uow.commit()
        with storage.unit_of_work(write=True) as uow:
            uow.sagas.update(failed)
            uow.sagas.append_timeline(saga.id, more)
            # no commit: neither the change nor its events are kept
        with storage.unit_of_work(write=True) as uow:
            assert uow.sagas.timeline(saga.id) == started
            uow.sagas.update(failed)
            uow.sagas.append_timeline(saga.id, more)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.sagas.timeline(saga.id) == [*started, *more]
            assert uow.sagas.timeline(SagaId(uuid.uuid4())) == []

    def test_a_read_only_unit_of_work_changes_no_saga(
        self, storage: Storage, holds: list[Appointment]
    ) -> None:
        saga = booking_saga(holds[0])
        with storage.unit_of_work() as uow:
            with pytest.raises(StorageError):
                uow.sagas.add(saga)
            with pytest.raises(StorageError):
                uow.sagas.append_timeline(saga.id, [])
        with storage.unit_of_work() as uow:
            assert uow.sagas.get(saga.id) is None
