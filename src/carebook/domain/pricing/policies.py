"""The built-in discount policies: R1 (birthday or high value) and promo codes.

Both are stateless: what they need (the settings, the promo definition, usage counts,
the patient's facts) comes in with the :class:`~carebook.domain.pricing.discounts.DiscountContext`,
so one instance serves every booking and every administrator's change of settings.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Final

from carebook.domain.money import apply_percentage
from carebook.domain.pricing.discounts import (
    DiscountContext,
    DiscountOffer,
    DiscountPolicy,
    DiscountRejection,
)
from carebook.domain.pricing.promo import promo_discount, promo_refusal
from carebook.domain.scheduling.patients import Sex

__all__ = [
    "BIRTHDAY",
    "HIGH_VALUE",
    "PROMO_APPLIED",
    "BirthdayOrHighValue",
    "PromoCodePolicy",
    "builtin_discount_policies",
    "celebrates_birthday",
]

BIRTHDAY: Final = "birthday"
HIGH_VALUE: Final = "high_value"
PROMO_APPLIED: Final = "promo_code"


def celebrates_birthday(birth_date: dt.date, today: dt.date) -> bool:
    """True when ``today`` is a birthday of someone born on ``birth_date``.

    Someone born on **29 February celebrates on 28 February in non-leap years** (and on
    29 February in leap years), so they have exactly one birthday every year. The day of
    birth itself counts; a day before it does not.
    """
    if today < birth_date:
        return False
    if (birth_date.month, birth_date.day) == (2, 29) and not calendar.isleap(today.year):
        return (today.month, today.day) == (2, 28)
    return (today.month, today.day) == (birth_date.month, birth_date.day)


class BirthdayOrHighValue:
    """R1: ``settings.percentage`` off the base total when the patient is female and it is
    her birthday **today in the clinic's time zone** (29 February: see
    :func:`celebrates_birthday`), or when the base total is strictly more than
    ``settings.threshold`` (in major units of the clinic's currency).

    The reason code is ``birthday`` when it is her birthday (even if the total is also
    high), else ``high_value``. The percentage is applied once, whichever holds.
    """

    name: Final = "birthday_or_high_value"

    def evaluate(self, context: DiscountContext) -> DiscountOffer | None:
        base = context.base_total
        patient = context.patient
        birthday = (
            patient is not None
            and patient.sex is Sex.FEMALE
            and patient.birth_date is not None
            and celebrates_birthday(patient.birth_date, context.today)
        )
        high_value = context.settings.exceeds_threshold(base.amount, base.minor_unit_exponent)
        if not (birthday or high_value):
            return None
        return DiscountOffer(
            policy=self.name,
            reason_code=BIRTHDAY if birthday else HIGH_VALUE,
            amount=apply_percentage(base, context.settings.percentage),
        )


class PromoCodePolicy:
    """A promo code the patient gave (``context.promo``): an offer with reason code
    ``promo_code``, or a rejection with one of the codes of :mod:`carebook.domain.pricing.promo`
    (``promo_unknown``, ``promo_expired`` ...). No code given: no answer."""

    name: Final = "promo_code"

    def evaluate(self, context: DiscountContext) -> DiscountOffer | DiscountRejection | None:
        request = context.promo
        if request is None:
            return None
        refusal = promo_refusal(request, context.base_total, context.now)
        if refusal is not None:
            return DiscountRejection(
                policy=self.name,
                reason_code=refusal,
                message=f"promo code cannot be used: {refusal}",
            )
        assert request.definition is not None  # promo_refusal said it is known
        return DiscountOffer(
            policy=self.name,
            reason_code=PROMO_APPLIED,
            amount=promo_discount(request.definition, context.base_total),
        )


def builtin_discount_policies() -> tuple[DiscountPolicy, ...]:
    """Fresh instances of the built-in policies, in a fixed order."""
    return (BirthdayOrHighValue(), PromoCodePolicy())
