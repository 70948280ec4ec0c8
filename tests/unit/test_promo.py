"""Promo codes: kinds, validity window, usage limits, minimum spend, reason codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carebook.domain.money import Money
from carebook.domain.pricing.discounts import DiscountContext, DiscountOffer, DiscountRejection
from carebook.domain.pricing.policies import PromoCodePolicy
from carebook.domain.pricing.promo import (
    PROMO_REASON_CODES,
    PromoCode,
    PromoKind,
    PromoRequest,
    promo_discount,
    promo_refusal,
)
from carebook.errors import ValidationError

NOW = pendulum.datetime(2025, 6, 2, 10, 0, tz="UTC")
START = pendulum.datetime(2025, 6, 1, tz="UTC")
END = pendulum.datetime(2025, 7, 1, tz="UTC")
POLICY = PromoCodePolicy()

SPRING = PromoCode.percent_off(
    "spring",
    Decimal(10),
    valid_from=START,
    valid_until=END,
    max_uses=100,
    max_uses_per_patient=1,
    min_spend=Money(2_000, "EUR"),
)
TENNER = PromoCode.fixed_off("TENNER", Money(1_000, "EUR"))


def evaluate(
    promo: PromoRequest, amount: int = 5_000, currency: str = "EUR", now: Any = NOW
) -> DiscountOffer | DiscountRejection | None:
    ctx = DiscountContext(
        base_total=Money(amount, currency), timezone="Europe/Berlin", now=now, promo=promo
    )
    return POLICY.evaluate(ctx)


def request(promo: PromoCode | None, code: str = "SPRING", **counts: int) -> PromoRequest:
    return PromoRequest(code=code, definition=promo, **counts)


def reason(answer: DiscountOffer | DiscountRejection | None) -> str:
    assert isinstance(answer, DiscountRejection)
    assert answer.policy == "promo_code"
    return answer.reason_code


def test_a_valid_percent_code_gives_its_percentage() -> None:
    answer = evaluate(request(SPRING))
    assert answer == DiscountOffer(
        policy="promo_code", reason_code="promo_code", amount=Money(500, "EUR")
    )


def test_codes_are_case_insensitive_and_stripped() -> None:
    assert SPRING.code == "SPRING"
    assert isinstance(evaluate(request(SPRING, code="  spring ")), DiscountOffer)


def test_unknown_code() -> None:
    assert reason(evaluate(request(None, code="WHATEVER"))) == "promo_unknown"


def test_the_window_is_half_open() -> None:
    assert reason(evaluate(request(SPRING), now=START.subtract(microseconds=1))) == (
        "promo_not_yet_valid"
    )
    assert isinstance(evaluate(request(SPRING), now=START), DiscountOffer)
    assert isinstance(evaluate(request(SPRING), now=END.subtract(microseconds=1)), DiscountOffer)
    assert reason(evaluate(request(SPRING), now=END)) == "promo_expired"


def test_the_window_compares_instants_whatever_the_zone() -> None:
    # 02:00 on 1 July in Berlin (CEST, +02:00) is 00:00 UTC: exactly the end.
    assert (
        reason(evaluate(request(SPRING), now=pendulum.datetime(2025, 7, 1, 2, tz="Europe/Berlin")))
        == "promo_expired"
    )
    assert isinstance(
        evaluate(request(SPRING), now=pendulum.datetime(2025, 7, 1, 1, 59, tz="Europe/Berlin")),
        DiscountOffer,
    )


def test_total_and_per_patient_limits() -> None:
    assert reason(evaluate(request(SPRING, uses=100))) == "promo_exhausted"
    assert isinstance(evaluate(request(SPRING, uses=99)), DiscountOffer)
    assert reason(evaluate(request(SPRING, patient_uses=1))) == "promo_patient_limit"
    # both exhausted: the total limit is reported first
    assert reason(evaluate(request(SPRING, uses=100, patient_uses=1))) == "promo_exhausted"


def test_minimum_spend_is_inclusive() -> None:
    assert reason(evaluate(request(SPRING), amount=1_999)) == "promo_min_spend"
    assert evaluate(request(SPRING), amount=2_000) == DiscountOffer(
        policy="promo_code", reason_code="promo_code", amount=Money(200, "EUR")
    )


def test_a_fixed_amount_never_makes_the_total_negative() -> None:
    assert evaluate(request(TENNER, code="tenner"), amount=400) == DiscountOffer(
        policy="promo_code", reason_code="promo_code", amount=Money(400, "EUR")
    )
    assert promo_discount(TENNER, Money(0, "EUR")) == Money(0, "EUR")


def test_a_fixed_amount_in_another_currency_is_refused() -> None:
    assert reason(evaluate(request(TENNER, code="TENNER"), currency="USD")) == (
        "promo_currency_mismatch"
    )
    with pytest.raises(ValidationError):
        promo_discount(TENNER, Money(5_000, "USD"))


def test_a_min_spend_in_another_currency_is_refused() -> None:
    assert reason(evaluate(request(SPRING), currency="GBP")) == "promo_currency_mismatch"


def test_every_reason_code_is_stable_and_reachable() -> None:
    assert PROMO_REASON_CODES == (
        "promo_unknown",
        "promo_not_yet_valid",
        "promo_expired",
        "promo_currency_mismatch",
        "promo_exhausted",
        "promo_patient_limit",
        "promo_min_spend",
    )


def test_rejection_messages_do_not_quote_the_code() -> None:
    answer = evaluate(request(None, code="SECRET-Q7"))
    assert isinstance(answer, DiscountRejection)
    assert "SECRET-Q7" not in answer.message


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "percent"}, "percent promo"),
        ({"kind": "percent", "percent": 0}, "above 0"),
        ({"kind": "percent", "percent": 101}, "above 0"),
        ({"kind": "percent", "percent": 10.0}, "float"),
        ({"kind": "percent", "percent": 10, "amount": Money(1, "EUR")}, "percent promo"),
        ({"kind": "fixed"}, "fixed promo"),
        ({"kind": "fixed", "amount": Money(0, "EUR")}, "positive"),
        ({"kind": "fixed", "amount": 10.0}, "Money"),
        ({"kind": "coupon", "percent": 10}, "kind must be one of"),
        ({"kind": "percent", "percent": 10, "max_uses": -1}, "max_uses"),
        ({"kind": "percent", "percent": 10, "max_uses_per_patient": 1.0}, "per_patient"),
        ({"kind": "percent", "percent": 10, "min_spend": Money(-1, "EUR")}, "minimum spend"),
        ({"kind": "percent", "percent": 10, "valid_from": END, "valid_until": START}, "after"),
        ({"kind": "percent", "percent": 10, "valid_from": START.naive()}, "aware"),
    ],
)
def test_bad_definitions_are_validation_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        PromoCode(code="X", **kwargs)


@pytest.mark.parametrize("code", ["", "   ", "A" * 65, "NEW\nLINE", 42])
def test_bad_codes_are_validation_errors(code: Any) -> None:
    with pytest.raises(ValidationError):
        PromoRequest(code=code)


def test_bad_requests_are_refused_and_nothing_changes() -> None:
    with pytest.raises(ValidationError, match="another code"):
        PromoRequest(code="AUTUMN", definition=SPRING)
    with pytest.raises(ValidationError):
        PromoRequest(code="SPRING", definition=SPRING, uses=-1)
    with pytest.raises(ValidationError):
        attrs.evolve(SPRING, max_uses=-5)
    assert SPRING.max_uses == 100
    assert SPRING.kind is PromoKind.PERCENT


def test_valid_at_and_refusal_agree_on_the_window() -> None:
    for instant in (START.subtract(seconds=1), START, NOW, END, END.add(days=1)):
        refusal = promo_refusal(request(SPRING), Money(5_000, "EUR"), instant)
        assert SPRING.valid_at(instant) is (refusal is None)


@given(
    base=st.integers(min_value=0, max_value=10**12),
    fixed=st.integers(min_value=1, max_value=10**13),
    percent=st.decimals(min_value="0.01", max_value=100, places=2),
)
def test_promo_discounts_stay_between_zero_and_the_base(
    base: int, fixed: int, percent: Decimal
) -> None:
    total = Money(base, "EUR")
    for promo in (
        PromoCode.fixed_off("F", Money(fixed, "EUR")),
        PromoCode.percent_off("P", percent),
    ):
        off = promo_discount(promo, total)
        assert 0 <= off.amount <= base
        assert not (total - off).is_negative
