"""Payment values: where a payment intent stands (:class:`PaymentStatus`), and the intent
as a gateway tracks it (:class:`PaymentIntent`).

The :class:`~carebook.ports.PaymentGateway` port returns these values; the booking saga
(:mod:`carebook.domain.payments.saga`) and the webhook folding
(:mod:`carebook.domain.payments.webhooks`) read them.
"""

from __future__ import annotations

import enum

import attrs
from attrs import frozen

from carebook.domain.currencies import MINOR_UNITS
from carebook.domain.validators import to_enum
from carebook.errors import ValidationError

__all__ = [
    "FINAL_PAYMENT_STATUSES",
    "PaymentIntent",
    "PaymentStatus",
]


class PaymentStatus(enum.StrEnum):
    """Where a payment intent stands.

    ``pending``: the outcome is not known yet (a call timed out; the provider may have
    acted); a later :meth:`PaymentGateway.retrieve` or a webhook settles it.
    ``authorised``: funds are held and await capture or cancel. ``captured``: charged.
    ``partially_refunded`` / ``refunded``: money went back. ``cancelled``: the hold was
    released without a charge. ``failed``: declined; nothing was charged.
    """

    PENDING = "pending"
    AUTHORISED = "authorised"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"
    FAILED = "failed"


FINAL_PAYMENT_STATUSES = frozenset(
    {PaymentStatus.REFUNDED, PaymentStatus.CANCELLED, PaymentStatus.FAILED}
)


def _payment_status(value: object) -> PaymentStatus:
    return to_enum(PaymentStatus, value)


def _minor_units(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{attribute.name} must be whole minor units, zero or more")


def _iso_currency(_: object, __: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or value not in MINOR_UNITS:
        raise ValidationError("a payment currency must be an ISO 4217 code")


@frozen(kw_only=True)
class PaymentIntent:
    """A payment as a gateway tracks it: amount in minor units, status, idempotency key.

    ``amount_captured`` and ``amount_refunded`` are minor units of ``currency``;
    ``failure_code`` says why a ``failed`` intent was declined (``card_declined`` ...).
    ``metadata`` holds ids only, never patient data.
    """

    id: str
    amount: int = attrs.field(validator=_minor_units)
    currency: str = attrs.field(validator=_iso_currency)
    status: PaymentStatus = attrs.field(converter=_payment_status)
    idempotency_key: str
    metadata: dict[str, str] = attrs.field(factory=dict)
    amount_captured: int = attrs.field(default=0, validator=_minor_units)
    amount_refunded: int = attrs.field(default=0, validator=_minor_units)
    failure_code: str | None = None

    @property
    def is_final(self) -> bool:
        """True once nothing more can happen to it (refunded, cancelled or failed)."""
        return self.status in FINAL_PAYMENT_STATUSES

    @property
    def refundable(self) -> int:
        """Minor units captured and not yet refunded."""
        return self.amount_captured - self.amount_refunded
