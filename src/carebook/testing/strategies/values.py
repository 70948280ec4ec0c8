"""Strategies for plain values: ids, names, codes, zones, instants, intervals, opening
hours and money."""

from __future__ import annotations

import datetime as dt
import string
import uuid
from collections.abc import Callable
from typing import TypeVar

import pendulum
from hypothesis import strategies as st

from carebook.domain.currencies import MINOR_UNITS
from carebook.domain.instants import Interval, from_epoch
from carebook.domain.money import Money
from carebook.domain.scheduling.calendar import TimeRange, WeeklyHours

__all__ = [
    "TIMEZONES",
    "St",
    "aware_datetimes",
    "clean_text",
    "codes",
    "currencies",
    "day_ranges",
    "ids",
    "intervals",
    "money",
    "names",
    "time_ranges",
    "timezones",
    "weekly_hours",
]

T = TypeVar("T")
St = st.SearchStrategy
"""A Hypothesis strategy of values of one type."""

TIMEZONES: tuple[str, ...] = (
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
)
"""IANA zones with whole-hour, half-hour, 45-minute and half-hour-DST offsets."""

_MIN_EPOCH = int(dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp())
_MAX_EPOCH = int(dt.datetime(2100, 1, 1, tzinfo=dt.UTC).timestamp())


def ids(kind: Callable[[uuid.UUID], T]) -> St[T]:
    """Random ids of one typed kind: ``ids(PatientId)``."""
    return st.uuids().map(kind)


def clean_text(*, min_size: int = 0, max_size: int | None = None) -> St[str]:
    """Any Unicode text a string field takes: no NUL character, no lone surrogate."""
    alphabet = st.characters(codec="utf-8", exclude_characters="\x00")
    return st.text(alphabet, min_size=min_size, max_size=max_size)


def names() -> St[str]:
    """Non-blank display names (any Unicode)."""
    return clean_text(min_size=1, max_size=40).filter(lambda s: bool(s.strip()))


def codes() -> St[str]:
    """Short machine-readable codes (``patient_request``) for reasons, entities, actors."""
    return st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=30)


def timezones() -> St[str]:
    """IANA zone names from :data:`TIMEZONES`."""
    return st.sampled_from(TIMEZONES)


def currencies() -> St[str]:
    """Every active ISO 4217 code carebook accepts."""
    return st.sampled_from(sorted(MINOR_UNITS))


def aware_datetimes(
    min_value: dt.datetime | None = None, max_value: dt.datetime | None = None
) -> St[pendulum.DateTime]:
    """UTC pendulum DateTimes in whole seconds, within [2000, 2100) unless narrowed."""
    low = int(min_value.timestamp()) if min_value else _MIN_EPOCH
    high = int(max_value.timestamp()) if max_value else _MAX_EPOCH - 1
    return st.integers(low, high).map(from_epoch)


def intervals(max_minutes: int = 7 * 24 * 60) -> St[Interval]:
    """Half-open intervals at least one second and at most ``max_minutes`` long."""
    return st.builds(
        lambda start, seconds: Interval(start, start.add(seconds=seconds)),
        aware_datetimes(),
        st.integers(1, max_minutes * 60),
    )


@st.composite
def time_ranges(draw: st.DrawFn) -> TimeRange:
    """Local wall-clock ranges ``00:00 <= start < end <= 24:00``."""
    start = draw(st.integers(0, 1439))
    return TimeRange(start, draw(st.integers(start + 1, 1440)))


@st.composite
def day_ranges(draw: st.DrawFn) -> tuple[TimeRange, ...]:
    """Up to three disjoint wall-clock ranges of one day, in order."""
    cuts = sorted(draw(st.lists(st.integers(0, 1440), unique=True, max_size=6)))
    return tuple(TimeRange(s, e) for s, e in zip(cuts[::2], cuts[1::2], strict=False))


def weekly_hours() -> St[WeeklyHours]:
    """Up to three disjoint ranges on any subset of weekdays."""
    return st.builds(WeeklyHours, st.dictionaries(st.integers(0, 6), day_ranges()))


def money(currency: St[str] | None = None) -> St[Money]:
    """Integer minor units (negative too) in a valid currency."""
    return st.builds(Money, st.integers(-(10**12), 10**12), currency or currencies())
