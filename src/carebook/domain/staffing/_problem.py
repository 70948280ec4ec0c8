"""The staffing planner's inputs: rules, cells, practitioners' availability, the problem.

See :mod:`carebook.domain.staffing.plan` for the planner; these values are re-exported there.
"""

from __future__ import annotations

import datetime as dt
import math
import types
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
from attrs import frozen

from carebook.domain.ids import LocationId, PractitionerId
from carebook.domain.scheduling.calendar import Practitioner, TimeRange, WeeklyHours
from carebook.domain.staffing.forecast import DemandForecast
from carebook.domain.validators import each, instance_of, to_frozenset, to_tuple
from carebook.errors import ValidationError

__all__ = [
    "StaffAvailability",
    "StaffingCell",
    "StaffingProblem",
    "StaffingRules",
    "merged",
]


def _whole(low: int, high: int | None = None) -> Any:
    def check(_: object, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValidationError(f"{attribute.name} must be a whole number >= {low}")
        if high is not None and value > high:
            raise ValidationError(f"{attribute.name} must be at most {high}")

    return check


@frozen(kw_only=True)
class StaffingRules:
    """How the day is cut into blocks, what a visit costs, how far a practitioner roams."""

    block_hours: int = attrs.field(default=4, validator=_whole(1, 24))
    day_start_hour: int = attrs.field(default=8, validator=_whole(0, 23))
    day_end_hour: int = attrs.field(default=20, validator=_whole(1, 24))
    visit_minutes: int = attrs.field(default=30, validator=_whole(1))
    max_locations_per_day: int = attrs.field(default=2, validator=_whole(1))

    def __attrs_post_init__(self) -> None:
        span = self.day_end_hour - self.day_start_hour
        if span <= 0:
            raise ValidationError("the planning day must end after it starts")
        if span % self.block_hours:
            raise ValidationError(
                "block_hours must divide the planning day (day_end_hour - day_start_hour)"
            )

    @property
    def block_starts(self) -> tuple[int, ...]:
        """The local start hour of each block of a day."""
        return tuple(range(self.day_start_hour, self.day_end_hour, self.block_hours))


@frozen(kw_only=True, order=True)
class StaffingCell:
    """One location in one block of one date (``start_hour`` local at the location)."""

    location_id: LocationId
    date: dt.date
    start_hour: int


@frozen(kw_only=True)
class StaffAvailability:
    """When and where a practitioner may be planned, and their contracted hours.

    ``hours`` are local wall-clock ranges per weekday; a block is available when it lies
    inside one (touching ranges count as one). ``max_hours`` caps the horizon's total
    (whole blocks); ``min_hours`` is met where possible, never at the cost of coverage.
    """

    practitioner_id: PractitionerId = attrs.field(validator=instance_of(uuid.UUID))
    location_ids: frozenset[LocationId] = attrs.field(converter=to_frozenset)
    hours: WeeklyHours = attrs.field(validator=instance_of(WeeklyHours))
    max_hours: int = attrs.field(validator=_whole(0))
    min_hours: int = attrs.field(default=0, validator=_whole(0))
    days_off: frozenset[dt.date] = attrs.field(
        factory=frozenset, converter=to_frozenset, validator=each(dt.date)
    )

    def __attrs_post_init__(self) -> None:
        if not self.location_ids:
            raise ValidationError("a practitioner needs at least one location to be planned")
        if self.min_hours > self.max_hours:
            raise ValidationError("min_hours cannot exceed max_hours")

    @classmethod
    def from_practitioner(
        cls,
        practitioner: Practitioner,
        *,
        max_hours: int,
        min_hours: int = 0,
        location_ids: Iterable[LocationId] | None = None,
    ) -> StaffAvailability:
        """Availability from a practitioner's working plans: the union of their plans'
        hours (breaks included: a block is planned whole), at the locations of those
        plans unless ``location_ids`` is given."""
        spans: dict[int, list[tuple[int, int]]] = {}
        for plan in practitioner.plans:
            for weekday, ranges in enumerate(plan.hours.minutes):
                spans.setdefault(weekday, []).extend(ranges)
        hours = WeeklyHours(
            {day: [TimeRange(s, e) for s, e in merged(found)] for day, found in spans.items()}
        )
        locations = (
            frozenset(location_ids)
            if location_ids is not None
            else frozenset(plan.location_id for plan in practitioner.plans)
        )
        return cls(
            practitioner_id=practitioner.id,
            location_ids=locations,
            hours=hours,
            max_hours=max_hours,
            min_hours=min_hours,
        )

    def can_work(self, date: dt.date, start_hour: int, end_hour: int) -> bool:
        """Is the block ``[start_hour, end_hour)`` of ``date`` inside their hours?"""
        if date in self.days_off:
            return False
        start, end = start_hour * 60, end_hour * 60
        spans = merged(self.hours.minutes[date.weekday()])
        return any(s <= start and end <= e for s, e in spans)


def merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out


def _demand(value: Mapping[StaffingCell, float]) -> Mapping[StaffingCell, float]:
    if not isinstance(value, Mapping):
        raise ValidationError("demand must be a mapping of StaffingCell to practitioner-hours")
    out: dict[StaffingCell, float] = {}
    for cell, hours in value.items():
        if not isinstance(cell, StaffingCell):
            raise ValidationError("demand keys must be StaffingCell values")
        if isinstance(hours, bool) or not isinstance(hours, int | float):
            raise ValidationError("demand must be a number of practitioner-hours")
        if not math.isfinite(hours) or hours < 0:
            raise ValidationError(f"demand cannot be negative or infinite (cell {cell})")
        out[cell] = float(hours)
    return types.MappingProxyType(out)


@frozen(kw_only=True, eq=False)
class StaffingProblem:
    """Everything the planner needs: dates, locations, demand per cell, staff, rules.

    ``demand`` is practitioner-hours per cell (missing cells need nobody); it is copied,
    so the caller's mapping is never changed.
    """

    dates: tuple[dt.date, ...] = attrs.field(converter=to_tuple, validator=each(dt.date))
    location_ids: tuple[LocationId, ...] = attrs.field(converter=to_tuple)
    demand: Mapping[StaffingCell, float] = attrs.field(converter=_demand)
    staff: tuple[StaffAvailability, ...] = attrs.field(
        converter=to_tuple, validator=each(StaffAvailability)
    )
    rules: StaffingRules = attrs.field(factory=StaffingRules, validator=instance_of(StaffingRules))

    def __attrs_post_init__(self) -> None:
        if not self.dates or not self.location_ids:
            raise ValidationError("a staffing problem needs at least one date and one location")
        if any(isinstance(d, dt.datetime) for d in self.dates):
            raise ValidationError("staffing dates must be dates (not datetimes)")
        if len(set(self.dates)) != len(self.dates) or len(set(self.location_ids)) != len(
            self.location_ids
        ):
            raise ValidationError("dates and locations must be listed once each")
        known, dates = set(self.location_ids), set(self.dates)
        starts = set(self.rules.block_starts)
        for cell in self.demand:
            if cell.location_id not in known:
                raise ValidationError(f"demand for unknown location {cell.location_id}")
            if cell.date not in dates or cell.start_hour not in starts:
                raise ValidationError(f"demand cell {cell} is not a block of the plan")
        seen: set[PractitionerId] = set()
        for member in self.staff:
            if member.practitioner_id in seen:
                raise ValidationError(f"practitioner {member.practitioner_id} is listed twice")
            seen.add(member.practitioner_id)
            unknown = member.location_ids - known
            if unknown:
                raise ValidationError(
                    f"practitioner {member.practitioner_id} is available at unknown "
                    f"location {min(unknown)}"
                )

    @classmethod
    def from_forecast(
        cls,
        forecast: DemandForecast,
        *,
        dates: Iterable[dt.date],
        staff: Iterable[StaffAvailability],
        rules: StaffingRules | None = None,
        location_ids: Iterable[LocationId] | None = None,
    ) -> StaffingProblem:
        """Demand from a forecast: arrivals per hour x ``visit_minutes`` / 60, per block."""
        rules = rules or StaffingRules()
        dates = tuple(dates)
        locations = tuple(
            location_ids if location_ids is not None else sorted(forecast.location_ids)
        )
        demand = {
            StaffingCell(location_id=loc, date=date, start_hour=start): sum(
                forecast.on(loc, date, hour) for hour in range(start, start + rules.block_hours)
            )
            * rules.visit_minutes
            / 60
            for loc in locations
            for date in dates
            for start in rules.block_starts
        }
        return cls(dates=dates, location_ids=locations, demand=demand, staff=staff, rules=rules)
