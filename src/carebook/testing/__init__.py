"""Test support for carebook and its adapters: contract suites, service flows, builders,
strategies.

Importing this package needs the ``test`` extra (pytest and Hypothesis).

- :mod:`carebook.testing.contracts`: one abstract pytest class per port
  (:class:`StorageContract`, the whole Storage port; :class:`ClockContract`,
  :class:`NotifierContract`, :class:`PublisherContract`, :class:`PaymentGatewayContract`);
  adapters subclass them.
- :mod:`carebook.testing.flows`: :class:`ServiceFlows`, the use cases end to end on a
  storage, subclassed like the contracts (its holds, to the microsecond of their expiry,
  are in :mod:`~carebook.testing.hold_flows`).
- :mod:`carebook.testing.fuzz`: :class:`~carebook.testing.fuzz.BoundaryFuzz`, a Hypothesis
  fuzzer over every public use case (only carebook's errors, or a TypeError naming the
  parameter, escape; a refusal leaves storage unchanged, compared with
  :func:`~carebook.testing.snapshot.storage_state`); the issue's examples are
  :mod:`~carebook.testing.boundary_examples`.
- :mod:`carebook.testing.clinic`: the one clinic builder (a Carebook on a manual clock, its
  clinic set up through ``cb.admin``); :mod:`~carebook.testing.world`,
  :mod:`~carebook.testing.saga_world`, :mod:`~carebook.testing.walkin_world` and
  :mod:`~carebook.testing.scenarios` build their clinics with it.
- :mod:`carebook.testing.builders`: valid domain objects in one call, without a Carebook.
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
