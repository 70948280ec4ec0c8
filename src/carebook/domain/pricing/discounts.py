"""Discount policies: what a policy sees, what it answers, and how answers combine.

A :class:`DiscountPolicy` looks at a :class:`DiscountContext` and answers with a
:class:`DiscountOffer` (this much off, for this reason), a :class:`DiscountRejection`
(the booking asked for this discount, and it cannot have it: a stable reason code), or
``None`` (the policy has nothing to say). Policies are pure: ``now``, the patient's facts
(:class:`~carebook.domain.scheduling.patients.PatientFacts`) and the usage counts come in
with the context; none reads a clock or a database.

Rounding: each percentage discount is computed **once, on the base total**, with the one
rule of :func:`carebook.domain.money.apply_percentage` (half up, away from zero, to the
minor unit). Combining never rounds again: it picks or adds whole minor units.

Combining (:class:`~carebook.domain.pricing.settings.CombineMode`): ``best_single`` keeps
the largest offer (ties: policy name, then reason code, alphabetically); ``sum_capped``
keeps all and caps their sum at the base total. An offer of zero is not a discount and is
dropped; an offer above the base total is cut down to it.

The built-in policies are in :mod:`carebook.domain.pricing.policies`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

import attrs
import pendulum
from attrs import frozen

from carebook.domain.instants import require_aware, zone
from carebook.domain.money import Money, sum_money
from carebook.domain.pricing.promo import PromoRequest
from carebook.domain.pricing.settings import CombineMode, PricingSettings
from carebook.domain.scheduling.patients import PatientFacts
from carebook.domain.validators import instance_of, time_zone, to_enum
from carebook.errors import ValidationError

__all__ = [
    "DiscountContext",
    "DiscountOffer",
    "DiscountOutcome",
    "DiscountPolicy",
    "DiscountRejection",
    "combine_offers",
    "evaluate_discounts",
]


def _now(value: Any) -> pendulum.DateTime:
    return require_aware(value, "now")


def _base_total(_: object, __: attrs.Attribute[Money], value: object) -> None:
    if not isinstance(value, Money):
        raise ValidationError(f"base_total must be Money, got {type(value).__name__}")
    if value.is_negative:
        raise ValidationError("a base total cannot be negative")


@frozen(kw_only=True)
class DiscountContext:
    """Everything a discount policy may look at.

    ``timezone`` is the clinic's (the location's) IANA zone: "today" is ``now`` there.
    ``patient`` is ``None`` when the caller has no facts. ``promo`` is the code the
    patient gave, if any, with its definition and usage counts.
    """

    base_total: Money = attrs.field(validator=_base_total)
    timezone: str = attrs.field(validator=time_zone)
    now: pendulum.DateTime = attrs.field(converter=_now)
    settings: PricingSettings = attrs.field(
        factory=PricingSettings, validator=instance_of(PricingSettings)
    )
    patient: PatientFacts | None = attrs.field(
        default=None, validator=instance_of((PatientFacts, type(None))), repr=False
    )
    promo: PromoRequest | None = attrs.field(
        default=None, validator=instance_of((PromoRequest, type(None)))
    )

    @property
    def today(self) -> pendulum.Date:
        """The calendar date of ``now`` in the clinic's time zone."""
        return self.now.in_timezone(zone(self.timezone)).date()


def _name(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{attribute.name} must be a non-empty string")


def _offer_amount(_: object, __: attrs.Attribute[Money], value: object) -> None:
    if not isinstance(value, Money):
        raise ValidationError(f"a discount amount must be Money, got {type(value).__name__}")
    if value.is_negative:
        raise ValidationError("a discount amount cannot be negative")


@frozen(kw_only=True)
class DiscountOffer:
    """``amount`` off the base total, offered by ``policy`` for ``reason_code``."""

    policy: str = attrs.field(validator=_name)
    reason_code: str = attrs.field(validator=_name)
    amount: Money = attrs.field(validator=_offer_amount)


@frozen(kw_only=True)
class DiscountRejection:
    """A discount the booking asked for and cannot have (an expired promo code...).

    ``message`` is for people and carries no patient data.
    """

    policy: str = attrs.field(validator=_name)
    reason_code: str = attrs.field(validator=_name)
    message: str = ""


@runtime_checkable
class DiscountPolicy(Protocol):
    """A pluggable discount: a unique ``name`` and a pure ``evaluate``."""

    @property
    def name(self) -> str:
        """Unique across all registered policies; shown in a quote's applied discount."""
        ...

    def evaluate(self, context: DiscountContext) -> DiscountOffer | DiscountRejection | None:
        """An offer, a rejection with a reason code, or ``None`` (nothing to say)."""
        ...


@frozen(kw_only=True)
class DiscountOutcome:
    """What every policy said: the usable offers, and the rejections."""

    offers: tuple[DiscountOffer, ...] = ()
    rejections: tuple[DiscountRejection, ...] = ()


def evaluate_discounts(
    policies: Iterable[DiscountPolicy], context: DiscountContext
) -> DiscountOutcome:
    """Ask each policy in turn. An offer in another currency than the base total is a
    ValidationError (naming the policy); one above the base total is cut to it; a zero
    offer is dropped. Anything but an offer, a rejection or ``None`` is a ValidationError.
    """
    base = context.base_total
    offers: list[DiscountOffer] = []
    rejections: list[DiscountRejection] = []
    for policy in policies:
        answer = policy.evaluate(context)
        if answer is None:
            continue
        if isinstance(answer, DiscountRejection):
            rejections.append(answer)
        elif isinstance(answer, DiscountOffer):
            if answer.amount.currency != base.currency:
                raise ValidationError(
                    f"discount policy {policy.name!r} offered {answer.amount.currency}"
                    f" on a {base.currency} total"
                )
            if answer.amount > base:
                answer = attrs.evolve(answer, amount=base)
            if not answer.amount.is_zero:
                offers.append(answer)
        else:
            raise ValidationError(
                f"discount policy {policy.name!r} returned {type(answer).__name__}"
            )
    return DiscountOutcome(offers=tuple(offers), rejections=tuple(rejections))


def _best_first(offer: DiscountOffer) -> tuple[int, str, str]:
    return (-offer.amount.amount, offer.policy, offer.reason_code)


def combine_offers(
    offers: Sequence[DiscountOffer], base_total: Money, mode: CombineMode
) -> tuple[tuple[DiscountOffer, ...], Money]:
    """The offers that apply and the total discount, by ``mode``.

    The total is between zero and ``base_total`` whatever the offers; with no offers it
    is zero. ``best_single`` returns at most one offer; ``sum_capped`` returns every
    offer, largest first (same tie-break), and caps only the total.
    """
    mode = to_enum(CombineMode, mode, "mode")
    for offer in offers:
        if offer.amount.currency != base_total.currency:
            raise ValidationError("every discount offer must be in the base total's currency")
    ranked = tuple(sorted(offers, key=_best_first))
    if mode is CombineMode.BEST_SINGLE:
        ranked = ranked[:1]
    total = sum_money((o.amount for o in ranked), base_total.currency)
    return ranked, min(total, base_total)
