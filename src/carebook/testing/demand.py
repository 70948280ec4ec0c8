"""A seeded synthetic history of check-ins and bookings, with the pattern it came from.

``synthetic_history(seed=..., locations=N, weeks=W)`` draws, for every location, local
date and local wall-clock hour, a Poisson number of arrivals whose mean is the known
pattern's rate: a level per location x a weekday profile x an hour-of-day profile
(morning and late-afternoon peaks), open ``open_hours`` on weekdays, mornings only on
Saturdays, and on Sundays at about half the locations. Hours are local in each
location's IANA zone, so daylight-saving changes move the UTC instants, never the local
pattern. The same seed always gives the same history (``random.Random(seed)`` only).

``synthetic_staff`` draws practitioners' availability for :mod:`carebook.domain.staffing.plan`.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Mapping, Sequence

import attrs
import pendulum

from carebook.domain.ids import LocationId, PractitionerId
from carebook.domain.instants import local_epoch, zone
from carebook.domain.scheduling.calendar import PatientKind, TimeRange, WeeklyHours
from carebook.domain.staffing.forecast import DemandKind, DemandRecord, HourKey
from carebook.domain.staffing.plan import StaffAvailability
from carebook.errors import ValidationError

__all__ = [
    "DEMAND_ZONES",
    "DemandPattern",
    "SyntheticHistory",
    "poisson",
    "synthetic_history",
    "synthetic_staff",
]

DEMAND_ZONES = ("Europe/Berlin", "America/New_York", "Europe/London", "America/Chicago")
_WEEKDAY_SHAPE = (1.0, 0.85, 0.9, 0.85, 1.1, 0.7, 0.45)
_SATURDAY_CLOSE = 14


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's product of uniforms, in steps of mean <= 10)."""
    if mean < 0 or not math.isfinite(mean):
        raise ValidationError("a Poisson mean must be finite and >= 0")
    count = 0
    while mean > 0:
        step = min(mean, 10.0)
        mean -= step
        limit = math.exp(-step)
        product = rng.random()
        while product > limit:
            count += 1
            product *= rng.random()
    return count


@attrs.frozen(kw_only=True, eq=False)
class DemandPattern:
    """The true expected arrivals per hour, per (location, weekday, local hour)."""

    timezones: Mapping[LocationId, str]
    rates: Mapping[HourKey, float]

    def rate(self, location_id: LocationId, weekday: int, hour: int) -> float:
        return self.rates.get((location_id, weekday, hour), 0.0)


@attrs.frozen(kw_only=True, eq=False)
class SyntheticHistory:
    """The generated records (sorted by instant) and the pattern they were drawn from."""

    pattern: DemandPattern
    records: tuple[DemandRecord, ...]
    first_day: dt.date
    weeks: int

    @property
    def location_ids(self) -> tuple[LocationId, ...]:
        return tuple(self.pattern.timezones)

    @property
    def timezones(self) -> Mapping[LocationId, str]:
        return self.pattern.timezones

    def week_start(self, index: int) -> dt.date:
        """First date of week ``index`` (0-based); ``weeks`` is the week after the history."""
        return self.first_day + dt.timedelta(days=7 * index)


def _pattern(
    rng: random.Random, ids: Sequence[LocationId], zones: Sequence[str], open_hours: tuple[int, int]
) -> DemandPattern:
    start, end = open_hours
    rates: dict[HourKey, float] = {}
    timezones: dict[LocationId, str] = {}
    for n, location_id in enumerate(ids):
        timezones[location_id] = zones[n % len(zones)]
        level = rng.uniform(1.5, 5.0)
        sunday_open = rng.random() < 0.5
        weekday = [s * rng.uniform(0.85, 1.15) for s in _WEEKDAY_SHAPE]
        hour = [0.0] * 24
        for h in range(start, end):
            mid = h + 0.5
            peak = max(
                math.exp(-(((mid - 10.5) / 2) ** 2)), 0.9 * math.exp(-(((mid - 17.5) / 1.8) ** 2))
            )
            hour[h] = (0.35 + 0.65 * peak) * rng.uniform(0.9, 1.1)
        for wd in range(7):
            last = _SATURDAY_CLOSE if wd == 5 else end
            for h in range(24):
                open_now = start <= h < last and (wd != 6 or sunday_open)
                rates[(location_id, wd, h)] = level * weekday[wd] * hour[h] if open_now else 0.0
    return DemandPattern(timezones=timezones, rates=rates)


def synthetic_history(
    *,
    seed: int,
    locations: int = 3,
    weeks: int = 8,
    first_day: dt.date = dt.date(2026, 2, 2),
    open_hours: tuple[int, int] = (8, 20),
    new_share: float = 0.3,
    booking_share: float = 0.4,
    timezones: Sequence[str] = DEMAND_ZONES,
) -> SyntheticHistory:
    """``weeks`` weeks of check-ins and bookings at ``locations`` locations from
    ``first_day`` (local dates), drawn from a seeded pattern (see the module docstring)."""
    if locations < 1 or weeks < 1:
        raise ValidationError("a history needs at least one location and one week")
    if not 0 <= open_hours[0] < open_hours[1] <= 24:
        raise ValidationError("open_hours must satisfy 0 <= start < end <= 24")
    if not (0 <= new_share <= 1 and 0 <= booking_share <= 1):
        raise ValidationError("shares are between 0 and 1")
    rng = random.Random(seed)
    ids = [LocationId(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(locations)]
    names = [name for name in timezones if zone(name)]
    pattern = _pattern(rng, ids, names, open_hours)
    found: list[tuple[int, int, DemandRecord]] = []
    for location_id in ids:
        tz = zone(pattern.timezones[location_id])
        for offset in range(7 * weeks):
            day = first_day + dt.timedelta(days=offset)
            for hour in range(24):
                mean = pattern.rate(location_id, day.weekday(), hour)
                if mean <= 0:
                    continue
                begin = local_epoch(tz, day, hour * 60)
                local = dt.datetime.fromtimestamp(begin, tz)
                if (local.date(), local.hour) != (day, hour):
                    continue  # a daylight-saving gap: this local hour does not exist
                for _ in range(poisson(rng, mean)):
                    at = begin + int(rng.random() * 3600)
                    record = DemandRecord(
                        location_id=location_id,
                        at=pendulum.from_timestamp(at, tz=pendulum.UTC),
                        kind=DemandKind.BOOKING
                        if rng.random() < booking_share
                        else DemandKind.WALK_IN,
                        patient_kind=PatientKind.NEW
                        if rng.random() < new_share
                        else PatientKind.RETURNING,
                    )
                    found.append((at, len(found), record))
    found.sort(key=lambda item: (item[0], item[1]))
    return SyntheticHistory(
        pattern=pattern,
        records=tuple(record for _, _, record in found),
        first_day=first_day,
        weeks=weeks,
    )


def synthetic_staff(
    *,
    seed: int,
    location_ids: Sequence[LocationId],
    practitioners: int,
    open_hours: tuple[int, int] = (8, 20),
    max_hours: Sequence[int] = (24, 32, 40),
    locations_each: int = 3,
) -> tuple[StaffAvailability, ...]:
    """Practitioners with a home location and up to ``locations_each - 1`` neighbouring
    ones (by index), five working weekdays each, full days or one half of the day."""
    if practitioners < 0 or not location_ids or locations_each < 1:
        raise ValidationError("need locations, a practitioner count >= 0, locations_each >= 1")
    rng = random.Random(seed)
    start, end = open_hours
    middle = start + (end - start) // 2
    shifts = (
        TimeRange(start * 60, end * 60),
        TimeRange(start * 60, middle * 60),
        TimeRange(middle * 60, end * 60),
    )
    staff = []
    n = len(location_ids)
    for p in range(practitioners):
        home = p % n
        near = [location_ids[(home + step) % n] for step in (1, -1, 2, -2)][: locations_each - 1]
        workdays = sorted(rng.sample(range(7), 5))
        shift = shifts[0] if rng.random() < 0.6 else rng.choice(shifts[1:])
        staff.append(
            StaffAvailability(
                practitioner_id=PractitionerId(uuid.UUID(int=rng.getrandbits(128), version=4)),
                location_ids={location_ids[home], *near},
                hours=WeeklyHours.every_day(shift, weekdays=workdays),
                max_hours=rng.choice(list(max_hours)),
            )
        )
    return tuple(staff)
