"""What the booking saga's use cases run against: settings, the gateway, the discount
policies, and the crash points tests use to kill a worker between two steps."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import attrs
from attrs import frozen

from carebook.domain.events import Event, EventStamp, leaves_core
from carebook.domain.payments.saga import BookingSaga
from carebook.domain.pricing.discounts import DiscountPolicy
from carebook.errors import ConfigurationError, ValidationError
from carebook.ports import PaymentGateway, UnitOfWork
from carebook.services.context import Deps

__all__ = [
    "COMMITTED",
    "COMPENSATING",
    "CRASH_POINTS",
    "GATEWAY_CALLED",
    "SagaRuntime",
    "SagaSettings",
    "emit",
    "store",
]

COMMITTED: Final = "committed"
"""A saga change (and its events) committed; nothing published yet."""
GATEWAY_CALLED: Final = "gateway_called"
"""A payment call returned; its result is not recorded yet."""
COMPENSATING: Final = "compensating"
"""A compensation step committed; the next one has not run yet."""
CRASH_POINTS: Final = (COMMITTED, GATEWAY_CALLED, COMPENSATING)

_OPTIONS: Final = frozenset(
    {"payment_timeout_minutes", "confirm_grace_minutes", "webhook_secret", "webhook_tolerance"}
)


def _positive(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError(f"{attribute.name} must be a whole number above zero")


def _secret(_: object, __: attrs.Attribute[str | None], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValidationError("webhook_secret must be a non-empty string")


@frozen(kw_only=True)
class SagaSettings:
    """How long a booking waits for its payment, and how webhooks are checked.

    ``payment_timeout_minutes`` (default 15): a payment not completed by then fails the
    booking. The slot is held ``confirm_grace_minutes`` (default 5) longer, so a payment
    completed just before the deadline can still be confirmed. ``webhook_secret``
    (kept out of ``repr``) and ``webhook_tolerance`` (seconds, default 300) check the
    provider's signed webhooks.
    """

    payment_timeout_minutes: int = attrs.field(default=15, validator=_positive)
    confirm_grace_minutes: int = attrs.field(default=5, validator=_positive)
    webhook_secret: str | None = attrs.field(default=None, validator=_secret, repr=False)
    webhook_tolerance: int = attrs.field(default=300, validator=_positive)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SagaSettings:
        """From ``CarebookConfig.saga_options``; unknown keys or bad values are
        ConfigurationErrors."""
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ConfigurationError(f"unknown saga options: {sorted(unknown)}")
        try:
            return cls(**options)
        except ValidationError as exc:
            raise ConfigurationError(f"saga options: {exc}") from None


def _no_crash(_: str) -> None:
    """Production: crash points do nothing."""


@attrs.define(kw_only=True)
class SagaRuntime:
    """The saga's wiring (built once by the Carebook)."""

    deps: Deps
    gateway: PaymentGateway | None
    policies: Sequence[DiscountPolicy]
    settings: SagaSettings
    inline: bool
    crashpoint: Callable[[str], None] = _no_crash

    def require_gateway(self) -> PaymentGateway:
        if self.gateway is None:
            raise ConfigurationError(
                "the booking saga needs a payment gateway: CarebookConfig(payment_gateway=...)"
            )
        return self.gateway

    def stamp(self, saga: BookingSaga) -> EventStamp:
        """Events of a saga step carry the saga's correlation id."""
        return EventStamp(self.deps.clock.now(), saga.correlation_id, self.deps.new_id)

    def info(self, saga: BookingSaga, message: str, *args: Any) -> None:
        self.deps.info(self.stamp(saga), message, *args)


def store(uow: UnitOfWork, saga: BookingSaga, events: Sequence[Event]) -> None:
    """Write a changed saga with its events (timeline and outbox), version-checked.

    Call it first in a unit of work: a stale writer then fails before changing anything.
    """
    uow.sagas.update(saga)
    emit(uow, saga, events)


def emit(uow: UnitOfWork, saga: BookingSaga, events: Sequence[Event]) -> None:
    """Append ``events`` to the saga's timeline and, all but the timeline-only ones
    (:data:`~carebook.domain.events.TIMELINE_ONLY_EVENT_TYPES`), to the outbox, in this
    transaction."""
    if events:
        uow.sagas.append_timeline(saga.id, events)
        public = [e for e in events if leaves_core(e)]
        if public:
            uow.outbox.append(public)
