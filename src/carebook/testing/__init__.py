"""Test support for carebook and its adapters: contract suites, builders, strategies.

Importing this package needs the ``test`` extra (pytest and Hypothesis).

- :mod:`carebook.testing.contracts`: one abstract pytest class per port
  (:class:`StorageContract`, :class:`ClockContract`, :class:`NotifierContract`,
  :class:`PublisherContract`, :class:`PaymentGatewayContract`); adapters subclass them.
- :mod:`carebook.testing.builders`: valid domain objects in one call.
- :mod:`carebook.testing.strategies`: Hypothesis strategies for values, events, commands.
"""

from carebook.testing import builders, strategies
from carebook.testing.builders import SmallClinic, small_clinic
from carebook.testing.contracts import (
    ClockContract,
    NotifierContract,
    PaymentGatewayContract,
    PublisherContract,
    StorageContract,
)

__all__ = [
    "ClockContract",
    "NotifierContract",
    "PaymentGatewayContract",
    "PublisherContract",
    "SmallClinic",
    "StorageContract",
    "builders",
    "small_clinic",
    "strategies",
]
