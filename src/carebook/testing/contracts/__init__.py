"""Contract test suites: one abstract pytest class per port.

Subclass the contract in your adapter's tests, name the subclass ``Test...`` and
override its factory fixture; every test then runs against your implementation::

    class TestMyNotifier(NotifierContract):
        @pytest.fixture
        def notifier(self) -> Iterator[Notifier]:
            yield MyNotifier(...)

:class:`StorageContract` is the whole Storage port; its parts (calendar, appointments,
holds, reschedules, transactions, messages, walk-ins, pricing, sagas) are also
importable one by one, for an adapter that implements only some of them. The suites
use only the Protocols in :mod:`carebook.ports`.
"""

from carebook.testing.contracts.channel import ChannelNotifierContract
from carebook.testing.contracts.clock import ClockContract
from carebook.testing.contracts.notifier import NotifierContract
from carebook.testing.contracts.payment import PaymentGatewayContract
from carebook.testing.contracts.publisher import PublisherContract
from carebook.testing.contracts.storage import (
    AppointmentStorageContract,
    CalendarStorageContract,
    HoldStorageContract,
    MessageStorageContract,
    MoveStorageContract,
    PricingStorageContract,
    ReminderStorageContract,
    SagaStorageContract,
    StorageContract,
    TransactionStorageContract,
    WalkInStorageContract,
)

__all__ = [
    "AppointmentStorageContract",
    "CalendarStorageContract",
    "ChannelNotifierContract",
    "ClockContract",
    "HoldStorageContract",
    "MessageStorageContract",
    "MoveStorageContract",
    "NotifierContract",
    "PaymentGatewayContract",
    "PricingStorageContract",
    "PublisherContract",
    "ReminderStorageContract",
    "SagaStorageContract",
    "StorageContract",
    "TransactionStorageContract",
    "WalkInStorageContract",
]
