"""Payment values and the status rule: where a payment intent stands
(:class:`PaymentStatus`), the intent as a gateway tracks it (:class:`PaymentIntent`), and
the one rule that a status never moves backwards (:func:`later_status`).

**Status rank.** Statuses are ranked ``pending`` < ``authorised`` < ``failed`` <
``cancelled`` < ``captured`` < ``partially_refunded`` < ``refunded``
(:data:`STATUS_RANK`); whatever is told later, a payment keeps the highest status seen,
because webhooks and gateway answers may come late, twice or out of order. When two
outcomes conflict (captured and cancelled), the one in which money moved wins, so a
refund is never missed.

The :class:`~carebook.ports.PaymentGateway` port returns these values; the booking saga
(:meth:`carebook.domain.payments.saga.BookingSaga.observe`) and the webhook folding
(:func:`carebook.domain.payments.webhooks.apply_payment_event`) both apply
:func:`later_status`.
"""

from __future__ import annotations

import enum
from typing import Final

import attrs
from attrs import frozen

from carebook.domain.currencies import MINOR_UNITS
from carebook.domain.validators import to_enum
from carebook.errors import ValidationError

__all__ = [
    "FINAL_PAYMENT_STATUSES",
    "STATUS_RANK",
    "PaymentIntent",
    "PaymentStatus",
    "later_status",
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

STATUS_RANK: Final = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.AUTHORISED: 1,
    PaymentStatus.FAILED: 2,
    PaymentStatus.CANCELLED: 3,
    PaymentStatus.CAPTURED: 4,
    PaymentStatus.PARTIALLY_REFUNDED: 5,
    PaymentStatus.REFUNDED: 6,
}


def later_status(current: PaymentStatus | None, told: PaymentStatus) -> PaymentStatus:
    """The status a payment has at ``current`` (None: nothing known yet) once ``told``
    arrives: the higher-ranked of the two, so a status never moves backwards."""
    if current is not None and STATUS_RANK[current] > STATUS_RANK[told]:
        return current
    return told


def _payment_status(value: object) -> PaymentStatus:
    return to_enum(PaymentStatus, value, "status")


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
