"""Payment-provider webhooks, pure: sign and verify (HMAC over the raw bytes, with the
timestamp passed in), parse the event, fold events into a payment's state.

**Signature scheme.** The header (``Carebook-Signature``) reads ``t=<unix seconds>,v1=<hex>``:
``v1`` is the lower-case hex HMAC-SHA256, keyed with the shared secret, of
``f"{t}.".encode() + raw_body`` (the body exactly as received, before any JSON parsing).
Several ``v1=`` entries may be given (while a secret is rotated); one must match. Other
keys are ignored. Comparison is constant-time (:func:`hmac.compare_digest`). The
timestamp must lie within ``tolerance`` seconds (default 300) of ``now``, before or
after, so a captured request cannot be replayed later. Every refusal is a
:class:`~carebook.errors.WebhookSignatureError` with a reason code; no message quotes
the secret or the body.

**Events.** A body is JSON::

    {"id": "evt_...", "type": "payment_intent.captured", "created": 1717329600,
     "data": {"intent_id": "pi_...", "amount": 4000, "currency": "EUR",
              "amount_refunded": 0}}

``type`` is ``payment_intent.<status>`` for each
:class:`~carebook.domain.payments.payment.PaymentStatus`.

**Reducer.** :func:`apply_payment_event` applies an event id once (duplicates are
ignored) and never moves a payment backwards: the state keeps the later of its status
and the event's, by the one rank of :mod:`carebook.domain.payments.payment`
(:func:`~carebook.domain.payments.payment.later_status`), and the larger amounts. The
fold is therefore independent of the order and repetition of delivery.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from typing import Any, Final

import attrs
import pendulum
from attrs import frozen

from carebook.domain.currencies import MINOR_UNITS
from carebook.domain.instants import require_aware
from carebook.domain.payments.payment import PaymentStatus, later_status
from carebook.domain.validators import to_enum
from carebook.errors import ValidationError, WebhookPayloadError, WebhookSignatureError

__all__ = [
    "DEFAULT_TOLERANCE",
    "EVENT_TYPES",
    "SIGNATURE_HEADER",
    "PaymentState",
    "PaymentWebhookEvent",
    "apply_payment_event",
    "fold_payment_events",
    "parse_event",
    "sign_payload",
    "verify_and_parse",
    "verify_signature",
]

SIGNATURE_HEADER: Final = "Carebook-Signature"
DEFAULT_TOLERANCE: Final = 300
EVENT_TYPES: Final = {f"payment_intent.{status.value}": status for status in PaymentStatus}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_DIGITS = re.compile(r"^[0-9]{1,12}$")
_MAX_HEADER = 4096


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode()
    if not isinstance(secret, bytes) or not secret:
        raise ValidationError("a webhook secret must be a non-empty str or bytes")
    return secret


def _digest(key: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign_payload(body: bytes, secret: str | bytes, timestamp: int) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    if not isinstance(body, bytes):
        raise ValidationError("a webhook body must be bytes")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValidationError("a webhook timestamp is whole unix seconds")
    return f"t={timestamp},v1={_digest(_key(secret), timestamp, body)}"


def _parse_header(header: str) -> tuple[int, list[str]]:
    if len(header) > _MAX_HEADER:
        raise WebhookSignatureError("signature_malformed", "the signature header is too long")
    timestamps: list[str] = []
    signatures: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise WebhookSignatureError("signature_malformed", "expected t=<unix>,v1=<hex>")
        if name == "t":
            timestamps.append(value)
        elif name == "v1":
            signatures.append(value)
    if len(timestamps) != 1 or not _DIGITS.match(timestamps[0]):
        raise WebhookSignatureError("signature_malformed", "expected one numeric t=")
    if not signatures or not all(_HEX64.match(s) for s in signatures):
        raise WebhookSignatureError("signature_malformed", "expected v1= with 64 hex digits")
    return int(timestamps[0]), signatures


def verify_signature(
    body: bytes,
    header: str | None,
    secret: str | bytes,
    *,
    now: dt.datetime,
    tolerance: int = DEFAULT_TOLERANCE,
) -> int:
    """Check ``header`` against ``body`` and ``secret`` at ``now``; return its timestamp.

    Raises :class:`~carebook.errors.WebhookSignatureError` with reason code
    ``signature_missing``, ``signature_malformed``, ``signature_mismatch``,
    ``timestamp_too_old`` or ``timestamp_in_future``.
    """
    if not isinstance(body, bytes):
        raise ValidationError("a webhook body must be the raw bytes received")
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 0:
        raise ValidationError("tolerance is whole seconds, zero or more")
    key = _key(secret)
    current = int(require_aware(now, "now").timestamp())
    if header is None or (isinstance(header, str) and not header.strip()):
        raise WebhookSignatureError("signature_missing", f"no {SIGNATURE_HEADER} header")
    if not isinstance(header, str):
        raise WebhookSignatureError("signature_malformed", "the header must be text")
    timestamp, candidates = _parse_header(header)
    expected = _digest(key, timestamp, body)
    matched = False
    for candidate in candidates:  # no short cut: every candidate is compared
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise WebhookSignatureError("signature_mismatch", "the signature does not match")
    if timestamp < current - tolerance:
        raise WebhookSignatureError("timestamp_too_old", f"signed more than {tolerance}s ago")
    if timestamp > current + tolerance:
        raise WebhookSignatureError(
            "timestamp_in_future", f"signed more than {tolerance}s in the future"
        )
    return timestamp


def _text(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise WebhookPayloadError(f"{attribute.name} must be a non-empty string")


def _whole(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise WebhookPayloadError(f"{attribute.name} must be whole minor units, zero or more")


def _currency(_: object, __: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or value not in MINOR_UNITS:
        raise WebhookPayloadError("currency must be an ISO 4217 code")


def _event_type(_: object, __: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or value not in EVENT_TYPES:
        raise WebhookPayloadError("the event type is not a payment_intent status")


def _created(value: Any) -> pendulum.DateTime:
    try:
        return require_aware(value, "created")
    except ValidationError:
        raise WebhookPayloadError("created must be an aware instant") from None


@frozen(kw_only=True)
class PaymentWebhookEvent:
    """One provider event about one payment intent."""

    event_id: str = attrs.field(validator=_text)
    type: str = attrs.field(validator=_event_type)
    intent_id: str = attrs.field(validator=_text)
    amount: int = attrs.field(validator=_whole)
    currency: str = attrs.field(validator=_currency)
    created: pendulum.DateTime = attrs.field(converter=_created)
    amount_refunded: int = attrs.field(default=0, validator=_whole)

    @property
    def status(self) -> PaymentStatus:
        return EVENT_TYPES[self.type]

    def to_json(self) -> bytes:
        """The body a provider would send (compact, keys sorted)."""
        payload = {
            "id": self.event_id,
            "type": self.type,
            "created": int(self.created.timestamp()),
            "data": {
                "intent_id": self.intent_id,
                "amount": self.amount,
                "currency": self.currency,
                "amount_refunded": self.amount_refunded,
            },
        }
        return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def parse_event(body: bytes) -> PaymentWebhookEvent:
    """The event in ``body``; :class:`~carebook.errors.WebhookPayloadError` otherwise."""
    try:
        payload = json.loads(body)
    except (ValueError, TypeError):
        raise WebhookPayloadError("the webhook body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise WebhookPayloadError("the webhook body needs an object with a 'data' object")
    data: dict[str, Any] = payload["data"]
    created = payload.get("created")
    if isinstance(created, bool) or not isinstance(created, int) or created < 0:
        raise WebhookPayloadError("created must be whole unix seconds")
    return PaymentWebhookEvent(
        event_id=payload.get("id", ""),
        type=payload.get("type", ""),
        intent_id=data.get("intent_id", ""),
        amount=data.get("amount", -1),
        currency=data.get("currency", ""),
        amount_refunded=data.get("amount_refunded", 0),
        created=pendulum.from_timestamp(created, tz=pendulum.UTC),
    )


def verify_and_parse(
    body: bytes,
    header: str | None,
    secret: str | bytes,
    *,
    now: dt.datetime,
    tolerance: int = DEFAULT_TOLERANCE,
) -> PaymentWebhookEvent:
    """:func:`verify_signature`, then :func:`parse_event`: nothing unsigned is parsed."""
    verify_signature(body, header, secret, now=now, tolerance=tolerance)
    return parse_event(body)


def _optional_status(value: object) -> PaymentStatus | None:
    return None if value is None else to_enum(PaymentStatus, value, "status")


@frozen(kw_only=True)
class PaymentState:
    """What the webhooks have told us about one intent. ``status`` None: nothing yet."""

    intent_id: str
    status: PaymentStatus | None = attrs.field(default=None, converter=_optional_status)
    amount: int = 0
    amount_refunded: int = 0
    currency: str | None = None
    seen_event_ids: frozenset[str] = frozenset()

    @property
    def applied(self) -> int:
        """How many distinct events were applied (a duplicate counts once)."""
        return len(self.seen_event_ids)


def apply_payment_event(state: PaymentState, event: PaymentWebhookEvent) -> PaymentState:
    """``state`` after ``event``: a seen event id returns ``state`` itself; otherwise the
    later status (:func:`~carebook.domain.payments.payment.later_status`) and the larger
    amounts win."""
    if event.intent_id != state.intent_id:
        raise ValidationError(
            f"event {event.event_id} is for intent {event.intent_id}, not {state.intent_id}"
        )
    if event.event_id in state.seen_event_ids:
        return state
    if state.currency is not None and event.currency != state.currency:
        raise ValidationError(f"event {event.event_id} changes the intent's currency")
    return PaymentState(
        intent_id=state.intent_id,
        status=later_status(state.status, event.status),
        amount=max(state.amount, event.amount),
        amount_refunded=max(state.amount_refunded, event.amount_refunded),
        currency=event.currency,
        seen_event_ids=state.seen_event_ids | {event.event_id},
    )


def fold_payment_events(intent_id: str, events: Iterable[PaymentWebhookEvent]) -> PaymentState:
    """Apply ``events`` in the order given, from nothing known about ``intent_id``."""
    state = PaymentState(intent_id=intent_id)
    for event in events:
        state = apply_payment_event(state, event)
    return state
