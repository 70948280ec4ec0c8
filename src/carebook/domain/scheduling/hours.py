"""Weekly wall-clock hours: time ranges within a day, and the ranges of each weekday.

Opening hours, working plans, breaks and date overrides are built from them; they are
local wall-clock times, read in the location's IANA zone by
:mod:`carebook.domain.scheduling.working_time`.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
from collections.abc import Iterable, Mapping

import attrs
from attrs import frozen

from carebook.domain.validators import to_tuple
from carebook.errors import ValidationError

__all__ = ["TimeRange", "WeeklyHours", "subtract_minutes", "to_ranges"]

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def _parse_minute(text: str) -> int:
    match = _HHMM.match(text.strip())
    if not match:
        raise ValidationError("a wall-clock time must be HH:MM, from 00:00 to 24:00")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValidationError("a wall-clock time must be HH:MM, from 00:00 to 24:00")
    return hours * 60 + minutes


def subtract_minutes(
    spans: tuple[tuple[int, int], ...], cuts: tuple[tuple[int, int], ...]
) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        pieces = [(start, end)]
        for cut_start, cut_end in cuts:
            pieces = [
                piece
                for s, e in pieces
                for piece in ((s, min(e, cut_start)), (max(s, cut_end), e))
                if piece[0] < piece[1]
            ]
        out.extend(pieces)
    return out


@frozen(order=True)
class TimeRange:
    """A local wall-clock range ``[start, end)`` within one day, in minutes from midnight.

    ``end_minute`` may be 1440 (midnight at the end of the day).
    """

    start_minute: int
    end_minute: int

    def __attrs_post_init__(self) -> None:
        for value in (self.start_minute, self.end_minute):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError("time range bounds are whole minutes")
        if not 0 <= self.start_minute < self.end_minute <= 1440:
            raise ValidationError("a time range must satisfy 00:00 <= start < end <= 24:00")

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """``TimeRange.parse("09:00-12:30")``; ``24:00`` is allowed as an end."""
        start, sep, end = text.partition("-")
        if not sep:
            raise ValidationError("a time range must be 'HH:MM-HH:MM', such as 09:00-12:30")
        return cls(_parse_minute(start), _parse_minute(end))

    @classmethod
    def of(cls, start: dt.time, end: dt.time | None = None) -> TimeRange:
        """From ``datetime.time`` values; ``end=None`` means end of day."""
        end_minute = 1440 if end is None else end.hour * 60 + end.minute
        return cls(start.hour * 60 + start.minute, end_minute)

    def __str__(self) -> str:
        return f"{self.start_minute // 60:02d}:{self.start_minute % 60:02d}-" + (
            f"{self.end_minute // 60:02d}:{self.end_minute % 60:02d}"
        )


def _range(value: object) -> TimeRange:
    if isinstance(value, str):
        return TimeRange.parse(value)
    if not isinstance(value, TimeRange):
        raise ValidationError(
            f"time ranges are TimeRange values or 'HH:MM-HH:MM' strings, got {type(value).__name__}"
        )
    return value


def to_ranges(values: Iterable[TimeRange | str]) -> tuple[TimeRange, ...]:
    out = sorted(_range(v) for v in to_tuple(values))
    for before, after in itertools.pairwise(out):
        if after.start_minute < before.end_minute:
            raise ValidationError("the time ranges of one day must not overlap")
    return tuple(out)


def _days(value: Mapping[int, Iterable[TimeRange | str]]) -> dict[int, tuple[TimeRange, ...]]:
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"weekly hours map weekdays to time ranges, got {type(value).__name__}"
        )
    days: dict[int, tuple[TimeRange, ...]] = {}
    for weekday, ranges in value.items():
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValidationError("weekdays are 0 (Monday) to 6 (Sunday)")
        cleaned = to_ranges(ranges)
        if cleaned:
            days[int(weekday)] = cleaned
    return days


@frozen
class WeeklyHours:
    """Wall-clock ranges per weekday (0 = Monday ... 6 = Sunday)."""

    days: dict[int, tuple[TimeRange, ...]] = attrs.field(factory=dict, converter=_days)

    @classmethod
    def every_day(cls, *ranges: TimeRange | str, weekdays: Iterable[int] = range(7)) -> WeeklyHours:
        """The same ranges on each of ``weekdays`` (all seven by default)."""
        return cls({day: to_ranges(ranges) for day in weekdays})

    def on(self, weekday: int) -> tuple[TimeRange, ...]:
        return self.days.get(weekday, ())

    @functools.cached_property
    def minutes(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Seven tuples (Monday first) of ``(start_minute, end_minute)`` pairs."""
        return tuple(
            tuple((r.start_minute, r.end_minute) for r in self.on(day)) for day in range(7)
        )
