"""The settings the money path reads: the R1 percentage and threshold, how discounts
combine, and the daily discount quota (R2).

One frozen value, validated on construction: a wrong type or an out-of-range number is a
:class:`~carebook.errors.ValidationError` and no value is built. Floats are refused
everywhere (``12.5`` must be ``Decimal("12.5")`` or the string ``"12.5"``), so that no
binary rounding creeps into money. Administrators change settings by building a new
value (``attrs.evolve(settings, percentage=Decimal("15"))``); the old one is unchanged.
"""

from __future__ import annotations

import enum
from decimal import Decimal, InvalidOperation

import attrs
from attrs import frozen

from carebook.domain.validators import MAX_COUNT, time_zone, to_enum, whole_number
from carebook.errors import ValidationError

__all__ = [
    "DEFAULT_PERCENTAGE",
    "DEFAULT_QUOTA_TIMEZONE",
    "DEFAULT_THRESHOLD",
    "CombineMode",
    "PricingSettings",
    "QuotaExhaustedBehaviour",
    "to_decimal",
]

DEFAULT_PERCENTAGE = Decimal(12)
DEFAULT_THRESHOLD = Decimal("1000.00")
DEFAULT_DAILY_QUOTA = 100
DEFAULT_QUOTA_TIMEZONE = "Asia/Kolkata"


class CombineMode(enum.StrEnum):
    """How several discount offers for one appointment become one discount.

    - ``best_single``: only the largest offer applies. A tie is broken by the policy
      name, then the reason code, alphabetically, so the result never depends on the
      order in which plugins were loaded.
    - ``sum_capped``: every offer applies; their sum is capped at the base total.
    """

    BEST_SINGLE = "best_single"
    SUM_CAPPED = "sum_capped"


class QuotaExhaustedBehaviour(enum.StrEnum):
    """What happens to a discounted booking once the day's discount quota is used up."""

    REJECT = "reject"
    PROCEED_WITHOUT_DISCOUNT = "proceed_without_discount"


_MAX_DIGITS = 12
_MAX_PLACES = 6


def to_decimal(value: object, what: str) -> Decimal:
    """``value`` as a finite Decimal: a Decimal, an int or a numeric string. Floats and
    bools are refused (a float has already lost the exact value), and so are numbers
    with more than 12 digits before the point or 6 after it."""
    if isinstance(value, bool | float):
        raise ValidationError(f"{what} must be a Decimal, an int or a string, not a float")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationError(f"{what} is not a number") from None
    else:
        raise ValidationError(f"{what} must be a Decimal, got {type(value).__name__}")
    if not number.is_finite():
        raise ValidationError(f"{what} must be a finite number")
    exponent = number.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if number and (number.adjusted() >= _MAX_DIGITS or places > _MAX_PLACES):
        raise ValidationError(
            f"{what} must have at most {_MAX_DIGITS} digits before the point "
            f"and {_MAX_PLACES} after it"
        )
    return number


def _percentage(value: object) -> Decimal:
    number = to_decimal(value, "percentage")
    if not Decimal(0) <= number <= Decimal(100):
        raise ValidationError("percentage must be between 0 and 100")
    return number


def _threshold(value: object) -> Decimal:
    number = to_decimal(value, "threshold")
    if number < 0:
        raise ValidationError("threshold must not be negative")
    return number


def _combine(value: object) -> CombineMode:
    return to_enum(CombineMode, value, "combine")


def _exhausted(value: object) -> QuotaExhaustedBehaviour:
    return to_enum(QuotaExhaustedBehaviour, value, "on_quota_exhausted")


@frozen(kw_only=True)
class PricingSettings:
    """Discount and quota settings, one immutable value.

    ``percentage``
        R1's discount, in per cent (default 12).
    ``threshold``
        R1's base-total threshold in **major** units of the clinic's currency (default
        1000.00). It is scaled by the currency's minor-unit exponent: 100000 minor units
        for EUR or INR, 1000 for JPY, 1000000 for KWD. A base total applies only when it
        is strictly greater.
    ``combine``
        :class:`CombineMode` (default ``best_single``).
    ``on_quota_exhausted``
        :class:`QuotaExhaustedBehaviour` (default ``reject``: reason code
        ``discount_quota_exhausted``).
    ``daily_quota``
        Discounted bookings allowed per calendar day (default 100; 0 means none; at
        most 1,000,000).
    ``quota_timezone``
        The IANA zone whose midnight starts a quota day (default ``Asia/Kolkata``).
    """

    percentage: Decimal = attrs.field(default=DEFAULT_PERCENTAGE, converter=_percentage)
    threshold: Decimal = attrs.field(default=DEFAULT_THRESHOLD, converter=_threshold)
    combine: CombineMode = attrs.field(default=CombineMode.BEST_SINGLE, converter=_combine)
    on_quota_exhausted: QuotaExhaustedBehaviour = attrs.field(
        default=QuotaExhaustedBehaviour.REJECT, converter=_exhausted
    )
    daily_quota: int = attrs.field(
        default=DEFAULT_DAILY_QUOTA, validator=whole_number(0, MAX_COUNT)
    )
    quota_timezone: str = attrs.field(default=DEFAULT_QUOTA_TIMEZONE, validator=time_zone)

    def exceeds_threshold(self, amount: int, exponent: int) -> bool:
        """True when ``amount`` minor units of a currency with ``exponent`` decimal places
        are strictly more than :attr:`threshold`. Exact integer arithmetic: no rounding,
        whatever the active decimal context."""
        numerator, denominator = self.threshold.as_integer_ratio()
        scale: int = 10**exponent
        return amount * denominator > numerator * scale
