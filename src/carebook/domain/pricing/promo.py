"""Promo codes: percent or fixed amount, a validity window, usage limits, minimum spend.

A :class:`PromoCode` is the definition an administrator stores; a :class:`PromoRequest`
is what one booking brings: the code the patient typed, the definition the caller looked
up for it (``None`` when there is none) and the usage counts the caller read from
storage. Everything here is pure: ``now`` and the counts come in as arguments.

A request is checked in this order; the first failing check gives its stable reason code:

1. ``promo_unknown``: no definition for the code.
2. ``promo_not_yet_valid``: ``now`` is before ``valid_from``.
3. ``promo_expired``: ``now`` is at or after ``valid_until`` (the window is half-open,
   ``[valid_from, valid_until)``).
4. ``promo_currency_mismatch``: a fixed amount or a minimum spend in another currency
   than the booking's.
5. ``promo_exhausted``: the code has been used ``max_uses`` times in total.
6. ``promo_patient_limit``: this patient has used it ``max_uses_per_patient`` times.
7. ``promo_min_spend``: the base total is below ``min_spend``.

Codes compare case-insensitively: they are stored stripped and upper-cased.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any, Final

import attrs
import pendulum
from attrs import frozen

from carebook.domain.instants import require_aware
from carebook.domain.money import Money, apply_percentage
from carebook.domain.pricing.settings import to_decimal
from carebook.domain.validators import MAX_COUNT, instance_of, optional_whole_number, to_enum
from carebook.errors import ValidationError

__all__ = [
    "PROMO_CURRENCY_MISMATCH",
    "PROMO_EXHAUSTED",
    "PROMO_EXPIRED",
    "PROMO_MIN_SPEND",
    "PROMO_NOT_YET_VALID",
    "PROMO_PATIENT_LIMIT",
    "PROMO_REASON_CODES",
    "PROMO_UNKNOWN",
    "PromoCode",
    "PromoKind",
    "PromoRequest",
    "normalise_code",
    "promo_discount",
    "promo_refusal",
]

PROMO_UNKNOWN: Final = "promo_unknown"
PROMO_NOT_YET_VALID: Final = "promo_not_yet_valid"
PROMO_EXPIRED: Final = "promo_expired"
PROMO_CURRENCY_MISMATCH: Final = "promo_currency_mismatch"
PROMO_EXHAUSTED: Final = "promo_exhausted"
PROMO_PATIENT_LIMIT: Final = "promo_patient_limit"
PROMO_MIN_SPEND: Final = "promo_min_spend"
PROMO_REASON_CODES: Final = (
    PROMO_UNKNOWN,
    PROMO_NOT_YET_VALID,
    PROMO_EXPIRED,
    PROMO_CURRENCY_MISMATCH,
    PROMO_EXHAUSTED,
    PROMO_PATIENT_LIMIT,
    PROMO_MIN_SPEND,
)
_MAX_CODE_LENGTH = 64


class PromoKind(enum.StrEnum):
    """A promo takes a percentage off the base total, or a fixed amount."""

    PERCENT = "percent"
    FIXED = "fixed"


def normalise_code(value: object) -> str:
    """A code as stored: stripped and upper-cased; ValidationError if empty or odd."""
    if not isinstance(value, str):
        raise ValidationError(f"a promo code must be a str, got {type(value).__name__}")
    code = value.strip().upper()
    if not code or len(code) > _MAX_CODE_LENGTH or not code.isprintable():
        raise ValidationError(f"a promo code must be 1 to {_MAX_CODE_LENGTH} printable characters")
    return code


def _optional_instant(value: Any) -> pendulum.DateTime | None:
    return None if value is None else require_aware(value, "promo validity bound")


def _count(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{attribute.name} must be a whole number, zero or more")


def _optional_percent(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value, "promo percentage")


def _kind(value: object) -> PromoKind:
    return to_enum(PromoKind, value, "kind")


@frozen(kw_only=True)
class PromoCode:
    """One promo code's definition. Build it with :meth:`percent_off` or :meth:`fixed_off`.

    ``max_uses`` and ``max_uses_per_patient`` of ``None`` mean unlimited (at most
    1,000,000 otherwise); ``valid_from``
    and ``valid_until`` of ``None`` leave that side of the window open.
    """

    code: str = attrs.field(converter=normalise_code)
    kind: PromoKind = attrs.field(converter=_kind)
    percent: Decimal | None = attrs.field(default=None, converter=_optional_percent)
    amount: Money | None = attrs.field(default=None, validator=instance_of((Money, type(None))))
    valid_from: pendulum.DateTime | None = attrs.field(default=None, converter=_optional_instant)
    valid_until: pendulum.DateTime | None = attrs.field(default=None, converter=_optional_instant)
    max_uses: int | None = attrs.field(default=None, validator=optional_whole_number(0, MAX_COUNT))
    max_uses_per_patient: int | None = attrs.field(
        default=None, validator=optional_whole_number(0, MAX_COUNT)
    )
    min_spend: Money | None = attrs.field(default=None, validator=instance_of((Money, type(None))))

    def __attrs_post_init__(self) -> None:
        if self.kind is PromoKind.PERCENT:
            if self.percent is None or self.amount is not None:
                raise ValidationError("a percent promo has a percent and no amount")
            if not Decimal(0) < self.percent <= Decimal(100):
                raise ValidationError("a promo percentage must be above 0 and at most 100")
        else:
            if self.amount is None or self.percent is not None:
                raise ValidationError("a fixed promo has an amount and no percent")
            if self.amount.amount <= 0:
                raise ValidationError("a fixed promo amount must be positive")
        if self.min_spend is not None and self.min_spend.is_negative:
            raise ValidationError("a promo's minimum spend must not be negative")
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until <= self.valid_from
        ):
            raise ValidationError("a promo's valid_until must be after its valid_from")

    @classmethod
    def percent_off(cls, code: str, percent: Decimal | int | str, **limits: Any) -> PromoCode:
        """``percent`` per cent off the base total (rounded by the one rule)."""
        return cls(code=code, kind=PromoKind.PERCENT, percent=percent, **limits)

    @classmethod
    def fixed_off(cls, code: str, amount: Money, **limits: Any) -> PromoCode:
        """``amount`` off the base total, never more than the base total."""
        return cls(code=code, kind=PromoKind.FIXED, amount=amount, **limits)

    def valid_at(self, now: dt.datetime) -> bool:
        """True when ``now`` lies in ``[valid_from, valid_until)``."""
        instant = require_aware(now, "now")
        if self.valid_from is not None and instant < self.valid_from:
            return False
        return self.valid_until is None or instant < self.valid_until


@frozen(kw_only=True)
class PromoRequest:
    """A code a patient gave, with what the caller knows about it.

    ``definition`` is the stored :class:`PromoCode` for ``code``, or ``None`` if there is
    none (an unknown code). ``uses`` is how many bookings have used the code so far,
    ``patient_uses`` how many of this patient's.
    """

    code: str = attrs.field(converter=normalise_code)
    definition: PromoCode | None = attrs.field(
        default=None, validator=instance_of((PromoCode, type(None)))
    )
    uses: int = attrs.field(default=0, validator=_count)
    patient_uses: int = attrs.field(default=0, validator=_count)

    def __attrs_post_init__(self) -> None:
        if self.definition is not None and self.definition.code != self.code:
            raise ValidationError("a promo request's definition is for another code")


def promo_refusal(request: PromoRequest, base_total: Money, now: dt.datetime) -> str | None:
    """The reason code why ``request`` cannot apply to ``base_total`` at ``now``, or
    ``None`` if it can. Checks run in the order of the module docstring."""
    promo = request.definition
    if promo is None:
        return PROMO_UNKNOWN
    instant = require_aware(now, "now")
    if promo.valid_from is not None and instant < promo.valid_from:
        return PROMO_NOT_YET_VALID
    if promo.valid_until is not None and instant >= promo.valid_until:
        return PROMO_EXPIRED
    for money in (promo.amount, promo.min_spend):
        if money is not None and money.currency != base_total.currency:
            return PROMO_CURRENCY_MISMATCH
    if promo.max_uses is not None and request.uses >= promo.max_uses:
        return PROMO_EXHAUSTED
    if promo.max_uses_per_patient is not None and (
        request.patient_uses >= promo.max_uses_per_patient
    ):
        return PROMO_PATIENT_LIMIT
    if promo.min_spend is not None and base_total < promo.min_spend:
        return PROMO_MIN_SPEND
    return None


def promo_discount(promo: PromoCode, base_total: Money) -> Money:
    """What ``promo`` takes off ``base_total``: never negative, never more than it.

    A percentage is rounded by the one rule of :func:`~carebook.domain.money.apply_percentage`;
    a fixed amount in another currency is a ValidationError (check
    :func:`promo_refusal` first).
    """
    if base_total.is_negative:
        raise ValidationError("a base total cannot be negative")
    if promo.kind is PromoKind.PERCENT:
        assert promo.percent is not None
        return apply_percentage(base_total, promo.percent)
    assert promo.amount is not None
    return min(promo.amount, base_total)
