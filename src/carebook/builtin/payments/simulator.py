"""A simulated payment gateway with a ledger, for demos, tests and benchmarks.

Modes (``mode=``, changeable at run time with :meth:`SimulatedPaymentGateway.set_mode`):

- ``success``: every authorisation is approved.
- ``fail``: every authorisation is declined (status ``failed``, ``failure_code``).
- ``random``: declined with probability ``failure_rate``, drawn from
  ``random.Random(seed)``, so a seed replays the same sequence of outcomes.
- ``timeout``: every new call raises :class:`~carebook.errors.PaymentTimeoutError`
  **after** the gateway acted, as a real provider may: an authorisation is recorded as
  ``pending`` (settled to ``timeout_outcome`` the next time anyone looks at it: a
  replay with the same key, :meth:`retrieve`, :meth:`webhook_for`); a capture, cancel
  or refund is applied. A replay with the same idempotency key answers without acting.

Only authorisations are declined; capture, cancel and refund follow the status rules of
the :class:`~carebook.ports.PaymentGateway` port. Thread-safe (one lock). Every movement
is appended to :attr:`ledger`, which tests check.

With ``ledger_path`` the gateway is durable: every change is also appended to that file
(JSON lines, fsynced before the call returns) and a gateway built on the same file later,
in another process, replays it: a killed worker's payments are still known after a
restart (:mod:`carebook.builtin.payments.journal`).
"""

from __future__ import annotations

import datetime as dt
import enum
import os
import random
import threading
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

import attrs
from attrs import frozen

from carebook.builtin.payments.journal import Journal
from carebook.builtin.payments.ledger import Ledger, LedgerEntry
from carebook.domain.currencies import MINOR_UNITS
from carebook.domain.instants import require_aware
from carebook.domain.payments.payment import PaymentIntent, PaymentStatus
from carebook.domain.payments.webhooks import PaymentWebhookEvent, sign_payload
from carebook.domain.validators import to_enum
from carebook.errors import (
    ConfigurationError,
    IdempotencyConflictError,
    InvalidTransitionError,
    NotFoundError,
    PaymentTimeoutError,
    ValidationError,
)

__all__ = ["LedgerEntry", "SignedWebhook", "SimulatedMode", "SimulatedPaymentGateway"]

_OPTIONS: Final = frozenset(
    {"mode", "seed", "failure_rate", "timeout_outcome", "decline_code", "ledger_path", "id_prefix"}
)
_A = PaymentStatus.AUTHORISED


class SimulatedMode(enum.StrEnum):
    SUCCESS = "success"
    FAIL = "fail"
    RANDOM = "random"
    TIMEOUT = "timeout"


@frozen(kw_only=True)
class SignedWebhook:
    """A webhook as the provider would send it: the raw body and its signature header."""

    body: bytes
    signature: str
    event: PaymentWebhookEvent


def _key(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError("an idempotency key must be a non-empty string")
    return value


def _positive(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError(f"{what} must be positive whole minor units")
    return value


class SimulatedPaymentGateway:
    """The built-in ``"simulated"`` payment gateway (see the module docstring)."""

    def __init__(
        self,
        *,
        mode: SimulatedMode | str = SimulatedMode.SUCCESS,
        seed: int = 0,
        failure_rate: float | Decimal = 0.5,
        timeout_outcome: PaymentStatus | str = PaymentStatus.AUTHORISED,
        decline_code: str = "card_declined",
        ledger_path: str | os.PathLike[str] | None = None,
        id_prefix: str = "pi_sim_",
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValidationError("seed must be an int")
        if isinstance(failure_rate, bool) or not isinstance(failure_rate, float | int | Decimal):
            raise ValidationError("failure_rate must be a number between 0 and 1")
        if not 0 <= failure_rate <= 1:
            raise ValidationError("failure_rate must be between 0 and 1")
        outcome = to_enum(PaymentStatus, timeout_outcome, "timeout_outcome")
        if outcome not in (PaymentStatus.AUTHORISED, PaymentStatus.FAILED):
            raise ValidationError("timeout_outcome must be 'authorised' or 'failed'")
        if not isinstance(decline_code, str) or not decline_code:
            raise ValidationError("decline_code must be a non-empty string")
        if not isinstance(id_prefix, str) or not id_prefix:
            raise ValidationError("id_prefix must be a non-empty string")
        self._mode = to_enum(SimulatedMode, mode, "mode")
        self._rng = random.Random(seed)
        self._failure_rate = float(failure_rate)
        self._timeout_outcome = outcome
        self._decline_code = decline_code
        self._lock = threading.RLock()
        self._intents: dict[str, PaymentIntent] = {}
        self._requests: dict[str, tuple[tuple[object, ...], str]] = {}
        self._ledger = Ledger()
        self._events = 0
        self._id_prefix = id_prefix
        self._journal = None if ledger_path is None else Journal(ledger_path)
        if self._journal is not None:
            self._events = self._journal.restore(self._intents, self._requests, self._ledger)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SimulatedPaymentGateway:
        """From ``CarebookConfig.payment_gateway_options``: ``mode``, ``seed``,
        ``failure_rate``, ``timeout_outcome``, ``decline_code``, ``ledger_path`` (a file
        that makes the gateway durable), ``id_prefix`` (intent ids are the prefix and a
        number; give each process its own when several share one database); anything
        else, or a value of the wrong type, is a ConfigurationError."""
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ConfigurationError(f"unknown simulated gateway options: {sorted(unknown)}")
        try:
            return cls(**options)
        except ValidationError as exc:
            raise ConfigurationError(f"simulated gateway options: {exc}") from None

    @property
    def mode(self) -> SimulatedMode:
        return self._mode

    def set_mode(self, mode: SimulatedMode | str) -> None:
        """Switch mode; what is already recorded is unchanged."""
        new = to_enum(SimulatedMode, mode, "mode")
        with self._lock:
            self._mode = new

    # -- the port --------------------------------------------------------------------------

    def authorise(
        self, *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str]
    ) -> PaymentIntent:
        _positive(amount, "amount")
        if not isinstance(currency, str) or currency not in MINOR_UNITS:
            raise ValidationError("currency must be an ISO 4217 code")
        key = _key(idempotency_key)
        if not isinstance(metadata, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
        ):
            raise ValidationError("payment metadata maps strings to strings (ids only)")
        fingerprint = ("authorise", amount, currency, tuple(sorted(metadata.items())))
        with self._lock:
            replayed = self._replay(key, fingerprint)
            if replayed is not None:
                return replayed
            if self._mode is SimulatedMode.TIMEOUT:
                status = PaymentStatus.PENDING
            elif self._mode is SimulatedMode.FAIL or (
                self._mode is SimulatedMode.RANDOM and self._rng.random() < self._failure_rate
            ):
                status = PaymentStatus.FAILED
            else:
                status = PaymentStatus.AUTHORISED
            intent = PaymentIntent(
                id=f"{self._id_prefix}{len(self._intents) + 1:06d}",
                amount=amount,
                currency=currency,
                status=status,
                idempotency_key=key,
                metadata=dict(metadata),
                failure_code=self._decline_code if status is PaymentStatus.FAILED else None,
            )
            self._store(intent, key, fingerprint, amount)
            if status is PaymentStatus.PENDING:
                raise PaymentTimeoutError("authorise", key)
            return intent

    def capture(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        return self._move(intent_id, "capture", _key(idempotency_key), None)

    def cancel(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        return self._move(intent_id, "cancel", _key(idempotency_key), None)

    def refund(self, intent_id: str, *, amount: int, idempotency_key: str) -> PaymentIntent:
        return self._move(intent_id, "refund", _key(idempotency_key), _positive(amount, "amount"))

    def retrieve(self, intent_id: str) -> PaymentIntent:
        with self._lock:
            return self._settled(intent_id)

    # -- the ledger ------------------------------------------------------------------------

    @property
    def ledger(self) -> tuple[LedgerEntry, ...]:
        """Every movement so far, oldest first (a snapshot)."""
        return self._ledger.entries

    def intents(self) -> tuple[PaymentIntent, ...]:
        """Every intent as it stands now, oldest first (pending ones stay pending)."""
        with self._lock:
            return tuple(self._intents.values())

    def charges_for(self, idempotency_key: str) -> tuple[LedgerEntry, ...]:
        """The movements recorded under one idempotency key (a replay adds none)."""
        return self._ledger.charges_for(idempotency_key)

    def captured_total(self, currency: str | None = None) -> int:
        """Minor units ever captured (name ``currency`` if several were used)."""
        return self._ledger.captured(currency)

    def refunded_total(self, currency: str | None = None) -> int:
        """Minor units ever refunded (partial and full refunds)."""
        return self._ledger.refunded(currency)

    def net_captured(self, currency: str | None = None) -> int:
        """Captured minus refunded: what the clinic keeps."""
        return self.captured_total(currency) - self.refunded_total(currency)

    def webhook_for(self, intent_id: str, secret: str | bytes, now: dt.datetime) -> SignedWebhook:
        """A signed ``payment_intent.<status>`` event for the intent as it is now."""
        instant = require_aware(now, "now")
        with self._lock:
            intent = self._settled(intent_id)
            self._events += 1
            self._journal_write({"op": "event"})
            event = PaymentWebhookEvent(
                event_id=f"evt_sim_{self._events:06d}",
                type=f"payment_intent.{intent.status.value}",
                intent_id=intent.id,
                amount=intent.amount,
                currency=intent.currency,
                amount_refunded=intent.amount_refunded,
                created=instant,
            )
        body = event.to_json()
        return SignedWebhook(
            body=body, signature=sign_payload(body, secret, int(instant.timestamp())), event=event
        )

    # -- internals (call with the lock held) -----------------------------------------------

    def _store(
        self, intent: PaymentIntent, key: str, fingerprint: tuple[object, ...], amount: int
    ) -> None:
        self._intents[intent.id] = intent
        self._requests[key] = (fingerprint, intent.id)
        self._ledger.record(intent.status, intent, amount, key)
        self._journal_write(
            {"op": "store", "intent": _row(intent), "key": key, "fp": fingerprint, "amount": amount}
        )

    def _replay(self, key: str, fingerprint: tuple[object, ...]) -> PaymentIntent | None:
        known = self._requests.get(key)
        if known is None:
            return None
        if known[0] != fingerprint:
            raise IdempotencyConflictError(
                f"idempotency key {key} was used for a different payment request"
            )
        return self._settled(known[1])

    def _settled(self, intent_id: str) -> PaymentIntent:
        intent = self._intents.get(intent_id)
        if intent is None:
            raise NotFoundError("payment intent", intent_id)
        if intent.status is PaymentStatus.PENDING:
            failed = self._timeout_outcome is PaymentStatus.FAILED
            intent = attrs.evolve(
                intent,
                status=self._timeout_outcome,
                failure_code=self._decline_code if failed else None,
            )
            self._intents[intent_id] = intent
            self._ledger.record(intent.status, intent, intent.amount, intent.idempotency_key)
            self._journal_write({"op": "settle", "intent": _row(intent)})
        return intent

    def _journal_write(self, record: dict[str, Any]) -> None:
        if self._journal is not None:
            self._journal.append(record)

    def _move(self, intent_id: str, operation: str, key: str, amount: int | None) -> PaymentIntent:
        fingerprint = (operation, intent_id, amount)
        with self._lock:
            replayed = self._replay(key, fingerprint)
            if replayed is not None:
                return replayed
            intent = self._settled(intent_id)
            status = intent.status
            if operation == "capture" and status is _A:
                moved, new = (
                    intent.amount,
                    attrs.evolve(
                        intent, status=PaymentStatus.CAPTURED, amount_captured=intent.amount
                    ),
                )
            elif operation == "cancel" and status is _A:
                moved, new = intent.amount, attrs.evolve(intent, status=PaymentStatus.CANCELLED)
            elif operation == "refund" and status in (
                PaymentStatus.CAPTURED,
                PaymentStatus.PARTIALLY_REFUNDED,
            ):
                assert amount is not None
                if amount > intent.refundable:
                    raise ValidationError(
                        f"a refund amount must not exceed what is refundable on payment "
                        f"intent {intent_id} ({intent.refundable} minor units)"
                    )
                refunded = intent.amount_refunded + amount
                full = refunded == intent.amount_captured
                moved, new = (
                    amount,
                    attrs.evolve(
                        intent,
                        amount_refunded=refunded,
                        status=PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED,
                    ),
                )
            else:
                raise InvalidTransitionError("payment intent", status.value, operation)
            self._store(new, key, fingerprint, moved)
            if self._mode is SimulatedMode.TIMEOUT:
                raise PaymentTimeoutError(operation, key)
            return new


def _row(intent: PaymentIntent) -> dict[str, Any]:
    return attrs.asdict(intent)
