"""carebook_register_discount_policies: plugins add discount policies by unique name."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pendulum
import pytest

import carebook
from carebook.domain.money import Money, apply_percentage
from carebook.domain.pricing.discounts import DiscountContext, DiscountOffer, DiscountPolicy
from carebook.domain.pricing.prices import PriceList, price_appointment
from carebook.domain.pricing.settings import CombineMode, PricingSettings
from carebook.errors import ConfigurationError, DuplicateAdapterError, UnknownAdapterError
from carebook.hookspecs import DiscountPolicyRegister
from carebook.plugins import collect_discount_policies, make_plugin_manager
from carebook.testing import builders as b

NOW = pendulum.datetime(2025, 6, 2, 8, 0, tz="UTC")  # Monday, 10:00 in Berlin


class MondayMorning:
    """A user policy: 20% off on Monday mornings, clinic time."""

    name = "monday_morning"

    def evaluate(self, context: DiscountContext) -> DiscountOffer | None:
        local = context.now.in_timezone(context.timezone)
        if local.day_of_week != pendulum.MONDAY or local.hour >= 12:
            return None
        return DiscountOffer(
            policy=self.name,
            reason_code="monday_morning",
            amount=apply_percentage(context.base_total, Decimal(20)),
        )


class MondayPlugin:
    @carebook.hookimpl
    def carebook_register_discount_policies(self, register: DiscountPolicyRegister) -> None:
        register(MondayMorning())


class ShadowsPromo:
    @carebook.hookimpl
    def carebook_register_discount_policies(self, register: DiscountPolicyRegister) -> None:
        register(MondayMorning())
        register(type("Impostor", (MondayMorning,), {"name": "promo_code"})())


class NotAPolicy:
    @carebook.hookimpl
    def carebook_register_discount_policies(self, register: Any) -> None:
        register(object())


class Nameless:
    @carebook.hookimpl
    def carebook_register_discount_policies(self, register: Any) -> None:
        register(type("Blank", (MondayMorning,), {"name": ""})())


def test_the_builtins_are_collected() -> None:
    policies = collect_discount_policies(make_plugin_manager(autoload=False))
    assert policies.names() == ["birthday_or_high_value", "promo_code"]
    assert len(policies) == 2
    assert all(isinstance(p, DiscountPolicy) for p in policies)


def test_a_plugin_policy_is_registered_and_then_used() -> None:
    pm = make_plugin_manager(plugins=[MondayPlugin()], autoload=False)
    policies = collect_discount_policies(pm)
    assert policies.names() == ["birthday_or_high_value", "monday_morning", "promo_code"]
    assert isinstance(policies.get("monday_morning"), MondayMorning)

    org = b.organisation()
    office = b.location(org, timezone="Europe/Berlin")
    visit = b.service(org, price=Money(5_000, "EUR"))
    quote = price_appointment(
        PriceList(currency="EUR"), office, [visit], now=NOW, policies=policies
    )
    assert quote.discount is not None
    assert (quote.discount.policy, quote.discount.reason_code) == (
        "monday_morning",
        "monday_morning",
    )
    assert quote.final_total == Money(4_000, "EUR")

    afternoon = NOW.add(hours=4)  # 14:00 in Berlin
    assert not price_appointment(
        PriceList(currency="EUR"), office, [visit], now=afternoon, policies=policies
    ).discounted


def test_a_plugin_policy_competes_with_r1_under_best_single() -> None:
    policies = collect_discount_policies(
        make_plugin_manager(plugins=[MondayPlugin()], autoload=False)
    )
    org = b.organisation()
    office = b.location(org, timezone="Europe/Berlin")
    big = b.service(org, price=Money(200_000, "EUR"))
    best = price_appointment(PriceList(currency="EUR"), office, [big], now=NOW, policies=policies)
    assert best.discount is not None and best.discount.policy == "monday_morning"  # 20% > 12%
    both = price_appointment(
        PriceList(currency="EUR"),
        office,
        [big],
        now=NOW,
        policies=policies,
        settings=PricingSettings(combine=CombineMode.SUM_CAPPED),
    )
    assert both.discount_total == Money(40_000 + 24_000, "EUR")


def test_a_duplicate_name_fails_with_duplicate_adapter_error() -> None:
    with pytest.raises(DuplicateAdapterError, match="'promo_code'"):
        collect_discount_policies(make_plugin_manager(plugins=[ShadowsPromo()], autoload=False))
    with pytest.raises(DuplicateAdapterError, match="monday_morning"):
        collect_discount_policies(
            make_plugin_manager(plugins=[MondayPlugin(), MondayPlugin()], autoload=False)
        )


@pytest.mark.parametrize("plugin", [NotAPolicy(), Nameless()])
def test_a_malformed_policy_is_a_configuration_error(plugin: object) -> None:
    with pytest.raises(ConfigurationError):
        collect_discount_policies(make_plugin_manager(plugins=[plugin], autoload=False))


def test_an_unknown_policy_name_lists_the_installed_ones() -> None:
    policies = collect_discount_policies(make_plugin_manager(autoload=False))
    with pytest.raises(UnknownAdapterError, match="installed: birthday_or_high_value, promo_code"):
        policies.get("loyalty")
