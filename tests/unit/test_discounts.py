"""Discount policies: R1, combination, settings, and patient facts kept private."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carebook.domain.currencies import MINOR_UNITS
from carebook.domain.money import Money
from carebook.domain.pricing.discounts import (
    DiscountContext,
    DiscountOffer,
    DiscountPolicy,
    DiscountRejection,
    combine_offers,
    evaluate_discounts,
)
from carebook.domain.pricing.policies import (
    BirthdayOrHighValue,
    PromoCodePolicy,
    builtin_discount_policies,
    celebrates_birthday,
)
from carebook.domain.pricing.settings import (
    CombineMode,
    PricingSettings,
    QuotaExhaustedBehaviour,
)
from carebook.domain.scheduling.patients import PatientFacts, Sex
from carebook.errors import ValidationError

NOW = pendulum.datetime(2025, 6, 2, 10, 0, tz="UTC")
R1 = BirthdayOrHighValue()
SENTINEL_DATE = dt.date(1961, 7, 13)


def context(
    amount: int = 5_000,
    currency: str = "EUR",
    *,
    now: dt.datetime = NOW,
    timezone: str = "Europe/Berlin",
    patient: PatientFacts | None = None,
    settings: PricingSettings | None = None,
) -> DiscountContext:
    return DiscountContext(
        base_total=Money(amount, currency),
        timezone=timezone,
        now=now,
        patient=patient,
        settings=settings or PricingSettings(),
    )


def her(birth_date: dt.date) -> PatientFacts:
    return PatientFacts(sex=Sex.FEMALE, birth_date=birth_date)


# -- settings ------------------------------------------------------------------------------


def test_settings_defaults_follow_the_requirements() -> None:
    settings = PricingSettings()
    assert settings.percentage == Decimal(12)
    assert settings.threshold == Decimal("1000.00")
    assert settings.combine is CombineMode.BEST_SINGLE
    assert settings.on_quota_exhausted is QuotaExhaustedBehaviour.REJECT
    assert settings.daily_quota == 100
    assert settings.quota_timezone == "Asia/Kolkata"


def test_settings_accept_decimals_ints_and_numeric_strings() -> None:
    settings = PricingSettings(percentage="12.5", threshold=500, combine="sum_capped")
    assert settings.percentage == Decimal("12.5")
    assert settings.threshold == Decimal(500)
    assert settings.combine is CombineMode.SUM_CAPPED


@pytest.mark.parametrize(
    "bad",
    [
        {"percentage": 12.0},
        {"percentage": Decimal("100.01")},
        {"percentage": Decimal(-1)},
        {"percentage": Decimal("NaN")},
        {"percentage": "twelve"},
        {"percentage": True},
        {"threshold": 1000.0},
        {"threshold": Decimal(-1)},
        {"threshold": Decimal("Infinity")},
        {"combine": "best_of_three"},
        {"on_quota_exhausted": "shrug"},
        {"daily_quota": -1},
        {"daily_quota": 10.0},
        {"daily_quota": True},
        {"quota_timezone": "Mars/Olympus"},
        {"quota_timezone": 5},
    ],
)
def test_bad_settings_are_typed_validation_errors(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PricingSettings(**bad)


def test_changing_settings_builds_a_new_value_and_leaves_the_old_one() -> None:
    settings = PricingSettings()
    changed = attrs.evolve(settings, percentage=Decimal(15))
    assert changed.percentage == Decimal(15)
    assert settings.percentage == Decimal(12)
    with pytest.raises(ValidationError):
        attrs.evolve(settings, percentage=15.0)
    assert settings == PricingSettings()


# -- R1: high value ------------------------------------------------------------------------


def test_r1_high_value_means_strictly_above_the_threshold() -> None:
    assert R1.evaluate(context(100_000)) is None  # exactly 1000.00 does not exceed it
    offer = R1.evaluate(context(100_001))
    assert offer == DiscountOffer(
        policy="birthday_or_high_value", reason_code="high_value", amount=Money(12_000, "EUR")
    )


@pytest.mark.parametrize(
    ("currency", "at_threshold"),
    [("EUR", 100_000), ("INR", 100_000), ("JPY", 1_000), ("KWD", 1_000_000), ("CLF", 10**7)],
)
def test_the_threshold_scales_with_the_currency_minor_unit(
    currency: str, at_threshold: int
) -> None:
    assert R1.evaluate(context(at_threshold, currency)) is None
    offer = R1.evaluate(context(at_threshold + 1, currency))
    assert offer is not None and offer.reason_code == "high_value"
    assert offer.amount.currency == currency


def test_a_fractional_threshold_is_compared_exactly() -> None:
    settings = PricingSettings(threshold="10.005")  # 1000.5 cents
    assert R1.evaluate(context(1_000, settings=settings)) is None
    assert R1.evaluate(context(1_001, settings=settings)) is not None


def test_the_percentage_is_applied_once_half_up() -> None:
    settings = PricingSettings(percentage="12.5", threshold=0)
    offer = R1.evaluate(context(1_999, settings=settings))
    assert offer is not None
    assert offer.amount == Money(250, "EUR")  # 249.875 -> 250


# -- R1: birthday --------------------------------------------------------------------------


def test_r1_applies_on_a_female_patients_birthday() -> None:
    offer = R1.evaluate(context(patient=her(dt.date(1990, 6, 2))))
    assert offer is not None and offer.reason_code == "birthday"
    assert offer.amount == Money(600, "EUR")


@pytest.mark.parametrize("sex", [Sex.MALE, Sex.OTHER, Sex.UNKNOWN])
def test_r1_birthday_needs_a_female_patient(sex: Sex) -> None:
    facts = PatientFacts(sex=sex, birth_date=dt.date(1990, 6, 2))
    assert R1.evaluate(context(patient=facts)) is None


def test_no_facts_or_no_birth_date_is_no_birthday() -> None:
    assert R1.evaluate(context()) is None
    assert R1.evaluate(context(patient=PatientFacts(sex="female"))) is None


def test_birthday_and_high_value_together_give_one_discount_with_reason_birthday() -> None:
    offer = R1.evaluate(context(200_000, patient=her(dt.date(1990, 6, 2))))
    assert offer is not None
    assert offer.reason_code == "birthday"
    assert offer.amount == Money(24_000, "EUR")


def test_today_is_in_the_clinics_time_zone() -> None:
    # 2025-06-01 23:30 UTC is already 2 June in Kolkata but still 1 June in New York.
    late = pendulum.datetime(2025, 6, 1, 23, 30, tz="UTC")
    facts = her(dt.date(1990, 6, 2))
    assert context(now=late, timezone="Asia/Kolkata").today == pendulum.Date(2025, 6, 2)
    assert R1.evaluate(context(now=late, timezone="Asia/Kolkata", patient=facts)) is not None
    assert R1.evaluate(context(now=late, timezone="America/New_York", patient=facts)) is None


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2023, 2, 28), True),  # non-leap year: celebrated on 28 February
        (dt.date(2023, 3, 1), False),
        (dt.date(2024, 2, 29), True),  # leap year: on the day itself
        (dt.date(2024, 2, 28), False),
        (dt.date(2100, 2, 28), True),  # 2100 is not a leap year
        (dt.date(2000, 2, 29), True),  # 2000 is
    ],
)
def test_a_29_february_birthday(today: dt.date, expected: bool) -> None:
    born = dt.date(1996, 2, 29)
    assert celebrates_birthday(born, today) is expected
    now = pendulum.datetime(today.year, today.month, today.day, 12, tz="Europe/Berlin")
    offer = R1.evaluate(context(now=now, patient=her(born)))
    assert (offer is not None) is expected


def test_a_28_february_birthday_is_not_moved() -> None:
    assert celebrates_birthday(dt.date(1995, 2, 28), dt.date(2024, 2, 28))
    assert not celebrates_birthday(dt.date(1995, 2, 28), dt.date(2024, 2, 29))


def test_a_day_before_birth_is_no_birthday() -> None:
    assert not celebrates_birthday(dt.date(2030, 6, 2), dt.date(2025, 6, 2))
    assert celebrates_birthday(dt.date(2025, 6, 2), dt.date(2025, 6, 2))


# -- patient facts stay private ------------------------------------------------------------


def test_patient_facts_never_show_in_repr_or_str() -> None:
    facts = her(SENTINEL_DATE)
    ctx = context(patient=facts)
    for text in (repr(facts), str(facts), repr(ctx), str(ctx)):
        assert "1961" not in text
        assert "female" not in text.lower()
    assert ctx.patient is facts  # still there for the policies


@pytest.mark.parametrize(
    "bad",
    [
        {"sex": "Sentinel-Sex-Qx9"},
        {"birth_date": "1961-07-13"},
        {"birth_date": dt.datetime(1961, 7, 13, 0, 0)},
    ],
)
def test_bad_patient_facts_do_not_echo_the_value(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as error:
        PatientFacts(**bad)
    assert "Sentinel" not in str(error.value)
    assert "1961" not in str(error.value)


# -- evaluation and combination ------------------------------------------------------------


@attrs.frozen
class Fixed:
    name: str
    answer: Any

    def evaluate(self, context: DiscountContext) -> Any:
        return self.answer


def offer(policy: str, amount: int, reason: str = "r", currency: str = "EUR") -> DiscountOffer:
    return DiscountOffer(policy=policy, reason_code=reason, amount=Money(amount, currency))


def test_user_policies_satisfy_the_protocol() -> None:
    assert isinstance(Fixed("x", None), DiscountPolicy)
    for policy in builtin_discount_policies():
        assert isinstance(policy, DiscountPolicy)
    assert [p.name for p in builtin_discount_policies()] == [
        "birthday_or_high_value",
        "promo_code",
    ]


def test_evaluation_caps_drops_zero_and_keeps_rejections() -> None:
    policies = [
        Fixed("huge", offer("huge", 9_999)),
        Fixed("zero", offer("zero", 0)),
        Fixed("silent", None),
        Fixed("no", DiscountRejection(policy="no", reason_code="nope")),
    ]
    outcome = evaluate_discounts(policies, context(5_000))
    assert outcome.offers == (offer("huge", 5_000),)
    assert [r.reason_code for r in outcome.rejections] == ["nope"]


def test_an_offer_in_another_currency_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="'usd' offered USD"):
        evaluate_discounts([Fixed("usd", offer("usd", 1, currency="USD"))], context())


def test_a_policy_returning_something_else_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="returned int"):
        evaluate_discounts([Fixed("odd", 42)], context())


def test_best_single_takes_the_largest_and_breaks_ties_by_name() -> None:
    base = Money(10_000, "EUR")
    offers = [offer("zeta", 500), offer("alpha", 500), offer("mid", 300)]
    applied, total = combine_offers(offers, base, CombineMode.BEST_SINGLE)
    assert applied == (offer("alpha", 500),)
    assert total == Money(500, "EUR")
    applied_reversed, _ = combine_offers(offers[::-1], base, CombineMode.BEST_SINGLE)
    assert applied_reversed == applied


def test_sum_capped_adds_up_to_the_base_total() -> None:
    base = Money(1_000, "EUR")
    applied, total = combine_offers(
        [offer("a", 700), offer("b", 600)], base, CombineMode.SUM_CAPPED
    )
    assert [o.policy for o in applied] == ["a", "b"]
    assert total == base


def test_no_offers_no_discount() -> None:
    for mode in CombineMode:
        assert combine_offers([], Money(100, "EUR"), mode) == ((), Money(0, "EUR"))


def test_an_unknown_combine_mode_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        combine_offers([], Money(100, "EUR"), "max")  # type: ignore[arg-type]


def test_bad_contexts_are_refused() -> None:
    with pytest.raises(ValidationError):
        context(-1)
    with pytest.raises(ValidationError):
        context(now=dt.datetime(2025, 6, 2, 10, 0))  # naive
    with pytest.raises(ValidationError):
        context(timezone="Nowhere/Special")
    with pytest.raises(ValidationError):
        DiscountOffer(policy="x", reason_code="y", amount=Money(-1, "EUR"))


def test_promo_policy_without_a_code_says_nothing() -> None:
    assert PromoCodePolicy().evaluate(context()) is None


amounts = st.integers(min_value=0, max_value=10**12)


@given(
    base=amounts,
    offered=st.lists(st.integers(min_value=0, max_value=10**13), max_size=6),
    mode=st.sampled_from(CombineMode),
)
def test_a_discount_never_exceeds_the_base_total(
    base: int, offered: list[int], mode: CombineMode
) -> None:
    policies = [Fixed(f"p{i}", offer(f"p{i}", a)) for i, a in enumerate(offered)]
    outcome = evaluate_discounts(policies, context(base))
    applied, total = combine_offers(outcome.offers, Money(base, "EUR"), mode)
    assert 0 <= total.amount <= base
    assert Money(base, "EUR") - total >= Money.zero("EUR")
    if mode is CombineMode.BEST_SINGLE:
        assert len(applied) <= 1
        assert total.amount == max([min(a, base) for a in offered if min(a, base)] or [0])


@given(
    amount=amounts,
    currency=st.sampled_from(sorted(MINOR_UNITS)),
    percent=st.decimals(min_value=0, max_value=100, places=3),
)
def test_r1_offer_is_between_zero_and_the_base_total(
    amount: int, currency: str, percent: Decimal
) -> None:
    settings = PricingSettings(percentage=percent, threshold=0)
    answer = R1.evaluate(context(amount, currency, settings=settings))
    if amount == 0:
        assert answer is None
    else:
        assert answer is not None
        assert 0 <= answer.amount.amount <= amount
