"""The Storage contract: every storage adapter subclasses :class:`StorageContract`.

```python
class TestMyStorage(StorageContract):
    @pytest.fixture
    def storage(self, tmp_path) -> Iterator[Storage]:
        storage = MyStorage(path=tmp_path / "carebook.db")
        yield storage
        storage.close()
```

The suite is split by subject, one module each: calendar rows
(:mod:`~carebook.testing.contracts.storage.calendar`), appointments and busy time
(:mod:`~carebook.testing.contracts.storage.appointments`), units of work and concurrent
writers (:mod:`~carebook.testing.contracts.storage.transactions`), the outbox and the
inbox (:mod:`~carebook.testing.contracts.storage.messages`); their shared fixtures are in
:mod:`~carebook.testing.contracts.storage.base`.
"""

from __future__ import annotations

from carebook.testing.contracts.storage.appointments import AppointmentStorageContract
from carebook.testing.contracts.storage.calendar import CalendarStorageContract
from carebook.testing.contracts.storage.messages import MessageStorageContract
from carebook.testing.contracts.storage.transactions import TransactionStorageContract

__all__ = ["StorageContract"]


class StorageContract(
    CalendarStorageContract,
    AppointmentStorageContract,
    TransactionStorageContract,
    MessageStorageContract,
):
    """The whole Storage contract. Override the ``storage`` fixture to yield a fresh,
    empty storage for each test (and close it afterwards)."""
