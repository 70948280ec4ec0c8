"""The clock port: the only source of ``now``.

Every implementation runs :class:`carebook.testing.contracts.ClockContract`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import pendulum

__all__ = ["Clock"]


@runtime_checkable
class Clock(Protocol):
    """The only source of ``now`` (a UTC pendulum DateTime)."""

    def now(self) -> pendulum.DateTime: ...
