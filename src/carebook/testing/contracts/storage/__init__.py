"""The Storage contract: every storage adapter subclasses :class:`StorageContract`.

```python
class TestMyStorage(StorageContract):
    @pytest.fixture
    def storage(self, tmp_path) -> Iterator[Storage]:
        storage = MyStorage(path=tmp_path / "carebook.db")
        yield storage
        storage.close()
```

That one class runs the whole port. The suite is split by subject, one module and one
class each, for an adapter that wants to run one part alone:

- :class:`CalendarStorageContract`: calendar rows and patients
  (:mod:`~carebook.testing.contracts.storage.calendar`);
- :class:`AppointmentStorageContract`: appointments, busy time and the no-overlap
  guarantee (:mod:`~carebook.testing.contracts.storage.appointments`);
- :class:`HoldStorageContract`: a hold blocks its time until its expiry, to the
  microsecond, in every read and write (:mod:`~carebook.testing.contracts.storage.holds`);
- :class:`MoveStorageContract`: reschedules move a row in place with the same
  no-overlap guarantee (:mod:`~carebook.testing.contracts.storage.moves`);
- :class:`TransactionStorageContract`: units of work and concurrent writers
  (:mod:`~carebook.testing.contracts.storage.transactions`);
- :class:`MessageStorageContract`: the outbox and the inbox
  (:mod:`~carebook.testing.contracts.storage.messages`);
- :class:`DeliveryStorageContract`: per-consumer delivery states, deferred outbox events
  and the list of organisations (:mod:`~carebook.testing.contracts.storage.deliveries`);
- :class:`WalkInStorageContract`: ``uow.walkins``
  (:mod:`~carebook.testing.contracts.storage.walkins` and ``walkins_state``);
- :class:`PricingStorageContract`: ``uow.pricing``
  (:mod:`~carebook.testing.contracts.storage.pricing`);
- :class:`ReminderStorageContract`: ``uow.reminders``
  (:mod:`~carebook.testing.contracts.storage.reminders`);
- :class:`SagaStorageContract`: ``uow.sagas``
  (:mod:`~carebook.testing.contracts.storage.sagas`).

Their shared fixtures and helpers are in :mod:`~carebook.testing.contracts.storage.base`.
"""

from __future__ import annotations

from carebook.testing.contracts.storage.appointments import AppointmentStorageContract
from carebook.testing.contracts.storage.calendar import CalendarStorageContract
from carebook.testing.contracts.storage.deliveries import DeliveryStorageContract
from carebook.testing.contracts.storage.holds import HoldStorageContract
from carebook.testing.contracts.storage.messages import MessageStorageContract
from carebook.testing.contracts.storage.moves import MoveStorageContract
from carebook.testing.contracts.storage.pricing import PricingStorageContract
from carebook.testing.contracts.storage.reminders import ReminderStorageContract
from carebook.testing.contracts.storage.sagas import SagaStorageContract
from carebook.testing.contracts.storage.transactions import TransactionStorageContract
from carebook.testing.contracts.storage.walkins import WalkInStorageContract

__all__ = [
    "AppointmentStorageContract",
    "CalendarStorageContract",
    "DeliveryStorageContract",
    "HoldStorageContract",
    "MessageStorageContract",
    "MoveStorageContract",
    "PricingStorageContract",
    "ReminderStorageContract",
    "SagaStorageContract",
    "StorageContract",
    "TransactionStorageContract",
    "WalkInStorageContract",
]


class StorageContract(
    CalendarStorageContract,
    AppointmentStorageContract,
    HoldStorageContract,
    MoveStorageContract,
    TransactionStorageContract,
    MessageStorageContract,
    DeliveryStorageContract,
    WalkInStorageContract,
    PricingStorageContract,
    ReminderStorageContract,
    SagaStorageContract,
):
    """The whole Storage contract: calendar, patients, appointments, busy time, hold
    expiry and reschedules, units of work and concurrent writers, outbox, inbox,
    delivery states, walk-ins, pricing, reminders and sagas.

    Override the ``storage`` fixture to yield a fresh, empty storage for each test (and
    close it afterwards); nothing else is needed to run every part.
    """
