"""Working time as epoch-second spans: merge, free segments, practitioner and location blocks."""

from __future__ import annotations

import datetime as dt
import uuid

import pendulum

from carebook.domain.ids import LocationId, OrganisationId, PractitionerId
from carebook.domain.instants import Interval
from carebook.domain.scheduling.calendar import (
    Closure,
    DateOverride,
    Location,
    Practitioner,
    TimeRange,
    WeeklyHours,
    WorkingPlan,
)
from carebook.domain.scheduling.working_time import (
    free_segments,
    local_dates,
    location_blocks,
    location_closures,
    merge,
    practitioner_blocks,
    practitioner_time_off,
)

ORG = OrganisationId(uuid.UUID(int=1))
MONDAY = dt.date(2026, 6, 1)  # a Monday, far from any daylight-saving change


def at(day: dt.date, hhmm: str, tz: str = "UTC") -> int:
    """Epoch seconds of local wall-clock ``hhmm`` on ``day`` in ``tz``."""
    hour, minute = map(int, hhmm.split(":"))
    return int(pendulum.datetime(day.year, day.month, day.day, hour, minute, tz=tz).timestamp())


def day_span(day: dt.date, tz: str = "UTC", days: int = 1) -> tuple[int, int]:
    start = pendulum.datetime(day.year, day.month, day.day, tz=tz)
    return int(start.timestamp()), int(start.add(days=days).timestamp())


def location(
    *hours: str, tz: str = "UTC", weekdays: range | tuple[int, ...] = range(7)
) -> Location:
    return Location(
        id=LocationId(uuid.uuid4()),
        organisation_id=ORG,
        name="Main street",
        timezone=tz,
        opening_hours=WeeklyHours.every_day(*hours, weekdays=weekdays),
    )


def practitioner(
    loc: Location,
    *hours: str,
    breaks: tuple[str, ...] = (),
    weekdays: range | tuple[int, ...] = range(7),
    overrides: tuple[DateOverride, ...] = (),
) -> Practitioner:
    plans = (
        [
            WorkingPlan(
                location_id=loc.id,
                hours=WeeklyHours.every_day(*hours, weekdays=weekdays),
                breaks=WeeklyHours.every_day(*breaks, weekdays=weekdays),
            )
        ]
        if hours
        else []
    )
    return Practitioner(
        id=PractitionerId(uuid.uuid4()),
        organisation_id=ORG,
        name="Dr Who",
        plans=plans,
        overrides=overrides,
    )


# --- merge -----------------------------------------------------------------------------


def test_merge_of_nothing_is_nothing() -> None:
    assert merge([]) == []


def test_merge_sorts_and_keeps_disjoint_spans_apart() -> None:
    assert merge([(50, 60), (0, 10), (20, 30)]) == [(0, 10), (20, 30), (50, 60)]


def test_merge_joins_overlapping_spans() -> None:
    assert merge([(0, 10), (5, 20)]) == [(0, 20)]


def test_merge_joins_touching_spans_because_intervals_are_half_open() -> None:
    assert merge([(10, 20), (0, 10)]) == [(0, 20)]


def test_merge_swallows_nested_spans() -> None:
    assert merge([(0, 100), (10, 20), (30, 40), (90, 120)]) == [(0, 120)]


def test_merge_keeps_a_one_second_gap() -> None:
    assert merge([(0, 10), (11, 20)]) == [(0, 10), (11, 20)]


# --- free_segments --------------------------------------------------------------------


def test_free_segments_without_cuts_are_the_blocks_anchored_at_their_starts() -> None:
    assert free_segments([(0, 100), (200, 300)], []) == [(0, 100, 0), (200, 300, 200)]


def test_free_segments_remove_cuts_and_keep_the_block_start_as_anchor() -> None:
    blocks = [(0, 100), (200, 300)]
    cuts = [(50, 60), (250, 400)]
    assert free_segments(blocks, cuts) == [(0, 50, 0), (60, 100, 0), (200, 250, 200)]


def test_free_segments_drop_a_block_that_a_cut_covers() -> None:
    assert free_segments([(0, 100), (200, 300)], [(-10, 150)]) == [(200, 300, 200)]


def test_free_segments_cuts_touching_block_edges_leave_the_middle() -> None:
    assert free_segments([(100, 200)], [(50, 120), (180, 250)]) == [(120, 180, 100)]


def test_free_segments_ignore_cuts_outside_every_block() -> None:
    assert free_segments([(100, 200)], [(0, 50), (50, 100), (200, 300)]) == [(100, 200, 100)]


def test_free_segments_one_cut_spanning_two_blocks_trims_both() -> None:
    blocks = [(0, 100), (200, 300)]
    assert free_segments(blocks, [(80, 220)]) == [(0, 80, 0), (220, 300, 200)]


# --- location_blocks ------------------------------------------------------------------


def test_location_blocks_turn_opening_hours_into_instants() -> None:
    loc = location("08:00-12:00", "13:00-18:00")
    start, end = day_span(MONDAY)
    assert location_blocks(loc, start, end) == [
        (at(MONDAY, "08:00"), at(MONDAY, "12:00")),
        (at(MONDAY, "13:00"), at(MONDAY, "18:00")),
    ]


def test_location_blocks_use_the_location_time_zone() -> None:
    loc = location("08:00-18:00", tz="Europe/Berlin")  # UTC+2 in June
    start, end = day_span(MONDAY, "Europe/Berlin")
    blocks = location_blocks(loc, start, end)
    assert blocks == [(at(MONDAY, "06:00"), at(MONDAY, "16:00"))]


def test_location_blocks_skip_closed_weekdays() -> None:
    loc = location("09:00-17:00", weekdays=range(5))
    start, end = day_span(MONDAY, days=7)
    blocks = location_blocks(loc, start, end)
    assert len(blocks) == 5
    assert blocks[0] == (at(MONDAY, "09:00"), at(MONDAY, "17:00"))
    saturday = MONDAY + dt.timedelta(days=5)
    assert all(s < at(saturday, "00:00") for s, _ in blocks)


def test_location_blocks_keep_whole_blocks_that_touch_the_span() -> None:
    loc = location("08:00-18:00")
    blocks = location_blocks(loc, at(MONDAY, "12:00"), at(MONDAY, "12:01"))
    assert blocks == [(at(MONDAY, "08:00"), at(MONDAY, "18:00"))]


def test_location_blocks_end_of_day_is_next_midnight() -> None:
    loc = location("20:00-24:00")
    start, end = day_span(MONDAY)
    assert location_blocks(loc, start, end) == [
        (at(MONDAY, "20:00"), at(MONDAY + dt.timedelta(days=1), "00:00"))
    ]


def test_location_closures_are_epoch_spans() -> None:
    interval = Interval(
        pendulum.datetime(2026, 6, 1, 10, tz="UTC"), pendulum.datetime(2026, 6, 1, 11, tz="UTC")
    )
    loc = location("08:00-18:00")
    closed = Location(
        id=loc.id,
        organisation_id=ORG,
        name=loc.name,
        timezone="UTC",
        opening_hours=loc.opening_hours,
        closures=[Closure(interval=interval)],
    )
    assert location_closures(closed) == [(at(MONDAY, "10:00"), at(MONDAY, "11:00"))]
    assert location_closures(loc) == []


def test_local_dates_cover_the_day_before_and_the_last_day() -> None:
    tz = pendulum.timezone("UTC")
    start, end = day_span(MONDAY, days=2)
    assert local_dates(tz, start, end) == [
        MONDAY - dt.timedelta(days=1),
        MONDAY,
        MONDAY + dt.timedelta(days=1),
        MONDAY + dt.timedelta(days=2),
    ]


# --- practitioner_blocks --------------------------------------------------------------


def test_practitioner_blocks_are_plan_minus_breaks() -> None:
    loc = location("08:00-18:00")
    doc = practitioner(loc, "09:00-17:00", breaks=("12:00-13:00",))
    start, end = day_span(MONDAY)
    assert practitioner_blocks(doc, loc, start, end) == [
        (at(MONDAY, "09:00"), at(MONDAY, "12:00")),
        (at(MONDAY, "13:00"), at(MONDAY, "17:00")),
    ]


def test_practitioner_blocks_with_two_breaks_and_split_plan() -> None:
    loc = location("07:00-20:00")
    doc = practitioner(loc, "08:00-12:00", "14:00-19:00", breaks=("10:00-10:15", "16:00-16:30"))
    start, end = day_span(MONDAY)
    assert practitioner_blocks(doc, loc, start, end) == [
        (at(MONDAY, "08:00"), at(MONDAY, "10:00")),
        (at(MONDAY, "10:15"), at(MONDAY, "12:00")),
        (at(MONDAY, "14:00"), at(MONDAY, "16:00")),
        (at(MONDAY, "16:30"), at(MONDAY, "19:00")),
    ]


def test_practitioner_blocks_are_clipped_to_opening_hours() -> None:
    loc = location("08:00-12:00", "13:00-18:00")
    doc = practitioner(loc, "07:00-19:00")
    start, end = day_span(MONDAY)
    assert practitioner_blocks(doc, loc, start, end) == [
        (at(MONDAY, "08:00"), at(MONDAY, "12:00")),
        (at(MONDAY, "13:00"), at(MONDAY, "18:00")),
    ]


def test_practitioner_blocks_empty_where_the_location_is_closed_that_weekday() -> None:
    loc = location("08:00-18:00", weekdays=(0, 1, 2))
    doc = practitioner(loc, "09:00-17:00", weekdays=(2, 3))
    start, end = day_span(MONDAY, days=7)
    assert practitioner_blocks(doc, loc, start, end) == [
        (at(MONDAY + dt.timedelta(days=2), "09:00"), at(MONDAY + dt.timedelta(days=2), "17:00"))
    ]


def test_practitioner_blocks_at_a_location_without_plan_are_empty() -> None:
    loc = location("08:00-18:00")
    other = location("08:00-18:00")
    doc = practitioner(loc, "09:00-17:00")
    start, end = day_span(MONDAY)
    assert practitioner_blocks(doc, other, start, end) == []


def test_practitioner_blocks_date_override_replaces_the_plan_that_day_only() -> None:
    loc = location("08:00-18:00")
    tuesday = MONDAY + dt.timedelta(days=1)
    override = DateOverride(location_id=loc.id, date=MONDAY, ranges=("14:00-16:00",))
    doc = practitioner(loc, "09:00-17:00", breaks=("12:00-13:00",), overrides=(override,))
    start, end = day_span(MONDAY, days=2)
    assert practitioner_blocks(doc, loc, start, end) == [
        (at(MONDAY, "14:00"), at(MONDAY, "16:00")),
        (at(tuesday, "09:00"), at(tuesday, "12:00")),
        (at(tuesday, "13:00"), at(tuesday, "17:00")),
    ]


def test_practitioner_blocks_empty_override_is_a_day_off() -> None:
    loc = location("08:00-18:00")
    override = DateOverride(location_id=loc.id, date=MONDAY, ranges=())
    doc = practitioner(loc, "09:00-17:00", overrides=(override,))
    start, end = day_span(MONDAY)
    assert practitioner_blocks(doc, loc, start, end) == []


def test_practitioner_blocks_override_alone_makes_a_working_day() -> None:
    loc = location("08:00-18:00")
    override = DateOverride(
        location_id=loc.id, date=MONDAY, ranges=(TimeRange.parse("07:00-10:00"),)
    )
    doc = practitioner(loc, overrides=(override,))  # no weekly plan at all
    start, end = day_span(MONDAY, days=3)
    # The override is still clipped to opening hours.
    assert practitioner_blocks(doc, loc, start, end) == [(at(MONDAY, "08:00"), at(MONDAY, "10:00"))]


def test_practitioner_blocks_override_at_another_location_changes_nothing_here() -> None:
    loc = location("08:00-18:00")
    elsewhere = location("08:00-18:00")
    override = DateOverride(location_id=elsewhere.id, date=MONDAY, ranges=())
    doc = practitioner(loc, "09:00-17:00", overrides=(override,))
    start, end = day_span(MONDAY)
    assert practitioner_blocks(doc, loc, start, end) == [(at(MONDAY, "09:00"), at(MONDAY, "17:00"))]


def test_practitioner_time_off_is_a_list_of_epoch_spans() -> None:
    loc = location("08:00-18:00")
    doc = practitioner(loc, "09:00-17:00")
    off = Interval(
        pendulum.datetime(2026, 6, 1, 9, tz="Europe/Berlin"),
        pendulum.datetime(2026, 6, 1, 10, tz="Europe/Berlin"),
    )
    holidaying = Practitioner(
        id=doc.id, organisation_id=ORG, name=doc.name, plans=doc.plans, time_off=[off]
    )
    assert practitioner_time_off(holidaying) == [(at(MONDAY, "07:00"), at(MONDAY, "08:00"))]
    assert practitioner_time_off(doc) == []
