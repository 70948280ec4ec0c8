"""Daylight-saving days: slots follow real time, gaps move forward, folds count twice.

A night clinic open 00:00-06:00 local time, with a practitioner working the same hours,
offers a 30-minute service every 15 minutes. Its day lasts 6 real hours normally, 5 on the
spring-forward day and 7 on the fall-back day.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pendulum
import pytest

from carebook.domain.ids import LocationId, OrganisationId, PractitionerId, ServiceId
from carebook.domain.instants import Interval, local_epoch, zone
from carebook.domain.money import Money
from carebook.domain.scheduling.availability import (
    AvailabilityQuery,
    AvailabilityResult,
    find_slots,
)
from carebook.domain.scheduling.calendar import (
    Location,
    Organisation,
    Practitioner,
    Service,
    WeeklyHours,
    WorkingPlan,
)
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.scheduling.policy import BookingPolicy

NOW = pendulum.datetime(2026, 1, 1, tz="UTC")
NEW_YORK = "America/New_York"
LONDON = "Europe/London"


def calendar(tz: str, opening: str, working: str) -> tuple[ClinicCalendar, Service]:
    org = Organisation(
        id=OrganisationId(uuid.uuid4()),
        name="Night clinic",
        policy=BookingPolicy(min_notice=0, horizon_days=3660, slot_interval=15),
    )
    loc = Location(
        id=LocationId(uuid.uuid4()),
        organisation_id=org.id,
        name="Downtown",
        timezone=tz,
        opening_hours=WeeklyHours.every_day(opening),
    )
    doc = Practitioner(
        id=PractitionerId(uuid.uuid4()),
        organisation_id=org.id,
        name="Dr Night",
        plans=[WorkingPlan(location_id=loc.id, hours=WeeklyHours.every_day(working))],
    )
    svc = Service(
        id=ServiceId(uuid.uuid4()),
        organisation_id=org.id,
        name="Consultation",
        duration=30,
        price=Money(4000, "USD"),
        practitioner_ids={doc.id},
    )
    return ClinicCalendar.build(org, [loc], [doc], [svc]), svc


def search_day(
    tz: str, day: dt.date, opening: str = "00:00-06:00", working: str | None = None
) -> AvailabilityResult:
    """The slots of one whole local day in ``tz``."""
    cal, svc = calendar(tz, opening, working or opening)
    start = pendulum.datetime(day.year, day.month, day.day, tz=tz)
    window = Interval(start, start.add(days=1))
    return find_slots(cal, [], AvailabilityQuery(service_ids=[svc.id], window=window), NOW)


def local_starts(result: AvailabilityResult, tz: str) -> list[str]:
    return [slot.in_timezone(tz)[0].format("HH:mmZ") for slot in result]


def offset_hours(instant: dt.datetime) -> float:
    offset = instant.utcoffset()
    assert offset is not None
    return offset.total_seconds() / 3600


DAYS = [
    pytest.param(NEW_YORK, dt.date(2026, 3, 8), 5, id="new-york-spring-forward"),
    pytest.param(NEW_YORK, dt.date(2026, 3, 9), 6, id="new-york-normal"),
    pytest.param(NEW_YORK, dt.date(2026, 11, 1), 7, id="new-york-fall-back"),
    pytest.param(LONDON, dt.date(2026, 3, 29), 5, id="london-spring-forward"),
    pytest.param(LONDON, dt.date(2026, 3, 30), 6, id="london-normal"),
    pytest.param(LONDON, dt.date(2026, 10, 25), 7, id="london-fall-back"),
]


@pytest.mark.parametrize(("tz", "day", "hours"), DAYS)
def test_night_clinic_slot_count_follows_real_hours(tz: str, day: dt.date, hours: int) -> None:
    result = search_day(tz, day)
    # A 30-minute service every 15 minutes in H real hours: (H*60 - 30) / 15 + 1 starts.
    assert len(result) == (hours * 60 - 30) // 15 + 1
    assert len(result) == {5: 19, 6: 23, 7: 27}[hours]


@pytest.mark.parametrize(("tz", "day", "hours"), DAYS)
def test_every_slot_lasts_thirty_real_minutes(tz: str, day: dt.date, hours: int) -> None:
    slots = list(search_day(tz, day))
    assert slots
    assert all(int(s.end.timestamp()) - int(s.start.timestamp()) == 30 * 60 for s in slots)
    assert all(s.end - s.start == dt.timedelta(minutes=30) for s in slots)


@pytest.mark.parametrize(("tz", "day", "hours"), DAYS)
def test_starts_are_fifteen_real_minutes_apart_and_unique(
    tz: str, day: dt.date, hours: int
) -> None:
    epochs = [int(s.start.timestamp()) for s in search_day(tz, day)]
    assert len(set(epochs)) == len(epochs)
    assert all(b - a == 15 * 60 for a, b in itertools.pairwise(epochs))
    first = pendulum.datetime(day.year, day.month, day.day, tz=tz)
    assert epochs[0] == int(first.timestamp())
    last_end = epochs[-1] + 30 * 60
    assert last_end - epochs[0] == hours * 3600


def test_new_york_spring_forward_skips_the_missing_hour() -> None:
    starts = local_starts(search_day(NEW_YORK, dt.date(2026, 3, 8)), NEW_YORK)
    assert not [s for s in starts if s.startswith("02:")]
    assert starts[:9] == [
        "00:00-05:00",
        "00:15-05:00",
        "00:30-05:00",
        "00:45-05:00",
        "01:00-05:00",
        "01:15-05:00",
        "01:30-05:00",
        "01:45-05:00",
        "03:00-04:00",
    ]
    assert starts[-1] == "05:30-04:00"


def test_new_york_slot_across_the_gap_still_lasts_thirty_minutes() -> None:
    slots = list(search_day(NEW_YORK, dt.date(2026, 3, 8)))
    across = next(s for s in slots if s.in_timezone(NEW_YORK)[0].format("HH:mm") == "01:45")
    start, end = across.in_timezone(NEW_YORK)
    assert end.format("HH:mmZ") == "03:15-04:00"
    assert end - start == dt.timedelta(minutes=30)


def test_london_spring_forward_skips_one_to_two() -> None:
    starts = local_starts(search_day(LONDON, dt.date(2026, 3, 29)), LONDON)
    assert not [s for s in starts if s.startswith("01:")]
    assert starts[3:5] == ["00:45+00:00", "02:00+01:00"]


@pytest.mark.parametrize(
    ("tz", "day"),
    [(NEW_YORK, dt.date(2026, 11, 1)), (LONDON, dt.date(2026, 10, 25))],
)
def test_fall_back_repeats_wall_clock_times_but_never_instants(tz: str, day: dt.date) -> None:
    result = search_day(tz, day)
    instants = [s.start for s in result]
    assert len(set(instants)) == len(instants) == 27
    wall = [s.in_timezone(tz)[0].format("HH:mm") for s in result]
    # 01:00-01:45 happen twice: once before and once after the clocks go back.
    assert [w for w in wall if w.startswith("01:")] == ["01:00", "01:15", "01:30", "01:45"] * 2
    offsets = [offset_hours(s.in_timezone(tz)[0]) for s in result]
    assert offsets[0] != offsets[-1]
    assert offsets == sorted(offsets, reverse=True)  # summer offset first, then winter


@pytest.mark.parametrize(
    ("tz", "dst_day", "normal_day"),
    [
        (NEW_YORK, dt.date(2026, 3, 8), dt.date(2026, 3, 9)),
        (NEW_YORK, dt.date(2026, 11, 1), dt.date(2026, 11, 2)),
        (LONDON, dt.date(2026, 3, 29), dt.date(2026, 3, 30)),
        (LONDON, dt.date(2026, 10, 25), dt.date(2026, 10, 26)),
    ],
)
def test_day_clinic_is_unaffected_by_a_night_time_change(
    tz: str, dst_day: dt.date, normal_day: dt.date
) -> None:
    on_dst = search_day(tz, dst_day, "09:00-17:00")
    on_normal = search_day(tz, normal_day, "09:00-17:00")
    assert len(on_dst) == len(on_normal) == (8 * 60 - 30) // 15 + 1
    assert local_starts(on_dst, tz)[0][:5] == "09:00"
    assert local_starts(on_dst, tz)[-1][:5] == "16:30"
    assert [s[:5] for s in local_starts(on_dst, tz)] == [s[:5] for s in local_starts(on_normal, tz)]


def test_opening_time_inside_the_gap_moves_forward_by_the_gap() -> None:
    # 02:30 does not exist in New York on 2026-03-08: it means 03:30 EDT (07:30 UTC).
    result = search_day(NEW_YORK, dt.date(2026, 3, 8), "02:30-06:00", "00:00-06:00")
    first = result.first()[0]
    assert first.start == pendulum.datetime(2026, 3, 8, 7, 30, tz="UTC")
    assert first.in_timezone(NEW_YORK)[0].format("HH:mmZ") == "03:30-04:00"
    # 03:30 to 06:00 EDT is 2.5 real hours: (150 - 30) / 15 + 1 starts.
    assert len(result) == 9


def test_working_plan_starting_inside_the_gap_moves_forward_too() -> None:
    result = search_day(NEW_YORK, dt.date(2026, 3, 8), "00:00-06:00", "02:15-04:00")
    assert local_starts(result, NEW_YORK)[0] == "03:15-04:00"
    assert local_starts(result, NEW_YORK)[-1] == "03:30-04:00"


def test_opening_time_in_the_fold_takes_the_first_occurrence() -> None:
    # 01:30 happens twice in New York on 2026-11-01; opening means the first (EDT).
    result = search_day(NEW_YORK, dt.date(2026, 11, 1), "01:30-06:00")
    first = result.first()[0]
    assert first.start == pendulum.datetime(2026, 11, 1, 5, 30, tz="UTC")
    assert first.in_timezone(NEW_YORK)[0].format("HH:mmZ") == "01:30-04:00"
    # 01:30 EDT to 06:00 EST is 5.5 real hours.
    assert len(result) == (330 - 30) // 15 + 1


def test_local_epoch_gap_and_fold_rules() -> None:
    tz = zone(NEW_YORK)
    gap = local_epoch(tz, dt.date(2026, 3, 8), 2 * 60 + 30)
    assert gap == int(pendulum.datetime(2026, 3, 8, 7, 30, tz="UTC").timestamp())
    fold = local_epoch(tz, dt.date(2026, 11, 1), 60 + 30)
    assert fold == int(pendulum.datetime(2026, 11, 1, 5, 30, tz="UTC").timestamp())
    end_of_day = local_epoch(tz, dt.date(2026, 3, 7), 1440)
    assert end_of_day == local_epoch(tz, dt.date(2026, 3, 8), 0)


def test_week_across_spring_forward_loses_exactly_one_hour_of_slots() -> None:
    cal, svc = calendar(NEW_YORK, "00:00-06:00", "00:00-06:00")
    start = pendulum.datetime(2026, 3, 5, tz=NEW_YORK)
    window = Interval(start, start.add(days=7))
    result = find_slots(cal, [], AvailabilityQuery(service_ids=[svc.id], window=window), NOW)
    assert len(result) == 6 * 23 + 19


def test_wall_clock_moves_a_gap_time_forward_and_takes_a_fold_time_first() -> None:
    from carebook.errors import ValidationError
    from carebook.scheduling import wall_clock

    spring = wall_clock("Europe/London", dt.date(2026, 3, 29), dt.time(1, 30))
    assert spring.in_timezone("Europe/London").format("HH:mm Z") == "02:30 +01:00"
    autumn = wall_clock("Europe/London", dt.date(2026, 10, 25), dt.time(1, 30))
    assert autumn.in_timezone("Europe/London").format("HH:mm Z") == "01:30 +01:00"
    assert autumn.timezone_name == "UTC"
    with pytest.raises(ValidationError):
        wall_clock("Mars/Olympus_Mons", dt.date(2026, 1, 1), dt.time(9, 0))
