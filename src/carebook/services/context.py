"""What every use case needs: ports, rules, and how to stamp and dispatch events."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs

from carebook.domain.events import EventStamp
from carebook.domain.scheduling.rules import ReservationRule
from carebook.ports import Clock, Storage, UnitOfWork
from carebook.services.transactions import run_write

__all__ = ["Deps", "new_correlation_id"]

T = TypeVar("T")


def new_correlation_id() -> str:
    return uuid.uuid4().hex


@attrs.define(kw_only=True)
class Deps:
    """The wiring a use case runs against (built once by bootstrap)."""

    storage: Storage
    clock: Clock
    rules: Sequence[ReservationRule]
    after_commit: Callable[[], None]
    new_id: Callable[[], uuid.UUID] = uuid.uuid4
    log: logging.Logger = attrs.field(factory=lambda: logging.getLogger("carebook"))

    def write(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run ``work`` in a write unit of work and commit (retrying transient conflicts)."""
        return run_write(self.storage, work)

    def stamp(self, correlation_id: str | None) -> EventStamp:
        return EventStamp(self.clock.now(), correlation_id or new_correlation_id(), self.new_id)

    def info(self, stamp: EventStamp, message: str, *args: Any) -> None:
        """Log with the correlation id attached (ids only, never patient data)."""
        self.log.info(
            "[%s] " + message,
            stamp.correlation_id,
            *args,
            extra={"correlation_id": stamp.correlation_id},
        )
