"""R2: the quota day key (midnight in the configured zone) and the pure quota decisions."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carebook.domain.money import Money
from carebook.domain.pricing.prices import Quote, QuoteLine
from carebook.domain.pricing.quota import QUOTA_EXHAUSTED, DailyQuota, apply_quota, quota_day
from carebook.domain.pricing.settings import QuotaExhaustedBehaviour
from carebook.errors import RuleRejectedError, ValidationError
from carebook.testing import builders as b

KOLKATA = "Asia/Kolkata"
DAY = dt.date(2025, 6, 2)


def local(zone: str, *fields: int) -> pendulum.DateTime:
    year, month, day, hour, minute, second, micro = fields
    return pendulum.datetime(year, month, day, hour, minute, second, micro, tz=zone)


@pytest.mark.parametrize("zone", [KOLKATA, "Europe/Berlin", "America/New_York", "UTC"])
def test_the_last_millisecond_and_midnight_are_different_days(zone: str) -> None:
    before = local(zone, 2025, 6, 1, 23, 59, 59, 999_000)
    midnight = local(zone, 2025, 6, 2, 0, 0, 0, 0)
    assert quota_day(before, zone) == pendulum.Date(2025, 6, 1)
    assert quota_day(midnight, zone) == pendulum.Date(2025, 6, 2)


def test_kolkata_midnight_is_18_30_utc() -> None:
    assert quota_day(pendulum.datetime(2025, 6, 1, 18, 29, 59, 999_000), KOLKATA) == (
        pendulum.Date(2025, 6, 1)
    )
    assert quota_day(pendulum.datetime(2025, 6, 1, 18, 30), KOLKATA) == pendulum.Date(2025, 6, 2)
    # the same instants seen from UTC are both on 1 June
    assert quota_day(pendulum.datetime(2025, 6, 1, 18, 30), "UTC") == pendulum.Date(2025, 6, 1)


@pytest.mark.parametrize(
    ("utc_midnight", "local_day"),
    [
        # Europe/Berlin springs forward on 30 March 2025 (02:00 -> 03:00): midnight is +01:00
        (pendulum.datetime(2025, 3, 29, 23, 0), pendulum.Date(2025, 3, 30)),
        # ... and the next midnight is already +02:00
        (pendulum.datetime(2025, 3, 30, 22, 0), pendulum.Date(2025, 3, 31)),
        # falls back on 26 October 2025: midnight on the 26th is +02:00, on the 27th +01:00
        (pendulum.datetime(2025, 10, 25, 22, 0), pendulum.Date(2025, 10, 26)),
        (pendulum.datetime(2025, 10, 26, 23, 0), pendulum.Date(2025, 10, 27)),
    ],
)
def test_daylight_saving_moves_the_utc_instant_of_midnight(
    utc_midnight: pendulum.DateTime, local_day: pendulum.Date
) -> None:
    zone = "Europe/Berlin"
    assert quota_day(utc_midnight, zone) == local_day
    assert quota_day(utc_midnight.subtract(microseconds=1000), zone) == local_day.subtract(days=1)


def test_the_repeated_hour_of_a_fold_stays_on_one_day() -> None:
    zone = "Europe/Berlin"
    first = pendulum.datetime(2025, 10, 26, 0, 30)  # 02:30 CEST
    second = pendulum.datetime(2025, 10, 26, 1, 30)  # 02:30 CET
    assert quota_day(first, zone) == quota_day(second, zone) == pendulum.Date(2025, 10, 26)


def test_naive_instants_and_unknown_zones_are_refused() -> None:
    with pytest.raises(ValidationError):
        quota_day(dt.datetime(2025, 6, 2, 12, 0), KOLKATA)
    with pytest.raises(ValidationError):
        quota_day(pendulum.datetime(2025, 6, 2), "Asia/Atlantis")


@given(
    st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(9000, 12, 31), timezones=st.just(dt.UTC)),
    st.sampled_from([KOLKATA, "Europe/Berlin"]),
)
def test_the_day_key_is_the_local_calendar_date(instant: dt.datetime, zone: str) -> None:
    key = quota_day(instant, zone)
    assert key == pendulum.instance(instant).in_timezone(zone).date()


# -- DailyQuota --------------------------------------------------------------------------


def test_reserving_counts_up_to_the_limit_then_refuses() -> None:
    quota = DailyQuota(day=DAY, limit=2)
    quota = quota.reserve().reserve()
    assert (quota.used, quota.remaining, quota.can_reserve) == (2, 0, False)
    with pytest.raises(RuleRejectedError) as refusal:
        quota.reserve()
    assert refusal.value.reason_code == QUOTA_EXHAUSTED == "discount_quota_exhausted"
    assert quota.used == 2


def test_release_gives_one_back_and_never_goes_below_zero() -> None:
    quota = DailyQuota(day=DAY, limit=1, used=1)
    assert quota.release().used == 0
    with pytest.raises(ValidationError):
        DailyQuota(day=DAY, limit=1).release()


def test_a_limit_below_what_is_used_is_refused_and_nothing_changes() -> None:
    quota = DailyQuota(day=DAY, limit=5, used=3)
    with pytest.raises(ValidationError, match="below the 3 already used"):
        quota.with_limit(2)
    assert (quota.limit, quota.used) == (5, 3)
    assert quota.with_limit(3).remaining == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"limit": -1},
        {"limit": 1.0},
        {"limit": True},
        {"used": -1},
        {"day": dt.datetime(2025, 6, 2, 0, 0)},
        {"day": "2025-06-02"},
    ],
)
def test_bad_quota_values_are_validation_errors(bad: dict[str, object]) -> None:
    values: dict[str, object] = {"day": DAY, "limit": 10} | bad
    with pytest.raises(ValidationError):
        DailyQuota(**values)  # type: ignore[arg-type]


def quote(discount: int) -> Quote:
    org = b.organisation()
    svc = b.service(org)
    line = QuoteLine(service_id=svc.id, price=Money(10_000, "EUR"), source="service")
    return Quote(
        location_id=b.location(org).id,
        lines=[line],
        base_total=Money(10_000, "EUR"),
        discount_total=Money(discount, "EUR"),
        final_total=Money(10_000 - discount, "EUR"),
    )


def charged(
    quote: Quote, granted: bool, on_exhausted: QuotaExhaustedBehaviour | str = "reject"
) -> Quote:
    """The quote once the storage answered a request for one of DAY's 100 units."""
    return apply_quota(quote, day=DAY, limit=100, granted=granted, on_exhausted=on_exhausted)


def test_apply_quota_leaves_undiscounted_quotes_and_granted_units_alone() -> None:
    plain = quote(0)
    assert charged(plain, granted=False) is plain
    discounted = quote(1_200)
    assert charged(discounted, granted=True) is discounted


def test_apply_quota_rejects_or_drops_the_discount_when_exhausted() -> None:
    discounted = quote(1_200)
    with pytest.raises(RuleRejectedError) as refusal:
        charged(discounted, False, QuotaExhaustedBehaviour.REJECT)
    assert refusal.value.reason_code == "discount_quota_exhausted"
    assert str(DAY) in refusal.value.message and "100" in refusal.value.message
    full_price = charged(discounted, False, QuotaExhaustedBehaviour.PROCEED_WITHOUT_DISCOUNT)
    assert full_price.final_total == Money(10_000, "EUR")
    assert not full_price.discounted
    assert discounted.discounted  # the original is unchanged
    with pytest.raises(ValidationError):
        charged(discounted, False, "ignore")


def test_a_zero_quota_allows_no_discount() -> None:
    assert not DailyQuota(day=DAY, limit=0).can_reserve
