"""Delivery of one committed event to one consumer: its state and its retry rule.

A consumer is the publisher, a subscriber (the plugins' ``carebook_on_event``, the saga
coordinator) or one notification through one notifier; each has a stable name
(:func:`consumer_name`). A :class:`Delivery` is ``pending`` until the consumer took the
event (``delivered``) or gave up on it (``dead``, after
:attr:`RetryPolicy.max_attempts`). A dispatcher *claims* a due delivery before calling
the consumer: the claim counts an attempt and keeps other dispatchers off for
:attr:`RetryPolicy.lease_seconds`; a dispatcher that dies holding one loses nothing, the
lease runs out and the delivery is due again.

Pure: ``now``, the claim token and the jitter (a number in ``[0, 1)``) come in as
arguments.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import pendulum
from attrs import frozen

from carebook.domain.ids import EventId
from carebook.domain.validators import check_option_names
from carebook.errors import ConfigurationError, ValidationError

__all__ = [
    "Delivery",
    "DeliveryStatus",
    "RetryPolicy",
    "consumer_name",
    "event_settled",
    "next_due",
]


class DeliveryStatus(enum.Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


def consumer_name(kind: str, *parts: str) -> str:
    """The stable name of a consumer: ``publisher``, ``subscriber:sagas``,
    ``notifier:sms:appointment_booked:patient``. It keys the delivery and the inbox, so
    it must not change between releases for a consumer that already has deliveries."""
    return ":".join((kind, *parts))


@frozen(kw_only=True)
class RetryPolicy:
    """How often, and how far apart, a failing consumer is tried.

    The ``n``-th retry waits ``min(max_delay_seconds, base_delay_seconds * 2**(n-1))``
    scaled by a jitter factor in ``[0.5, 1)``, so that consumers failing together do
    not come back together. After ``max_attempts`` attempts the delivery is dead.
    """

    max_attempts: int = 8
    base_delay_seconds: int = 30
    max_delay_seconds: int = 3600
    lease_seconds: int = 300

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if type(value) is not int or value < 1:
                raise ConfigurationError(f"delivery option {field.name} must be an integer >= 1")
        if self.max_delay_seconds < self.base_delay_seconds:
            raise ConfigurationError("max_delay_seconds must be at least base_delay_seconds")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> RetryPolicy:
        """From ``CarebookConfig.delivery_options``; unknown keys are errors."""
        return cls(**check_option_names(cls, options, "delivery options"))

    def delay(self, attempts: int, jitter: float) -> pendulum.Duration:
        """How long to wait after the ``attempts``-th failed attempt (``attempts >= 1``)."""
        if attempts < 1 or not 0.0 <= jitter < 1.0:
            raise ValidationError("delay needs attempts >= 1 and jitter in [0, 1)")
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2 ** min(attempts - 1, 62))
        return pendulum.duration(microseconds=int(ceiling * 1_000_000 * (0.5 + jitter / 2)))


@frozen(kw_only=True)
class Delivery:
    """Where one event stands with one consumer.

    ``next_attempt_at`` is when a pending delivery is due (while claimed: when the
    claim runs out); None once delivered or dead. ``claim`` is the token of the
    dispatcher holding it. ``last_error`` is the consumer's last exception, its class
    and its scrubbed message (:func:`carebook.domain.redaction.describe_failure`).
    ``version`` counts stored changes (0: never stored).
    """

    event_id: EventId
    consumer: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: pendulum.DateTime | None
    updated_at: pendulum.DateTime
    claim: str | None = None
    last_error: str | None = None
    version: int = 0

    @classmethod
    def new(cls, event_id: EventId, consumer: str, now: pendulum.DateTime) -> Delivery:
        """A delivery nobody has tried yet: due at once."""
        return cls(
            event_id=event_id,
            consumer=consumer,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            updated_at=now,
        )

    @property
    def settled(self) -> bool:
        """Delivered or dead: nothing more will be tried (unless an admin retries)."""
        return self.status is not DeliveryStatus.PENDING

    def due(self, now: pendulum.DateTime) -> bool:
        """Pending, and its time (or its claim's) has come."""
        return (
            self.status is DeliveryStatus.PENDING
            and self.next_attempt_at is not None
            and self.next_attempt_at <= now
        )

    def claimed(self, now: pendulum.DateTime, token: str, policy: RetryPolicy) -> Delivery:
        """Taken by the dispatcher holding ``token``: one more attempt, a lease."""
        if not self.due(now):
            raise ValidationError(f"delivery {self.event_id} to {self.consumer} is not due")
        return attrs.evolve(
            self,
            attempts=self.attempts + 1,
            next_attempt_at=now.add(seconds=policy.lease_seconds),
            claim=token,
            updated_at=now,
            version=self.version + 1,
        )

    def succeeded(self, now: pendulum.DateTime) -> Delivery:
        """The consumer took the event (whoever holds the claim now: it happened)."""
        if self.status is DeliveryStatus.DELIVERED:
            return self
        return attrs.evolve(
            self,
            status=DeliveryStatus.DELIVERED,
            next_attempt_at=None,
            claim=None,
            updated_at=now,
            version=self.version + 1,
        )

    def failed(
        self,
        now: pendulum.DateTime,
        token: str,
        error: str,
        policy: RetryPolicy,
        jitter: float,
    ) -> Delivery:
        """The consumer raised during the claim ``token``: try again after the backoff,
        or give up after the last attempt. A claim that is no longer held (it ran out
        and another dispatcher took the delivery) changes nothing."""
        if self.claim != token or self.status is not DeliveryStatus.PENDING:
            return self
        dead = self.attempts >= policy.max_attempts
        return attrs.evolve(
            self,
            status=DeliveryStatus.DEAD if dead else DeliveryStatus.PENDING,
            next_attempt_at=None if dead else now + policy.delay(self.attempts, jitter),
            claim=None,
            last_error=error,
            updated_at=now,
            version=self.version + 1,
        )

    def retried(self, now: pendulum.DateTime) -> Delivery:
        """An admin's retry of a dead letter: pending and due now, with a fresh count
        of attempts (the last error is kept until the next attempt)."""
        if self.status is not DeliveryStatus.DEAD:
            raise ValidationError(f"delivery {self.event_id} to {self.consumer} is not dead")
        return attrs.evolve(
            self,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            claim=None,
            updated_at=now,
            version=self.version + 1,
        )


def event_settled(consumers: Iterable[str], deliveries: Mapping[str, Delivery]) -> bool:
    """Whether an event is done with: every one of its consumers delivered or dead."""
    return all(c in deliveries and deliveries[c].settled for c in consumers)


def next_due(deliveries: Iterable[Delivery]) -> pendulum.DateTime | None:
    """The earliest time one of these pending deliveries (or claims) is due."""
    times = [
        d.next_attempt_at
        for d in deliveries
        if d.status is DeliveryStatus.PENDING and d.next_attempt_at is not None
    ]
    return min(times, default=None)
