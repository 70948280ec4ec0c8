"""What every use case needs: ports, rules, transition observers, and how to stamp and
dispatch events."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import attrs

from carebook.domain.actors import Actor
from carebook.domain.events import Event, EventStamp
from carebook.domain.scheduling.appointment import Appointment
from carebook.domain.scheduling.rules import ReservationRule
from carebook.ports import Clock, Storage, UnitOfWork
from carebook.services.transactions import run_write

__all__ = ["Deps", "TransitionObserver", "new_correlation_id"]

T = TypeVar("T")


def new_correlation_id() -> str:
    return uuid.uuid4().hex


class TransitionObserver(Protocol):
    """Told of every lifecycle transition inside its unit of work (the walk-in queue
    follows the appointments this way); returns the events to append with it.

    ``stamp`` carries ``now``, the correlation id and the id source of the transition's
    events; ``actor`` is who made it. Raising rolls the transition back.
    """

    def __call__(
        self,
        uow: UnitOfWork,
        stamp: EventStamp,
        actor: Actor,
        before: Appointment,
        after: Appointment,
    ) -> Sequence[Event]: ...


@attrs.define(kw_only=True)
class Deps:
    """The wiring a use case runs against (built once by bootstrap).

    ``transition_observers`` run, in order, in the unit of work of every lifecycle
    transition (:mod:`carebook.services.lifecycle.transitions`).
    """

    storage: Storage
    clock: Clock
    rules: Sequence[ReservationRule]
    after_commit: Callable[[], None]
    transition_observers: tuple[TransitionObserver, ...]
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
