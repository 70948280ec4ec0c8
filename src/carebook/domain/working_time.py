"""When people and places are available, as sorted epoch-second spans.

Local wall-clock ranges (opening hours, plans, overrides) are turned into instants per
local date, so daylight-saving days get their true lengths. Results are cached per
(zone, date, minute) because many practitioners share the same plan times.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence

from carebook.domain.busy import Span
from carebook.domain.calendar import Location, Practitioner, TimeRange
from carebook.domain.ids import LocationId
from carebook.domain.instants import local_epoch, to_epoch, zone

__all__ = [
    "Block",
    "free_segments",
    "local_dates",
    "location_blocks",
    "location_closures",
    "merge",
    "practitioner_blocks",
]

Block = tuple[int, int]
"""A working block ``[start, end)``; its start is the anchor of the slot grid."""

_cached_epoch = functools.lru_cache(maxsize=65_536)(local_epoch)


def local_dates(tz: dt.tzinfo, start: int, end: int) -> list[dt.date]:
    """Every local date that can hold wall-clock time inside ``[start, end)``."""
    first = dt.datetime.fromtimestamp(start, tz).date() - dt.timedelta(days=1)
    last = dt.datetime.fromtimestamp(end, tz).date()
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _minus(ranges: Sequence[TimeRange], cuts: Sequence[TimeRange]) -> list[Span]:
    out: list[Span] = []
    for r in ranges:
        pieces = [(r.start_minute, r.end_minute)]
        for c in cuts:
            pieces = [
                piece
                for s, e in pieces
                for piece in ((s, min(e, c.start_minute)), (max(s, c.end_minute), e))
                if piece[0] < piece[1]
            ]
        out.extend(pieces)
    return out


def _intersect(spans: Sequence[Span], ranges: Sequence[TimeRange]) -> list[Span]:
    return [
        (max(s, r.start_minute), min(e, r.end_minute))
        for s, e in spans
        for r in ranges
        if max(s, r.start_minute) < min(e, r.end_minute)
    ]


def _to_epochs(
    tz: dt.tzinfo, day: dt.date, minutes: Iterable[Span], start: int, end: int
) -> list[Block]:
    blocks = []
    for s, e in minutes:
        bs, be = _cached_epoch(tz, day, s), _cached_epoch(tz, day, e)
        if bs < be and bs < end and be > start:
            blocks.append((bs, be))
    return blocks


def location_blocks(location: Location, start: int, end: int) -> list[Block]:
    """The location's opening hours as instants touching ``[start, end)``."""
    tz = zone(location.timezone)
    blocks: list[Block] = []
    for day in local_dates(tz, start, end):
        ranges = location.opening_hours.on(day.weekday())
        blocks += _to_epochs(tz, day, ((r.start_minute, r.end_minute) for r in ranges), start, end)
    return blocks


def location_closures(location: Location) -> list[Span]:
    return [(c.interval.start_epoch, c.interval.end_epoch) for c in location.closures]


def practitioner_blocks(
    practitioner: Practitioner, location: Location, start: int, end: int
) -> list[Block]:
    """Working blocks at ``location``: plan minus breaks (or the date's override),
    within opening hours. Closures, time off and busy time are not yet removed."""
    plan = practitioner.plan_at(location.id)
    overrides: dict[tuple[LocationId, dt.date], tuple[TimeRange, ...]] = {
        (o.location_id, o.date): o.ranges for o in practitioner.overrides
    }
    if plan is None and not any(key[0] == location.id for key in overrides):
        return []
    tz = zone(location.timezone)
    blocks: list[Block] = []
    for day in local_dates(tz, start, end):
        weekday = day.weekday()
        override = overrides.get((location.id, day))
        if override is not None:
            minutes = [(r.start_minute, r.end_minute) for r in override]
        elif plan is not None:
            minutes = _minus(plan.hours.on(weekday), plan.breaks.on(weekday))
        else:
            continue
        minutes = _intersect(minutes, location.opening_hours.on(weekday))
        blocks += _to_epochs(tz, day, minutes, start, end)
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
    removing ``cuts`` (which must be merged: sorted and disjoint)."""
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
