"""Pricing: price list with location overrides, quotes, currency from the location."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carebook.domain.money import Money
from carebook.domain.pricing.policies import builtin_discount_policies
from carebook.domain.pricing.prices import (
    PriceEntry,
    PriceList,
    PriceSource,
    Quote,
    QuoteLine,
    price_appointment,
)
from carebook.domain.pricing.promo import PromoCode, PromoRequest
from carebook.domain.pricing.settings import CombineMode, PricingSettings
from carebook.domain.scheduling.patients import PatientFacts
from carebook.errors import RuleRejectedError, ValidationError
from carebook.testing import builders as b

NOW = pendulum.datetime(2025, 6, 2, 10, 0, tz="UTC")
ORG = b.organisation()
BERLIN = b.location(ORG, timezone="Europe/Berlin", name="Berlin")
ZURICH = b.location(ORG, timezone="Europe/Zurich", name="Zurich")
MASSAGE = b.service(ORG, name="Massage", price=Money(6_000, "EUR"))
XRAY = b.service(ORG, name="X-ray", price=Money(4_500, "EUR"))


def test_without_a_price_list_entry_the_service_price_is_used() -> None:
    quote = price_appointment(PriceList(currency="EUR"), BERLIN, [MASSAGE])
    assert quote.lines == (
        QuoteLine(service_id=MASSAGE.id, price=Money(6_000, "EUR"), source=PriceSource.SERVICE),
    )
    assert quote.base_total == quote.final_total == Money(6_000, "EUR")
    assert not quote.discounted
    assert quote.discount is None


def test_a_location_override_beats_the_base_price_which_beats_the_service_price() -> None:
    prices = PriceList.of(
        "EUR",
        prices={MASSAGE.id: Money(7_000, "EUR")},
        overrides={(BERLIN.id, MASSAGE.id): Money(6_500, "EUR")},
    )
    berlin = price_appointment(prices, BERLIN, [MASSAGE, XRAY])
    assert [(line.price.amount, line.source) for line in berlin.lines] == [
        (6_500, PriceSource.LOCATION_OVERRIDE),
        (4_500, PriceSource.SERVICE),
    ]
    assert berlin.base_total == Money(11_000, "EUR")
    other = b.location(ORG, name="Munich")
    munich = price_appointment(prices, other, [MASSAGE])
    assert munich.lines[0].source is PriceSource.PRICE_LIST
    assert munich.base_total == Money(7_000, "EUR")


def test_several_services_are_totalled_in_order() -> None:
    quote = price_appointment(PriceList(currency="EUR"), BERLIN, [XRAY, MASSAGE, XRAY])
    assert [line.service_id for line in quote.lines] == [XRAY.id, MASSAGE.id, XRAY.id]
    assert quote.base_total == Money(15_000, "EUR")


def test_the_currency_comes_from_the_location() -> None:
    prices = PriceList.of(
        "EUR",
        overrides={(ZURICH.id, MASSAGE.id): Money(9_000, "CHF")},
        location_currencies={ZURICH.id: "CHF"},
    )
    assert prices.currency_for(ZURICH.id) == "CHF"
    assert prices.currency_for(BERLIN.id) == "EUR"
    quote = price_appointment(prices, ZURICH, [MASSAGE])
    assert quote.currency == "CHF"
    assert quote.final_total == Money(9_000, "CHF")


def test_a_price_in_another_currency_than_the_location_is_refused() -> None:
    prices = PriceList.of("EUR", location_currencies={ZURICH.id: "CHF"})
    with pytest.raises(ValidationError, match=r"location .* charges CHF"):
        price_appointment(prices, ZURICH, [MASSAGE])  # MASSAGE's own price is EUR


def test_an_override_in_the_wrong_currency_is_refused_when_the_list_is_built() -> None:
    with pytest.raises(ValidationError, match="charges CHF") as caught:
        PriceList.of(
            "EUR",
            overrides={(ZURICH.id, MASSAGE.id): Money(9_000, "EUR")},
            location_currencies={ZURICH.id: "CHF"},
        )
    assert "EUR" not in str(caught.value), "the rejected value is not quoted back"


@pytest.mark.parametrize("bad", [Money(-1, "EUR"), 19.99, Decimal("19.99"), 1999, "19.99"])
def test_negative_and_non_money_prices_are_refused(bad: Any) -> None:
    with pytest.raises(ValidationError):
        PriceEntry(service_id=MASSAGE.id, price=bad)


def test_a_float_price_is_refused_by_money_itself() -> None:
    with pytest.raises(ValidationError, match="integer minor units"):
        PriceList.of("EUR", prices={MASSAGE.id: Money(19.99, "EUR")})  # type: ignore[arg-type]


def test_a_negative_service_price_is_refused_when_pricing() -> None:
    refund_like = b.service(ORG, price=Money(-100, "EUR"))
    with pytest.raises(ValidationError, match="negative price"):
        price_appointment(PriceList(currency="EUR"), BERLIN, [refund_like])


def test_bad_input_leaves_the_price_list_unchanged() -> None:
    prices = PriceList.of("EUR", prices={MASSAGE.id: Money(7_000, "EUR")})
    before = attrs.asdict(prices)
    with pytest.raises(ValidationError):
        prices.with_price(MASSAGE.id, Money(-1, "EUR"))
    with pytest.raises(ValidationError):
        prices.with_price(MASSAGE.id, 70.0)  # type: ignore[arg-type]
    assert attrs.asdict(prices) == before
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        prices.currency = "USD"  # type: ignore[misc]


def test_with_price_returns_a_new_list_and_replaces_the_same_entry() -> None:
    prices = PriceList.of("EUR", prices={MASSAGE.id: Money(7_000, "EUR")})
    cheaper = prices.with_price(MASSAGE.id, Money(6_000, "EUR"))
    assert prices.price_for(BERLIN.id, MASSAGE)[0] == Money(7_000, "EUR")
    assert cheaper.price_for(BERLIN.id, MASSAGE)[0] == Money(6_000, "EUR")
    assert len(cheaper.entries) == 1


def test_a_service_priced_twice_in_one_place_is_refused() -> None:
    entry = PriceEntry(service_id=MASSAGE.id, price=Money(1, "EUR"))
    with pytest.raises(ValidationError, match="priced twice"):
        PriceList(currency="EUR", entries=[entry, entry])


def test_unknown_currencies_are_refused() -> None:
    with pytest.raises(ValidationError):
        PriceList(currency="XYZ")
    with pytest.raises(ValidationError):
        PriceList.of("EUR", location_currencies={ZURICH.id: "ZZZ"})


def test_an_appointment_needs_services_of_the_same_organisation() -> None:
    with pytest.raises(ValidationError, match="at least one service"):
        price_appointment(PriceList(currency="EUR"), BERLIN, [])
    stranger = b.service(b.organisation(name="Elsewhere"))
    with pytest.raises(ValidationError, match="another organisation"):
        price_appointment(PriceList(currency="EUR"), BERLIN, [stranger])


def test_discounts_need_now() -> None:
    with pytest.raises(ValidationError, match="needs 'now'"):
        price_appointment(
            PriceList(currency="EUR"), BERLIN, [MASSAGE], policies=builtin_discount_policies()
        )


def test_a_high_value_appointment_gets_r1() -> None:
    prices = PriceList.of("EUR", prices={MASSAGE.id: Money(100_001, "EUR")})
    quote = price_appointment(
        prices, BERLIN, [MASSAGE], now=NOW, policies=builtin_discount_policies()
    )
    assert quote.discount is not None
    assert (quote.discount.policy, quote.discount.reason_code) == (
        "birthday_or_high_value",
        "high_value",
    )
    # 12% of 1000.01 = 120.0012 -> 120.00 (half up, per minor unit)
    assert quote.discount_total == Money(12_000, "EUR")
    assert quote.final_total == Money(88_001, "EUR")
    assert quote.discounted


def test_a_rejected_promo_code_raises_with_its_reason_code() -> None:
    with pytest.raises(RuleRejectedError) as refusal:
        price_appointment(
            PriceList(currency="EUR"),
            BERLIN,
            [MASSAGE],
            now=NOW,
            policies=builtin_discount_policies(),
            promo=PromoRequest(code="NOPE"),
        )
    assert refusal.value.reason_code == "promo_unknown"


def test_sum_capped_applies_every_offer() -> None:
    prices = PriceList.of("EUR", prices={MASSAGE.id: Money(200_000, "EUR")})
    promo = PromoRequest(code="TEN", definition=PromoCode.percent_off("TEN", 10))
    quote = price_appointment(
        prices,
        BERLIN,
        [MASSAGE],
        now=NOW,
        policies=builtin_discount_policies(),
        promo=promo,
        settings=PricingSettings(combine=CombineMode.SUM_CAPPED),
    )
    assert [d.policy for d in quote.discounts] == ["birthday_or_high_value", "promo_code"]
    assert quote.discount_total == Money(24_000 + 20_000, "EUR")
    assert quote.combine is CombineMode.SUM_CAPPED


def test_without_discount_restores_full_price() -> None:
    prices = PriceList.of("EUR", prices={MASSAGE.id: Money(200_000, "EUR")})
    quote = price_appointment(
        prices, BERLIN, [MASSAGE], now=NOW, policies=builtin_discount_policies()
    )
    full = quote.without_discount()
    assert full.final_total == full.base_total == Money(200_000, "EUR")
    assert not full.discounted and full.discounts == ()
    assert quote.discounted  # the original is unchanged


def test_a_quote_keeps_its_arithmetic_true() -> None:
    line = QuoteLine(service_id=MASSAGE.id, price=Money(100, "EUR"), source="service")
    good: dict[str, Any] = {
        "location_id": BERLIN.id,
        "lines": [line],
        "base_total": Money(100, "EUR"),
        "discount_total": Money(10, "EUR"),
        "final_total": Money(90, "EUR"),
    }
    assert Quote(**good).final_total == Money(90, "EUR")
    for bad in (
        {"final_total": Money(91, "EUR")},
        {"discount_total": Money(101, "EUR"), "final_total": Money(-1, "EUR")},
        {"base_total": Money(99, "EUR"), "final_total": Money(89, "EUR")},
    ):
        with pytest.raises(ValidationError):
            Quote(**(good | bad))


def test_the_quote_repr_carries_no_patient_facts() -> None:
    facts = PatientFacts(sex="female", birth_date=dt.date(1977, 6, 2))
    quote = price_appointment(
        PriceList(currency="EUR"),
        BERLIN,
        [MASSAGE],
        now=NOW,
        patient=facts,
        policies=builtin_discount_policies(),
    )
    assert quote.discount is not None and quote.discount.reason_code == "birthday"
    assert "1977" not in repr(quote) and "female" not in repr(quote)


prices_st = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=6)


@given(amounts=prices_st, percent=st.decimals(min_value=0, max_value=100, places=2))
def test_totals_add_up_and_the_final_total_is_never_negative(
    amounts: list[int], percent: Decimal
) -> None:
    services = [b.service(ORG, price=Money(a, "EUR")) for a in amounts]
    quote = price_appointment(
        PriceList(currency="EUR"),
        BERLIN,
        services,
        now=NOW,
        policies=builtin_discount_policies(),
        settings=PricingSettings(percentage=percent, threshold=0),
    )
    assert quote.base_total.amount == sum(amounts)
    assert Money.zero("EUR") <= quote.discount_total <= quote.base_total
    assert quote.final_total == quote.base_total - quote.discount_total
    assert not quote.final_total.is_negative
