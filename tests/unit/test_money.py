"""Money: integer minor units, one ISO 4217 currency, one rounding rule."""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carebook.domain.currencies import MINOR_UNITS
from carebook.domain.money import Money, apply_percentage, sum_money
from carebook.errors import CarebookError, ValidationError

currencies = st.sampled_from(sorted(MINOR_UNITS))
amounts = st.integers(min_value=-(10**15), max_value=10**15)
percents = st.decimals(min_value=0, max_value=100, allow_nan=False, allow_infinity=False)


# --- the currency table ------------------------------------------------------------------


def test_currency_table_holds_only_three_letter_uppercase_codes() -> None:
    for code in MINOR_UNITS:
        assert len(code) == 3
        assert code.isascii()
        assert code.isalpha()
        assert code.isupper()


def test_currency_table_exponents_are_between_zero_and_four() -> None:
    assert set(MINOR_UNITS.values()) <= {0, 2, 3, 4}


def test_currency_table_covers_the_active_iso_4217_list() -> None:
    assert 150 <= len(MINOR_UNITS) <= 185


@pytest.mark.parametrize(
    ("code", "exponent"),
    [
        ("USD", 2),
        ("EUR", 2),
        ("GBP", 2),
        ("INR", 2),
        ("CHF", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("ISK", 0),
        ("CLP", 0),
        ("XOF", 0),
        ("KWD", 3),
        ("BHD", 3),
        ("JOD", 3),
        ("OMR", 3),
        ("TND", 3),
        ("CLF", 4),
        ("UYW", 4),
    ],
)
def test_well_known_currencies_have_their_iso_minor_unit(code: str, exponent: int) -> None:
    assert MINOR_UNITS[code] == exponent


@pytest.mark.parametrize("code", ["XAU", "XAG", "XDR", "XTS", "XXX", "HRK", "DEM"])
def test_codes_without_minor_units_or_withdrawn_are_not_in_the_table(code: str) -> None:
    assert code not in MINOR_UNITS


# --- construction and validation ---------------------------------------------------------


def test_money_holds_an_integer_amount_of_minor_units_and_a_currency() -> None:
    money = Money(1250, "EUR")
    assert money.amount == 1250
    assert money.currency == "EUR"


def test_money_may_be_negative() -> None:
    assert Money(-500, "USD").amount == -500


@pytest.mark.parametrize(
    ("amount", "type_name"),
    [(12.5, "float"), (12.0, "float"), (Decimal("12.50"), "Decimal"), ("1250", "str")],
)
def test_money_rejects_non_integer_amounts_naming_the_type(amount: object, type_name: str) -> None:
    with pytest.raises(ValidationError, match=f"integer minor units, got {type_name}"):
        Money(amount, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [True, False])
def test_money_rejects_bools_even_though_they_are_ints(amount: bool) -> None:
    with pytest.raises(ValidationError, match="got bool"):
        Money(amount, "EUR")


def test_money_rejects_none_as_amount() -> None:
    with pytest.raises(ValidationError):
        Money(None, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["XYZ", "eur", "EURO", "EU", "", " EUR", "XAU"])
def test_money_rejects_unknown_currency_codes(currency: str) -> None:
    with pytest.raises(ValidationError, match="known ISO 4217 code"):
        Money(100, currency)


def test_unknown_currency_message_names_the_field_not_the_code() -> None:
    with pytest.raises(ValidationError) as excinfo:
        Money(100, "XYZ")
    assert str(excinfo.value) == "currency must be a known ISO 4217 code, such as EUR or GBP"


def test_money_rejects_a_non_string_currency() -> None:
    with pytest.raises(ValidationError, match="got int"):
        Money(100, 978)  # type: ignore[arg-type]


def test_validation_errors_belong_to_the_carebook_hierarchy_and_to_value_error() -> None:
    with pytest.raises(CarebookError):
        Money(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(1, "XYZ")


def test_money_is_immutable() -> None:
    money = Money(100, "EUR")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        money.amount = 200  # type: ignore[misc]


def test_evolving_money_still_validates() -> None:
    with pytest.raises(ValidationError):
        attrs.evolve(Money(100, "EUR"), amount=1.5)  # type: ignore[arg-type]


def test_zero_is_zero_minor_units_of_the_currency() -> None:
    assert Money.zero("JPY") == Money(0, "JPY")
    assert Money.zero("JPY").is_zero


def test_zero_rejects_an_unknown_currency() -> None:
    with pytest.raises(ValidationError):
        Money.zero("ABC")


# --- equality and hashing ----------------------------------------------------------------


def test_equal_amount_and_currency_make_equal_money() -> None:
    assert Money(100, "EUR") == Money(100, "EUR")
    assert hash(Money(100, "EUR")) == hash(Money(100, "EUR"))


def test_same_amount_in_different_currencies_is_not_equal_and_does_not_raise() -> None:
    assert Money(100, "EUR") != Money(100, "USD")


def test_money_is_usable_as_a_dict_key_and_in_sets() -> None:
    assert len({Money(1, "EUR"), Money(1, "EUR"), Money(1, "USD")}) == 2


# --- properties --------------------------------------------------------------------------


def test_minor_unit_exponent_comes_from_the_currency() -> None:
    assert Money(1, "EUR").minor_unit_exponent == 2
    assert Money(1, "JPY").minor_unit_exponent == 0
    assert Money(1, "KWD").minor_unit_exponent == 3
    assert Money(1, "CLF").minor_unit_exponent == 4


def test_is_negative_is_true_only_below_zero() -> None:
    assert Money(-1, "EUR").is_negative
    assert not Money(0, "EUR").is_negative
    assert not Money(1, "EUR").is_negative


# --- arithmetic --------------------------------------------------------------------------


def test_adding_money_in_one_currency_adds_the_amounts() -> None:
    assert Money(1250, "EUR") + Money(750, "EUR") == Money(2000, "EUR")


def test_subtracting_money_in_one_currency_subtracts_the_amounts() -> None:
    assert Money(1250, "EUR") - Money(2000, "EUR") == Money(-750, "EUR")


def test_negating_money_flips_the_sign_and_keeps_the_currency() -> None:
    assert -Money(1250, "GBP") == Money(-1250, "GBP")
    assert -Money(0, "GBP") == Money(0, "GBP")


@pytest.mark.parametrize("operation", ["add", "subtract"])
def test_arithmetic_across_currencies_is_refused(operation: str) -> None:
    eur, usd = Money(100, "EUR"), Money(100, "USD")
    with pytest.raises(ValidationError, match=f"cannot {operation} EUR and USD"):
        if operation == "add":
            eur + usd
        else:
            eur - usd


@pytest.mark.parametrize("other", [1, 1.0, Decimal(1), "1"])
def test_arithmetic_with_non_money_is_a_type_error(other: Any) -> None:
    money = Money(100, "EUR")
    with pytest.raises(TypeError):
        money + other
    with pytest.raises(TypeError):
        money - other
    with pytest.raises(TypeError):
        other + money


# --- ordering ----------------------------------------------------------------------------


def test_money_in_one_currency_orders_by_amount() -> None:
    small, large = Money(100, "EUR"), Money(200, "EUR")
    assert small < large
    assert small <= large
    assert small <= Money(100, "EUR")
    assert large > small
    assert large >= small
    assert large >= Money(200, "EUR")
    assert not large < small
    assert sorted([large, small]) == [small, large]
    assert max(small, large) == large


@pytest.mark.parametrize("comparison", ["<", "<=", ">", ">="])
def test_ordering_across_currencies_is_refused(comparison: str) -> None:
    eur, usd = Money(100, "EUR"), Money(100, "USD")
    with pytest.raises(ValidationError, match="cannot compare EUR and USD"):
        if comparison == "<":
            _ = eur < usd
        elif comparison == "<=":
            _ = eur <= usd
        elif comparison == ">":
            _ = eur > usd
        else:
            _ = eur >= usd


def test_ordering_against_non_money_is_a_type_error() -> None:
    other: Any = 100
    with pytest.raises(TypeError):
        _ = Money(100, "EUR") < other


# --- formatting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(1250, "EUR"), "EUR 12.50"),
        (Money(5, "EUR"), "EUR 0.05"),
        (Money(0, "EUR"), "EUR 0.00"),
        (Money(-1250, "EUR"), "EUR -12.50"),
        (Money(-5, "USD"), "USD -0.05"),
        (Money(123456789, "USD"), "USD 1234567.89"),
        (Money(1200, "JPY"), "JPY 1200"),
        (Money(-1200, "JPY"), "JPY -1200"),
        (Money(1250, "KWD"), "KWD 1.250"),
        (Money(7, "BHD"), "BHD 0.007"),
        (Money(12345, "CLF"), "CLF 1.2345"),
    ],
)
def test_format_shows_code_sign_and_exactly_the_minor_unit_digits(money: Money, text: str) -> None:
    assert money.format() == text
    assert str(money) == text


def test_repr_shows_the_raw_fields() -> None:
    assert repr(Money(1250, "EUR")) == "Money(amount=1250, currency='EUR')"


# --- sum_money ---------------------------------------------------------------------------


def test_sum_money_adds_every_item() -> None:
    items = [Money(100, "EUR"), Money(250, "EUR"), Money(-50, "EUR")]
    assert sum_money(items, "EUR") == Money(300, "EUR")


def test_sum_money_of_nothing_is_zero_in_the_given_currency() -> None:
    assert sum_money([], "JPY") == Money(0, "JPY")


def test_sum_money_accepts_any_iterable() -> None:
    assert sum_money((Money(n, "EUR") for n in range(5)), "EUR") == Money(10, "EUR")


def test_sum_money_refuses_an_item_in_another_currency() -> None:
    with pytest.raises(ValidationError, match="currencies differ"):
        sum_money([Money(100, "EUR"), Money(100, "USD")], "EUR")


def test_sum_money_refuses_items_all_in_a_currency_other_than_the_one_asked() -> None:
    with pytest.raises(ValidationError):
        sum_money([Money(100, "USD")], "EUR")


def test_sum_money_refuses_an_unknown_currency_even_when_empty() -> None:
    with pytest.raises(ValidationError, match="known ISO 4217 code"):
        sum_money([], "XYZ")


# --- apply_percentage --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "percent", "expected"),
    [
        (10000, "10", 1000),
        (10000, "0", 0),
        (10000, "100", 10000),
        (1999, "12.5", 250),  # 249.875 -> 250
        (1000, "33.33", 333),  # 333.3 -> 333
        (1, "50", 1),  # 0.5 -> 1: half goes up
        (3, "50", 2),  # 1.5 -> 2: half up, not half even
        (5, "50", 3),  # 2.5 -> 3: half up, not half even (banker's would give 2)
        (1, "49.99", 0),  # 0.4999 -> 0
        (-1, "50", -1),  # -0.5 -> -1: away from zero
        (-5, "50", -3),  # -2.5 -> -3
        (-1999, "12.5", -250),
        (0, "75", 0),
    ],
)
def test_apply_percentage_rounds_half_up_away_from_zero_to_the_minor_unit(
    amount: int, percent: str, expected: int
) -> None:
    result = apply_percentage(Money(amount, "EUR"), Decimal(percent))
    assert result == Money(expected, "EUR")


def test_apply_percentage_keeps_the_currency() -> None:
    assert apply_percentage(Money(1200, "JPY"), Decimal("15")) == Money(180, "JPY")


def test_apply_percentage_accepts_high_precision_decimals_exactly() -> None:
    # 1/3 of a per cent with 40 digits: exact arithmetic, not the 28-digit decimal context.
    third = Decimal("0." + "3" * 40)
    assert apply_percentage(Money(300, "EUR"), third) == Money(1, "EUR")


def test_apply_percentage_does_not_depend_on_the_decimal_context() -> None:
    with localcontext() as ctx:
        ctx.prec = 2
        assert apply_percentage(Money(1999, "EUR"), Decimal("12.5")) == Money(250, "EUR")


def test_apply_percentage_handles_amounts_beyond_decimal_precision() -> None:
    huge = 10**40 + 1
    assert apply_percentage(Money(huge, "EUR"), Decimal("50")) == Money(5 * 10**39 + 1, "EUR")


def test_apply_percentage_accepts_negative_zero() -> None:
    assert apply_percentage(Money(100, "EUR"), Decimal("-0")) == Money(0, "EUR")


@pytest.mark.parametrize("percent", [10.0, 10, "10", None])
def test_apply_percentage_rejects_anything_but_decimal(percent: object) -> None:
    with pytest.raises(ValidationError, match="must be Decimal"):
        apply_percentage(Money(100, "EUR"), percent)  # type: ignore[arg-type]


def test_apply_percentage_rejects_a_float_naming_it() -> None:
    with pytest.raises(ValidationError, match="got float"):
        apply_percentage(Money(100, "EUR"), 12.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("percent", ["-0.01", "-5", "100.01", "150"])
def test_apply_percentage_rejects_percentages_outside_zero_to_one_hundred(percent: str) -> None:
    with pytest.raises(ValidationError, match="between 0 and 100"):
        apply_percentage(Money(100, "EUR"), Decimal(percent))


@pytest.mark.parametrize("percent", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_apply_percentage_rejects_non_finite_percentages(percent: str) -> None:
    with pytest.raises(ValidationError, match="finite"):
        apply_percentage(Money(100, "EUR"), Decimal(percent))


# --- properties --------------------------------------------------------------------------


@given(currencies, amounts, amounts)
def test_addition_is_commutative_within_a_currency(currency: str, a: int, b: int) -> None:
    assert Money(a, currency) + Money(b, currency) == Money(b, currency) + Money(a, currency)


@given(currencies, amounts, amounts, amounts)
def test_addition_is_associative_within_a_currency(currency: str, a: int, b: int, c: int) -> None:
    x, y, z = Money(a, currency), Money(b, currency), Money(c, currency)
    assert (x + y) + z == x + (y + z)


@given(currencies, amounts)
def test_zero_is_the_identity_and_negation_the_inverse(currency: str, a: int) -> None:
    money = Money(a, currency)
    assert money + Money.zero(currency) == money
    assert money + -money == Money.zero(currency)
    assert money - money == Money.zero(currency)


@given(currencies, st.lists(amounts, max_size=20))
def test_sum_money_equals_the_sum_of_the_amounts(currency: str, values: list[int]) -> None:
    total = sum_money([Money(v, currency) for v in values], currency)
    assert total == Money(sum(values), currency)


@given(currencies, amounts, percents)
def test_apply_percentage_lies_between_zero_and_the_amount(
    currency: str, amount: int, percent: Decimal
) -> None:
    part = apply_percentage(Money(amount, currency), percent)
    assert part.currency == currency
    assert min(0, amount) <= part.amount <= max(0, amount)


@given(currencies, amounts, percents)
def test_apply_percentage_is_within_half_a_minor_unit_of_the_exact_value(
    currency: str, amount: int, percent: Decimal
) -> None:
    part = apply_percentage(Money(amount, currency), percent)
    numerator, denominator = percent.as_integer_ratio()
    exact_times_2_denominator = 2 * amount * numerator
    # |part - exact| <= 1/2  <=>  |2 * part * 100 * d - 2 * amount * n| <= 100 * d
    assert abs(2 * part.amount * 100 * denominator - exact_times_2_denominator) <= 100 * denominator


@given(currencies, amounts, percents)
def test_apply_percentage_is_symmetric_under_negation(
    currency: str, amount: int, percent: Decimal
) -> None:
    money = Money(amount, currency)
    assert apply_percentage(-money, percent) == -apply_percentage(money, percent)
