"""When people and places are available, as sorted epoch-second spans.

Local wall-clock ranges (opening hours, plans, overrides) are turned into instants per
local date, so daylight-saving days get their true lengths. Results are cached per
(zone, date, minute) because many practitioners share the same plan times.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence

from carebook.domain.instants import local_epoch, to_epoch, zone
from carebook.domain.scheduling.busy import Span
from carebook.domain.scheduling.calendar import Location, Practitioner

__all__ = [
    "Block",
    "free_segments",
    "local_dates",
    "location_blocks",
    "location_closures",
    "merge",
    "plan_blocks",
    "practitioner_blocks",
    "practitioner_time_off",
]

Block = tuple[int, int]
"""A working block ``[start, end)``; its start is the anchor of the slot grid."""


@functools.lru_cache(maxsize=65_536)
def _epoch(zone_name: str, day: dt.date, minute: int) -> int:
    return local_epoch(zone(zone_name), day, minute)


def local_dates(tz: dt.tzinfo, start: int, end: int) -> list[dt.date]:
    """Every local date that can hold wall-clock time inside ``[start, end)``."""
    first = dt.datetime.fromtimestamp(start, tz).date() - dt.timedelta(days=1)
    last = dt.datetime.fromtimestamp(end, tz).date()
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


@functools.lru_cache(maxsize=8192)
def _intersect(spans: tuple[Span, ...], opening: tuple[Span, ...]) -> tuple[Span, ...]:
    return tuple(
        (max(s, os), min(e, oe)) for s, e in spans for os, oe in opening if max(s, os) < min(e, oe)
    )


def _to_epochs(
    zone_name: str, day: dt.date, minutes: Iterable[Span], start: int, end: int
) -> list[Block]:
    blocks = []
    for s, e in minutes:
        bs, be = _epoch(zone_name, day, s), _epoch(zone_name, day, e)
        if bs < be and bs < end and be > start:
            blocks.append((bs, be))
    return blocks


def location_blocks(location: Location, start: int, end: int) -> list[Block]:
    """The location's opening hours as instants touching ``[start, end)``."""
    blocks: list[Block] = []
    week = location.opening_hours.minutes
    for day in local_dates(zone(location.timezone), start, end):
        blocks += _to_epochs(location.timezone, day, week[day.weekday()], start, end)
    return blocks


def location_closures(location: Location) -> list[Span]:
    return [(c.interval.start_epoch, c.interval.end_epoch) for c in location.closures]


def practitioner_blocks(
    practitioner: Practitioner, location: Location, start: int, end: int
) -> list[Block]:
    """Working blocks at ``location``: plan minus breaks (or the date's override),
    within opening hours. Closures, time off and busy time are not yet removed."""
    plan = practitioner.plan_at(location.id)
    overrides = {
        o.date: tuple((r.start_minute, r.end_minute) for r in o.ranges)
        for o in practitioner.overrides
        if o.location_id == location.id
    }
    if plan is None and not overrides:
        return []
    return plan_blocks(location, plan.week_minutes if plan else None, overrides, start, end)


def plan_blocks(
    location: Location,
    week: Sequence[tuple[Span, ...]] | None,
    overrides: Mapping[dt.date, tuple[Span, ...]],
    start: int,
    end: int,
) -> list[Block]:
    """Blocks of a weekly plan (``week``: minutes per weekday) and date overrides at
    ``location``, within its opening hours, touching ``[start, end)``."""
    opening = location.opening_hours.minutes
    blocks: list[Block] = []
    for day in local_dates(zone(location.timezone), start, end):
        weekday = day.weekday()
        minutes = overrides.get(day) if overrides else None
        if minutes is None:
            if week is None:
                continue
            minutes = week[weekday]
        blocks += _to_epochs(
            location.timezone, day, _intersect(minutes, opening[weekday]), start, end
        )
    return blocks


def practitioner_time_off(practitioner: Practitioner) -> list[Span]:
    return [(to_epoch(i.start), to_epoch(i.end)) for i in practitioner.time_off]


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sort and merge overlapping or touching spans."""
    out: list[Span] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def free_segments(blocks: Sequence[Block], cuts: Sequence[Span]) -> list[tuple[int, int, int]]:
    """``(free_start, free_end, anchor)`` for each piece of ``blocks`` left after
    removing ``cuts``. Both must be sorted by start; cuts may overlap each other."""
    out: list[tuple[int, int, int]] = []
    n = len(cuts)
    j0 = 0
    for bs, be in blocks:
        while j0 < n and cuts[j0][1] <= bs:
            j0 += 1
        cur = bs
        j = j0
        while j < n and cuts[j][0] < be:
            cs, ce = cuts[j]
            if cs > cur:
                out.append((cur, cs, bs))
            if ce > cur:
                cur = ce
            j += 1
        if cur < be:
            out.append((cur, be, bs))
    return out
