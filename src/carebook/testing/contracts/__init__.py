"""Contract test suites: one abstract pytest class per port.

Subclass the contract in your adapter's tests, name the subclass ``Test...`` and
override its factory fixture; every test then runs against your implementation::

    class TestMyNotifier(NotifierContract):
        @pytest.fixture
        def notifier(self) -> Iterator[Notifier]:
            yield MyNotifier(...)

The suites use only the Protocols in :mod:`carebook.ports`.
"""

from carebook.testing.contracts.clock import ClockContract
from carebook.testing.contracts.notifier import NotifierContract
from carebook.testing.contracts.payment import PaymentGatewayContract
from carebook.testing.contracts.publisher import PublisherContract
from carebook.testing.contracts.storage import StorageContract
from carebook.testing.contracts.storage.pricing import PricingStorageContract
from carebook.testing.contracts.storage.sagas import SagaStorageContract
from carebook.testing.contracts.storage.walkins import WalkInStorageContract

__all__ = [
    "ClockContract",
    "NotifierContract",
    "PaymentGatewayContract",
    "PricingStorageContract",
    "PublisherContract",
    "SagaStorageContract",
    "StorageContract",
    "WalkInStorageContract",
]
