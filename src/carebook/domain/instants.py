"""Time at the boundary: aware instants, half-open intervals, local wall-clock.

Rules (see docs/guarantees.md):
- Every instant is time-zone aware; a naive datetime is rejected with ValidationError.
  Instants are normalised to UTC pendulum DateTimes by :func:`require_aware`, the one
  conversion of incoming datetimes: an aware datetime means the instant Python gives it,
  ``value.astimezone(timezone.utc)`` -- its wall time minus its own ``utcoffset()``,
  which honours ``fold`` -- whatever its tzinfo (zoneinfo, pendulum, ``datetime.timezone``,
  dateutil, ...). The wall time is never re-read in the zone.
- Instants and dates lie in the years :data:`MIN_YEAR` to :data:`MAX_YEAR`; outside, a
  ValidationError naming the field (so that no arithmetic on them overflows).
- Intervals are half-open ``[start, end)`` and must have ``end > start``.
- A local wall-clock time that falls in a daylight-saving gap is moved forward by the
  gap's length; one that occurs twice (a fold) means its first occurrence.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from typing import Any

import attrs
import pendulum
from attrs import frozen

from carebook.errors import ValidationError

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "Interval",
    "epoch_ceil",
    "from_epoch",
    "local_epoch",
    "require_aware",
    "require_date",
    "to_epoch",
    "wall_clock",
    "zone",
]

UTC = pendulum.UTC
_NAIVE = "must be time-zone aware (naive datetimes are refused)"
MIN_YEAR = 1900
"""The earliest year of an instant or date the API takes."""
MAX_YEAR = 9000
"""The latest year of an instant or date the API takes (searches, horizons and
forecasts add days and weeks to it; the standard library stops at 9999)."""
_RANGE = f"must lie in the years {MIN_YEAR} to {MAX_YEAR}"


def require_date(value: Any, what: str = "date") -> dt.date:
    """``value`` if it is a date (not a datetime) in the supported years; ValidationError
    naming ``what`` otherwise."""
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValidationError(f"{what} must be a date (not a datetime)")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(f"{what} {_RANGE}")
    return value


def require_aware(value: Any, what: str = "datetime") -> pendulum.DateTime:
    """Return ``value`` as a UTC pendulum DateTime, or raise ValidationError.

    The instant is the one Python defines, ``value.astimezone(timezone.utc)``: the wall
    time minus ``value.utcoffset()``, so ``fold`` is honoured and a standard-library time
    in a daylight-saving gap keeps the offset its tzinfo gives it (``fold=0``: the offset
    before the change, which moves it forward). Refused: anything that is not a
    ``datetime``, a naive one (no tzinfo, or ``utcoffset()`` is None), one whose
    tzinfo cannot give an offset (``utcoffset()`` raises), and one outside the years
    :data:`MIN_YEAR` to :data:`MAX_YEAR`.
    """
    if not isinstance(value, dt.datetime):
        raise ValidationError(f"{what} must be a datetime, got {type(value).__name__}")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(f"{what} {_RANGE}")
    tzinfo = value.tzinfo
    if tzinfo is UTC and isinstance(value, pendulum.DateTime):
        return value  # already UTC (where fold means nothing): the common case, kept cheap
    if tzinfo is None:
        raise ValidationError(f"{what} {_NAIVE}")
    try:
        offset = value.utcoffset()
    except Exception as exc:  # a third-party tzinfo with no rule for this value
        raise ValidationError(
            f"{what} must be a datetime whose time zone gives its offset"
        ) from exc
    if offset is None:
        raise ValidationError(f"{what} {_NAIVE}")
    # Standard-library arithmetic on a plain naive copy, never pendulum's: pendulum.instance
    # re-reads the wall time in the zone (moving a fold=0 gap time back, not forward), and
    # pendulum's own arithmetic has rules of its own.
    utc = dt.datetime(*_fields(value)) - offset
    return pendulum.DateTime(*_fields(utc), tzinfo=UTC)


def _fields(value: dt.datetime) -> tuple[int, int, int, int, int, int, int]:
    return (
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


_UNKNOWN_ZONE = "unknown time zone: expected an IANA name such as Europe/London"
# The name is never quoted back: a patient's zone is patient data.


@functools.lru_cache(maxsize=1024)
def zone(name: str) -> pendulum.Timezone:
    """The IANA time zone called ``name``, or ValidationError."""
    if not isinstance(name, str) or not name:
        raise ValidationError("time zone must be a non-empty IANA name")
    try:
        tz = pendulum.timezone(name)
    except Exception as exc:  # pendulum raises InvalidTimezone (a ValueError) or others
        raise ValidationError(_UNKNOWN_ZONE) from exc
    if not isinstance(tz, pendulum.Timezone):  # a fixed offset is not an IANA zone
        raise ValidationError(_UNKNOWN_ZONE)
    return tz


def to_epoch(value: dt.datetime) -> int:
    """Whole seconds since the Unix epoch of an aware datetime."""
    return int(value.timestamp())


def epoch_ceil(value: dt.datetime) -> int:
    """Epoch seconds rounded up: 10:00:00.5 is not yet 10:00:01, but it is past 10:00:00."""
    return math.ceil(value.timestamp())


def from_epoch(seconds: int) -> pendulum.DateTime:
    """A UTC pendulum DateTime for epoch ``seconds``."""
    return pendulum.from_timestamp(seconds, tz=UTC)


def wall_clock(timezone: str, day: dt.date, time: dt.time) -> pendulum.DateTime:
    """The UTC instant of wall-clock ``time`` on ``day`` in the IANA zone ``timezone``,
    the way carebook reads opening hours and working plans.

    A time in a daylight-saving gap moves forward by the gap (02:30 on a spring-forward
    night is 03:30); a time in a fold takes its first occurrence. Raises
    :class:`~carebook.errors.ValidationError` for an unknown zone.
    """
    return from_epoch(local_epoch(zone(timezone), day, time.hour * 60 + time.minute))


def local_epoch(tz: dt.tzinfo, day: dt.date, minute_of_day: int) -> int:
    """Epoch seconds of wall-clock ``minute_of_day`` (0..1440) on ``day`` in ``tz``.

    Gap times move forward by the gap; fold times take the first occurrence
    (stdlib ``fold=0`` semantics). 1440 means the next day's midnight.
    """
    if minute_of_day == 1440:
        day = day + dt.timedelta(days=1)
        minute_of_day = 0
    hour, minute = divmod(minute_of_day, 60)
    naive = dt.datetime(day.year, day.month, day.day, hour, minute)
    return int(naive.replace(tzinfo=tz, fold=0).timestamp())


def _start(value: Any) -> pendulum.DateTime:
    return require_aware(value, "interval start")


def _end(value: Any) -> pendulum.DateTime:
    return require_aware(value, "interval end")


@frozen
class Interval:
    """A half-open span of time ``[start, end)`` between two UTC instants."""

    start: pendulum.DateTime = attrs.field(converter=_start)
    end: pendulum.DateTime = attrs.field(converter=_end)

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise ValidationError("an interval's end must be after its start")

    @property
    def start_epoch(self) -> int:
        return to_epoch(self.start)

    @property
    def end_epoch(self) -> int:
        return to_epoch(self.end)

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        """True if the two half-open intervals share any instant."""
        return self.start < other.end and other.start < self.end

    def contains(self, instant: dt.datetime) -> bool:
        return self.start <= require_aware(instant) < self.end
