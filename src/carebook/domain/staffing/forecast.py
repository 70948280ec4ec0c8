"""Demand forecast per location, weekday and local hour, from check-ins and bookings.

Pure: the history and the target week come in as arguments; no clock is read.

**The model** (see docs/staffing.md). Arrivals are counted per location, local date and
local wall-clock hour (the location's IANA zone, so a daylight-saving change never shifts
a count into the neighbouring hour). For the target week, the ``weeks`` full weeks before
it are the history; week ``w`` back (``w = 0`` is the week just before) weighs
``decay ** w``. For each cell (location, weekday, hour):

- ``m`` is the weighted mean of that cell's weekly counts (exponentially weighted, so a
  drifting clinic is followed);
- ``s`` is the location's *structural* rate: weekday total x hour-of-day total / weekly
  total (the independence fit of the weekday x hour table), which pools every week and
  every cell of the location and is therefore stable for sparse cells. Cells that stayed
  empty although that fit expects at least 3 arrivals are structural zeros (closed), and
  the fit is redone without them by iterative proportional fitting (quasi-independence);
- the forecast is ``(A·m + β·s) / (A + β)`` with ``A`` the sum of the week weights and
  ``β = prior_weeks``: the posterior mean of a Poisson rate under a gamma prior centred
  on ``s`` worth ``β`` weeks of data. Few weeks of history lean on ``s``; many weeks on
  the cell's own mean.

A location's weeks before its first record are not counted as zero-demand weeks.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Iterable, Mapping

import attrs
import pendulum
from attrs import frozen

from carebook.domain.ids import LocationId
from carebook.domain.instants import require_aware, zone
from carebook.domain.scheduling.calendar import PatientKind
from carebook.domain.validators import to_enum, whole_number
from carebook.errors import ValidationError

__all__ = [
    "DemandForecast",
    "DemandKind",
    "DemandRecord",
    "ForecastError",
    "ForecastModel",
    "HourKey",
    "forecast_demand",
    "forecast_error",
    "last_week_forecast",
    "weekly_counts",
]

_FIT_ROUNDS = 20

HourKey = tuple[LocationId, int, int]
"""``(location id, weekday 0 = Monday, local hour 0..23)``."""


class DemandKind(enum.StrEnum):
    """How a patient arrived: walked in, or came for a booked appointment."""

    WALK_IN = "walk_in"
    BOOKING = "booking"


def _utc(value: object) -> pendulum.DateTime:
    if isinstance(value, pendulum.DateTime) and value.tzinfo is pendulum.UTC:
        return value
    return require_aware(value, "demand record instant")


def _demand_kind(value: object) -> DemandKind:
    return to_enum(DemandKind, value, "kind")


def _patient_kind(value: object) -> PatientKind:
    return to_enum(PatientKind, value, "patient_kind")


@frozen(kw_only=True)
class DemandRecord:
    """One check-in or booking: where, when (aware, stored as UTC), what kind, who."""

    location_id: LocationId
    at: pendulum.DateTime = attrs.field(converter=_utc)
    kind: DemandKind = attrs.field(default=DemandKind.WALK_IN, converter=_demand_kind)
    patient_kind: PatientKind = attrs.field(default=PatientKind.RETURNING, converter=_patient_kind)


MAX_WEEKS = 520
"""The longest history a forecast reads: ten years of weeks."""


def _decay(_: object, __: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValidationError("decay must be a number in (0, 1]")


def _prior(_: object, __: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ValidationError("prior_weeks must be a finite number >= 0")


@frozen(kw_only=True)
class ForecastModel:
    """The forecast's settings: history length, recency decay, shrinkage strength."""

    weeks: int = attrs.field(default=8, validator=whole_number(1, MAX_WEEKS))
    decay: float = attrs.field(default=0.9, validator=_decay)
    prior_weeks: float = attrs.field(default=2.0, validator=_prior)


@frozen(kw_only=True, eq=False)
class DemandForecast:
    """Expected arrivals per hour for each (location, weekday, local hour).

    ``week_start`` is the first local date of the forecast week; the rates repeat weekly,
    so :meth:`on` answers for any date.
    """

    week_start: dt.date
    rates: Mapping[HourKey, float]

    def rate(self, location_id: LocationId, weekday: int, hour: int) -> float:
        """Expected arrivals in local ``hour`` on ``weekday`` (0 for an unknown cell)."""
        return self.rates.get((location_id, weekday, hour), 0.0)

    def on(self, location_id: LocationId, date: dt.date, hour: int) -> float:
        """Expected arrivals in local ``hour`` of ``date`` at the location."""
        return self.rate(location_id, date.weekday(), hour)

    @property
    def location_ids(self) -> frozenset[LocationId]:
        return frozenset(key[0] for key in self.rates)


@frozen(kw_only=True)
class ForecastError:
    """How far a forecast was from the counts of one week, per (location, weekday, hour).

    ``mae`` and ``rmse`` are in arrivals per hour over ``cells`` cells; ``mape`` is over
    the cells with at least one actual arrival (``None`` when there are none).
    """

    mae: float
    rmse: float
    mape: float | None
    cells: int


def _zones(timezones: Mapping[LocationId, str]) -> dict[LocationId, dt.tzinfo]:
    return {location_id: zone(name) for location_id, name in timezones.items()}


def _check_week_start(week_start: object) -> None:
    if isinstance(week_start, dt.datetime) or not isinstance(week_start, dt.date):
        raise ValidationError("week_start must be a date (not a datetime)")


def _bucket(
    records: Iterable[DemandRecord],
    zones: Mapping[LocationId, dt.tzinfo],
    week_start: dt.date,
    weeks: int,
) -> tuple[dict[LocationId, list[list[int]]], dict[LocationId, dt.date]]:
    """Per location, for each of ``weeks`` weeks before ``week_start`` (index 0 = the
    week just before), 168 counts (``weekday * 24 + hour``); and each location's first
    local date of any record."""
    counts = {location_id: [[0] * 168 for _ in range(weeks)] for location_id in zones}
    first: dict[LocationId, dt.date] = {}
    for record in records:
        tz = zones.get(record.location_id)
        if tz is None:
            raise ValidationError(f"record for unknown location {record.location_id}")
        local = dt.datetime.fromtimestamp(record.at.timestamp(), tz)
        day = local.date()
        if day < first.get(record.location_id, dt.date.max):
            first[record.location_id] = day
        age = (week_start - day).days
        if 0 < age <= 7 * weeks:
            counts[record.location_id][(age - 1) // 7][day.weekday() * 24 + local.hour] += 1
    return counts, first


def _structural(table: list[float], seen: list[int], weeks: int, weight: float) -> list[float]:
    """Per-week rates of the 168 cells under quasi-independence (weekday x hour).

    The independence fit is row total x column total / grand total. A cell that saw no
    arrival in ``weeks`` weeks although that fit expects at least 3 (a chance below 5 %
    if it were open) is taken as closed, a structural zero; the fit is then redone over
    the other cells by iterative proportional fitting, so that a closed Saturday
    afternoon stays at zero instead of borrowing from the weekday hours.
    """
    grand = sum(table)
    if not grand:
        return [0.0] * 168
    rows = [sum(table[d * 24 : d * 24 + 24]) for d in range(7)]
    cols = [sum(table[h::24]) for h in range(24)]
    fit = [rows[c // 24] * cols[c % 24] / grand for c in range(168)]
    fit = [0.0 if not seen[c] and fit[c] * weeks / weight >= 3 else fit[c] for c in range(168)]
    for _ in range(_FIT_ROUNDS):
        for d in range(7):
            total = sum(fit[d * 24 : d * 24 + 24])
            if total:
                fit[d * 24 : d * 24 + 24] = [x * rows[d] / total for x in fit[d * 24 : d * 24 + 24]]
        for h in range(24):
            total = sum(fit[h::24])
            if total:
                fit[h::24] = [x * cols[h] / total for x in fit[h::24]]
    return [x / weight for x in fit]


def weekly_counts(
    records: Iterable[DemandRecord],
    *,
    timezones: Mapping[LocationId, str],
    week_start: dt.date,
    hours: Iterable[int] = range(24),
) -> dict[HourKey, int]:
    """Actual arrivals in the week starting ``week_start``, for every location in
    ``timezones``, every weekday and each of ``hours`` (zeros included)."""
    _check_week_start(week_start)
    zones = _zones(timezones)
    hour_list = list(hours)
    if any(isinstance(h, bool) or not isinstance(h, int) or not 0 <= h <= 23 for h in hour_list):
        raise ValidationError("hours are whole local hours 0..23")
    out: dict[HourKey, int] = {
        (location_id, weekday, hour): 0
        for location_id in zones
        for weekday in range(7)
        for hour in hour_list
    }
    counts, _ = _bucket(records, zones, week_start + dt.timedelta(days=7), 1)
    for key in out:
        location_id, weekday, hour = key
        out[key] = counts[location_id][0][weekday * 24 + hour]
    return out


def forecast_demand(
    records: Iterable[DemandRecord],
    *,
    timezones: Mapping[LocationId, str],
    week_start: dt.date,
    model: ForecastModel | None = None,
) -> DemandForecast:
    """Forecast the week starting ``week_start`` from the records before it.

    ``timezones`` names every location (id -> IANA zone); a record for another location
    is a ValidationError. Records on or after ``week_start`` (local date) are ignored.
    """
    _check_week_start(week_start)
    model = model or ForecastModel()
    zones = _zones(timezones)
    counts, first = _bucket(records, zones, week_start, model.weeks)
    beta = float(model.prior_weeks)
    rates: dict[HourKey, float] = {}
    for location_id in zones:
        observed = [
            w
            for w in range(model.weeks)
            if location_id in first
            and week_start - dt.timedelta(days=7 * w + 1) >= first[location_id]
        ]
        table = [0.0] * 168
        seen = [0] * 168
        for w in observed:
            weight = model.decay**w
            for cell, count in enumerate(counts[location_id][w]):
                table[cell] += weight * count
                seen[cell] += count
        total_weight = sum(model.decay**w for w in observed)
        structural = _structural(table, seen, len(observed), total_weight)
        for cell in range(168):
            denominator = total_weight + beta
            rate = (table[cell] + beta * structural[cell]) / denominator if denominator else 0.0
            rates[(location_id, cell // 24, cell % 24)] = rate
    return DemandForecast(week_start=week_start, rates=rates)


def last_week_forecast(
    records: Iterable[DemandRecord],
    *,
    timezones: Mapping[LocationId, str],
    week_start: dt.date,
) -> DemandForecast:
    """The naive baseline: next week repeats last week's counts exactly."""
    _check_week_start(week_start)
    previous = weekly_counts(
        records, timezones=timezones, week_start=week_start - dt.timedelta(days=7)
    )
    return DemandForecast(
        week_start=week_start, rates={key: float(count) for key, count in previous.items()}
    )


def forecast_error(forecast: DemandForecast, actual: Mapping[HourKey, float]) -> ForecastError:
    """MAE, RMSE and MAPE of ``forecast`` against ``actual`` counts, over ``actual``'s cells."""
    if not actual:
        raise ValidationError("forecast error needs at least one actual cell")
    absolute = 0.0
    squared = 0.0
    relative: list[float] = []
    for (location_id, weekday, hour), observed in actual.items():
        if observed < 0:
            raise ValidationError("actual counts cannot be negative")
        error = forecast.rate(location_id, weekday, hour) - observed
        absolute += abs(error)
        squared += error * error
        if observed > 0:
            relative.append(abs(error) / observed)
    n = len(actual)
    return ForecastError(
        mae=absolute / n,
        rmse=math.sqrt(squared / n),
        mape=sum(relative) / len(relative) if relative else None,
        cells=n,
    )
