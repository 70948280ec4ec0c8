"""The synthetic demand history: seeded, local-hour faithful, true to its pattern."""

from __future__ import annotations

import datetime as dt
import math
import random
import statistics
import uuid

import pytest

from carebook.domain.ids import LocationId
from carebook.domain.instants import zone
from carebook.domain.scheduling.calendar import PatientKind
from carebook.domain.staffing.forecast import DemandKind, weekly_counts
from carebook.errors import ValidationError
from carebook.testing.demand import poisson, synthetic_history, synthetic_staff


def test_the_same_seed_gives_the_same_history_and_another_seed_does_not() -> None:
    one = synthetic_history(seed=7, locations=2, weeks=2)
    two = synthetic_history(seed=7, locations=2, weeks=2)
    other = synthetic_history(seed=8, locations=2, weeks=2)
    assert one.records == two.records
    assert one.pattern.rates == two.pattern.rates
    assert one.location_ids == two.location_ids
    assert one.records != other.records
    assert one.location_ids != other.location_ids


def test_records_are_sorted_aware_utc_instants_at_known_locations() -> None:
    history = synthetic_history(seed=1, locations=3, weeks=1)
    assert history.records
    instants = [r.at for r in history.records]
    assert instants == sorted(instants)
    assert all(r.at.utcoffset() == dt.timedelta(0) for r in history.records)
    assert {r.location_id for r in history.records} <= set(history.location_ids)
    assert len(history.location_ids) == 3


def test_every_record_falls_in_an_open_local_hour_of_its_own_zone() -> None:
    """The default history (February to March 2026) crosses the US change on 8 March and
    the European one on 29 March; local opening hours hold across both."""
    history = synthetic_history(seed=2, locations=4, weeks=8)
    for record in history.records:
        local = record.at.in_timezone(history.timezones[record.location_id])
        assert 8 <= local.hour < 20
        if local.weekday() == 5:
            assert local.hour < 14  # Saturdays close at 14:00
        assert history.pattern.rate(record.location_id, local.weekday(), local.hour) > 0
    offsets = {
        r.at.in_timezone(history.timezones[r.location_id]).utcoffset() for r in history.records
    }
    assert len(offsets) > len(set(history.timezones.values())), "no daylight-saving change seen"


def test_counts_average_out_to_the_true_pattern() -> None:
    """Over 12 weeks the weekly total of each location is within 4 standard deviations
    of its Poisson expectation (12 x the sum of its hourly rates)."""
    weeks = 12
    history = synthetic_history(seed=3, locations=3, weeks=weeks)
    for location_id in history.location_ids:
        expected = weeks * sum(
            history.pattern.rate(location_id, wd, h) for wd in range(7) for h in range(24)
        )
        seen = sum(1 for r in history.records if r.location_id == location_id)
        assert abs(seen - expected) < 4 * math.sqrt(expected)


def test_one_week_of_counts_matches_the_records() -> None:
    history = synthetic_history(seed=4, locations=2, weeks=2)
    counts = weekly_counts(
        history.records, timezones=history.timezones, week_start=history.week_start(1)
    )
    assert len(counts) == 2 * 7 * 24
    second_week = [
        r
        for r in history.records
        if r.at.in_timezone(history.timezones[r.location_id]).date() >= history.week_start(1)
    ]
    assert sum(counts.values()) == len(second_week) > 0


def test_kinds_and_patient_types_follow_their_shares() -> None:
    history = synthetic_history(seed=5, locations=3, weeks=4, new_share=0.3, booking_share=0.4)
    n = len(history.records)
    bookings = sum(r.kind is DemandKind.BOOKING for r in history.records) / n
    new = sum(r.patient_kind is PatientKind.NEW for r in history.records) / n
    assert abs(bookings - 0.4) < 4 * math.sqrt(0.24 / n)
    assert abs(new - 0.3) < 4 * math.sqrt(0.21 / n)


@pytest.mark.parametrize("mean", [0.5, 3.0, 25.0])
def test_the_poisson_sampler_has_the_right_mean_and_variance(mean: float) -> None:
    rng = random.Random(11)
    draws = [poisson(rng, mean) for _ in range(4000)]
    assert abs(statistics.fmean(draws) - mean) < 4 * math.sqrt(mean / 4000)
    assert abs(statistics.pvariance(draws) / mean - 1) < 0.15
    assert poisson(rng, 0.0) == 0


def test_the_pattern_is_exposed_per_location_weekday_and_hour() -> None:
    history = synthetic_history(seed=6, locations=2, weeks=1)
    for location_id in history.location_ids:
        zone(history.timezones[location_id])
        assert history.pattern.rate(location_id, 0, 3) == 0.0  # closed at night
        assert history.pattern.rate(location_id, 0, 10) > 0
        assert history.pattern.rate(location_id, 5, 15) == 0.0  # Saturday afternoon
    assert history.pattern.rate(LocationId(uuid.UUID(int=0)), 0, 10) == 0.0


def test_synthetic_staff_is_seeded_and_works_near_home() -> None:
    ids = synthetic_history(seed=1, locations=5, weeks=1).location_ids
    staff = synthetic_staff(seed=9, location_ids=ids, practitioners=12, locations_each=2)
    assert staff == synthetic_staff(seed=9, location_ids=ids, practitioners=12, locations_each=2)
    assert len(staff) == 12
    assert len({m.practitioner_id for m in staff}) == 12
    for n, member in enumerate(staff):
        assert ids[n % 5] in member.location_ids
        assert 1 <= len(member.location_ids) <= 2
        assert len(member.hours.days) == 5
        assert member.max_hours in (24, 32, 40)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"locations": 0},
        {"weeks": 0},
        {"open_hours": (20, 8)},
        {"new_share": 1.5},
        {"timezones": ("Mars/Olympus",)},
    ],
)
def test_bad_generator_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        synthetic_history(seed=1, **kwargs)  # type: ignore[arg-type]


def test_bad_poisson_means_and_staff_settings_are_refused() -> None:
    with pytest.raises(ValidationError):
        poisson(random.Random(1), -1.0)
    with pytest.raises(ValidationError):
        synthetic_staff(seed=1, location_ids=[], practitioners=3)
