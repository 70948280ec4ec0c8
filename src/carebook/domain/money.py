"""Money: an integer amount of minor units in one ISO 4217 currency.

Guarantees:

- An amount is always an ``int`` of minor units (cents, yen, fils). Floats, Decimals, strings
  and bools are rejected with :class:`~carebook.errors.ValidationError`; nothing is ever
  rounded silently on the way in.
- A currency is always an active ISO 4217 code (see :mod:`carebook.domain.currencies`).
- Arithmetic and ordering never mix currencies: doing so raises ``ValidationError``.
  Equality across currencies is simply ``False``.
- Percentages are :class:`decimal.Decimal` values between 0 and 100.

There is one rounding rule, used everywhere a percentage is applied: **half up, away from
zero, to the nearest minor unit** (12.5 cents -> 13 cents, -12.5 cents -> -13 cents). It is
computed with exact integer arithmetic, so it does not depend on the active decimal context.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from attrs import Attribute, field, frozen

from carebook.domain.currencies import MINOR_UNITS
from carebook.errors import ValidationError

__all__ = ["Money", "apply_percentage", "sum_money"]

_HUNDRED = Decimal(100)


def _check_amount(_instance: object, _attribute: Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"money amounts are integer minor units, got {type(value).__name__}")


def _check_currency(_instance: object, _attribute: Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError(
            f"currency must be an ISO 4217 code as str, got {type(value).__name__}"
        )
    if value not in MINOR_UNITS:
        raise ValidationError("currency must be a known ISO 4217 code, such as EUR or GBP")


@frozen(order=False)
class Money:
    """An immutable amount of ``amount`` minor units of ``currency``.

    ``Money(1250, "EUR")`` is EUR 12.50; ``Money(1200, "JPY")`` is JPY 1200. Amounts may be
    negative (refunds, credits). Values are hashable and compare equal only when both the
    amount and the currency are equal.
    """

    amount: int = field(validator=_check_amount)
    currency: str = field(validator=_check_currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Nothing, in ``currency`` (which must be a known ISO 4217 code)."""
        return cls(0, currency)

    @property
    def minor_unit_exponent(self) -> int:
        """Decimal places of the currency's minor unit: 2 for EUR, 0 for JPY, 3 for KWD."""
        return MINOR_UNITS[self.currency]

    @property
    def is_negative(self) -> bool:
        """True when the amount is below zero."""
        return self.amount < 0

    @property
    def is_zero(self) -> bool:
        """True when the amount is exactly zero."""
        return self.amount == 0

    def format(self) -> str:
        """A plain, locale-free rendering: ``"EUR 12.50"``, ``"JPY 1200"``, ``"KWD -1.250"``.

        The currency code comes first, then the sign, then the major units and exactly
        :attr:`minor_unit_exponent` decimal places. No grouping separators.
        """
        exponent = self.minor_unit_exponent
        sign = "-" if self.amount < 0 else ""
        major, minor = divmod(abs(self.amount), 10**exponent)
        if exponent == 0:
            return f"{self.currency} {sign}{major}"
        return f"{self.currency} {sign}{major}.{minor:0{exponent}d}"

    def __str__(self) -> str:
        return self.format()

    def _require_same_currency(self, other: Money, operation: str) -> None:
        if other.currency != self.currency:
            raise ValidationError(
                f"cannot {operation} {self.currency} and {other.currency}: currencies differ"
            )

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "add")
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "subtract")
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.amount >= other.amount


def sum_money(items: Iterable[Money], currency: str) -> Money:
    """Add up ``items``, all in ``currency``; an empty iterable gives ``Money.zero(currency)``.

    Raises ``ValidationError`` if any item is in another currency.
    """
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total


def apply_percentage(money: Money, percent: Decimal) -> Money:
    """``percent`` per cent of ``money``, rounded half up (away from zero) to a minor unit.

    ``percent`` must be a finite :class:`~decimal.Decimal` with ``0 <= percent <= 100``;
    anything else (a float, an int, NaN, 150) raises ``ValidationError``. The result has
    the same currency and lies between zero and ``money`` inclusive:
    ``apply_percentage(Money(1999, "EUR"), Decimal("12.5"))`` is ``Money(250, "EUR")``
    (249.875 cents rounded half up).
    """
    if not isinstance(percent, Decimal):
        raise ValidationError(f"percentages must be Decimal, got {type(percent).__name__}")
    if not percent.is_finite():
        raise ValidationError("percentage must be a finite number")
    if not Decimal(0) <= percent <= _HUNDRED:
        raise ValidationError("percentage must be between 0 and 100")
    numerator, denominator = percent.as_integer_ratio()
    denominator *= 100
    quotient, remainder = divmod(abs(money.amount) * numerator, denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return Money(-quotient if money.amount < 0 else quotient, money.currency)
