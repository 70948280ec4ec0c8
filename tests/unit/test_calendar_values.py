"""Calendar values validate themselves: time ranges, weekly hours, policies, locations,
date overrides, patients (whose contact reference stays out of repr)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import attrs
import pendulum
import pytest

from carebook.domain.ids import LocationId, OrganisationId, PatientId
from carebook.domain.scheduling.calendar import (
    Closure,
    DateOverride,
    Location,
    Patient,
    PatientKind,
    TimeRange,
    WeeklyHours,
    WorkingPlan,
)
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.errors import CarebookError, ValidationError

LOC = LocationId(uuid.uuid4())
ORG = OrganisationId(uuid.uuid4())
SECRET = "tel:+44 7700 900123 alice.smith@example.org"


# --- TimeRange ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("09:00-12:30", 540, 750),
        ("9:00-17:00", 540, 1020),
        (" 08:15 - 08:45 ", 495, 525),
        ("00:00-24:00", 0, 1440),
        ("23:59-24:00", 1439, 1440),
    ],
)
def test_time_range_parses_wall_clock_text(text: str, start: int, end: int) -> None:
    parsed = TimeRange.parse(text)
    assert (parsed.start_minute, parsed.end_minute) == (start, end)
    assert TimeRange.parse(str(parsed)) == parsed


@pytest.mark.parametrize(
    "text",
    [
        "12:00-09:00",  # end before start
        "09:00-09:00",  # empty
        "09:00",  # no end
        "0900-1000",  # no colon
        "09:60-10:00",  # minute out of range
        "25:00-26:00",  # hour out of range
        "24:00-24:00",
        "10:00-24:01",
        "ab:cd-ef:gh",
        "",
    ],
)
def test_time_range_refuses_malformed_text(text: str) -> None:
    with pytest.raises(ValidationError):
        TimeRange.parse(text)


def test_time_range_of_times() -> None:
    assert TimeRange.of(dt.time(9), dt.time(12, 30)) == TimeRange(540, 750)
    assert TimeRange.of(dt.time(22)) == TimeRange(1320, 1440)  # open end: midnight
    with pytest.raises(ValidationError):
        TimeRange.of(dt.time(12), dt.time(9))


@pytest.mark.parametrize(
    ("start", "end"), [(True, 60), (0, 60.0), (-1, 60), (0, 1441), (60, 60), ("0", 60)]
)
def test_time_range_bounds_are_whole_minutes_within_a_day(start: Any, end: Any) -> None:
    with pytest.raises(ValidationError):
        TimeRange(start, end)


def test_time_ranges_order_by_start() -> None:
    assert sorted([TimeRange(600, 700), TimeRange(60, 120)]) == [
        TimeRange(60, 120),
        TimeRange(600, 700),
    ]


# --- WeeklyHours ------------------------------------------------------------------------------


def test_weekly_hours_sort_and_parse_ranges_per_weekday() -> None:
    hours = WeeklyHours({0: ["14:00-18:00", TimeRange.parse("08:00-12:00")], 6: []})
    assert hours.on(0) == (TimeRange(480, 720), TimeRange(840, 1080))
    assert hours.on(6) == ()  # an empty day is dropped
    assert 6 not in hours.days
    assert hours.on(3) == ()


def test_adjacent_ranges_are_allowed() -> None:
    assert len(WeeklyHours({2: ["08:00-12:00", "12:00-13:00"]}).on(2)) == 2


@pytest.mark.parametrize(
    "ranges",
    [
        ["09:00-12:00", "11:00-13:00"],
        ["09:00-17:00", "12:00-13:00"],  # contained
        ["09:00-12:00", "09:00-12:00"],  # repeated
    ],
)
def test_overlapping_ranges_are_refused(ranges: list[str]) -> None:
    with pytest.raises(ValidationError, match="overlap"):
        WeeklyHours({1: ranges})
    with pytest.raises(ValidationError, match="overlap"):
        WeeklyHours.every_day(*ranges)


@pytest.mark.parametrize("weekday", [7, -1, True, "1", 1.0])
def test_weekdays_are_zero_to_six(weekday: Any) -> None:
    with pytest.raises(ValidationError, match="weekdays"):
        WeeklyHours({weekday: ["09:00-10:00"]})


def test_every_day_covers_the_chosen_weekdays() -> None:
    hours = WeeklyHours.every_day("09:00-17:00", weekdays=range(5))
    assert sorted(hours.days) == [0, 1, 2, 3, 4]
    assert WeeklyHours.every_day("09:00-17:00").on(6) == (TimeRange(540, 1020),)


# --- BookingPolicy --------------------------------------------------------------------------------

MINUTE_FIELDS = [
    "slot_interval",
    "min_notice",
    "horizon_days",
    "hold_minutes",
    "cancel_notice",
    "session_window_before",
    "session_window_after",
    "no_show_grace",
]


def test_policy_defaults_are_valid() -> None:
    policy = BookingPolicy()
    assert policy.slot_interval == 15
    assert policy.require_confirmation is True
    assert set(MINUTE_FIELDS) < {a.name for a in attrs.fields(BookingPolicy)}


@pytest.mark.parametrize("name", MINUTE_FIELDS)
@pytest.mark.parametrize("value", [-1, True, False, 1.5, "10", None])
def test_policy_minutes_are_non_negative_whole_numbers(name: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=name):
        BookingPolicy(**{name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [("slot_interval", 0), ("slot_interval", 1441), ("horizon_days", 0), ("hold_minutes", 0)],
)
def test_policy_minutes_respect_their_bounds(name: str, value: int) -> None:
    fields: dict[str, Any] = {name: value}
    with pytest.raises(ValidationError, match=name):
        BookingPolicy(**fields)


@pytest.mark.parametrize("value", ["no", 0, None])
def test_policy_require_confirmation_is_a_bool(value: Any) -> None:
    with pytest.raises(ValidationError, match="require_confirmation"):
        BookingPolicy(require_confirmation=value)


# --- Location -----------------------------------------------------------------------------------


def location(**fields: Any) -> Location:
    base: dict[str, Any] = {
        "id": LOC,
        "organisation_id": ORG,
        "name": "High Street",
        "timezone": "Europe/London",
    }
    return Location(**{**base, **fields})


@pytest.mark.parametrize("zone", ["Europe/London", "UTC", "America/New_York", "Asia/Kolkata"])
def test_location_takes_an_iana_zone(zone: str) -> None:
    assert location(timezone=zone).timezone == zone


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "+02:00", "europe/nowhere", None, 3])
def test_location_refuses_an_unknown_zone(zone: Any) -> None:
    with pytest.raises(ValidationError, match="time zone"):
        location(timezone=zone)


@pytest.mark.parametrize("name", ["", "   ", None])
def test_location_needs_a_name(name: Any) -> None:
    with pytest.raises(ValidationError, match="name"):
        location(name=name)


# --- DateOverride ---------------------------------------------------------------------------------


def test_date_override_takes_a_date_and_parses_ranges() -> None:
    override = DateOverride(
        location_id=LOC, date=dt.date(2025, 3, 4), ranges=["13:00-17:00", "08:00-12:00"]
    )
    assert override.ranges == (TimeRange(480, 720), TimeRange(780, 1020))
    assert DateOverride(location_id=LOC, date=dt.date(2025, 3, 4)).ranges == ()  # day off


@pytest.mark.parametrize(
    "day",
    [
        dt.datetime(2025, 3, 4, 9, 0),
        pendulum.datetime(2025, 3, 4, tz="UTC"),
        "2025-03-04",
        None,
    ],
)
def test_date_override_refuses_anything_but_a_date(day: Any) -> None:
    with pytest.raises(ValidationError, match="date"):
        DateOverride(location_id=LOC, date=day)


def test_date_override_refuses_overlapping_ranges() -> None:
    with pytest.raises(ValidationError, match="overlap"):
        DateOverride(
            location_id=LOC, date=dt.date(2025, 3, 4), ranges=["08:00-12:00", "11:00-13:00"]
        )


# --- Patient ------------------------------------------------------------------------------------------


def test_patient_repr_hides_the_contact_ref() -> None:
    patient = Patient(
        id=PatientId(uuid.uuid4()),
        organisation_id=ORG,
        kind=PatientKind.RETURNING,
        contact_ref=SECRET,
        timezone="Europe/London",
    )
    assert patient.contact_ref == SECRET
    assert SECRET not in repr(patient)
    assert SECRET not in str(patient)
    assert SECRET not in repr([patient])
    assert str(patient.id) in repr(patient)


def test_patient_zone_error_does_not_echo_the_contact_ref() -> None:
    with pytest.raises(ValidationError, match="time zone") as caught:
        Patient(
            id=PatientId(uuid.uuid4()),
            organisation_id=ORG,
            contact_ref=SECRET,
            timezone="Mars/Olympus",
        )
    assert SECRET not in str(caught.value)


# --- wrong types that slip through (bugs, reported) ---------------------------------------------


WRONG_TYPES: dict[str, Callable[[], object]] = {
    "location-opening-hours-as-dict": lambda: location(opening_hours={0: ["09:00-17:00"]}),
    "working-plan-hours-as-str": lambda: WorkingPlan(location_id=LOC, hours="09:00-17:00"),  # type: ignore[arg-type]
    "closure-interval-as-tuple": lambda: Closure(interval=(1, 2)),  # type: ignore[arg-type]
    "patient-kind-unknown": lambda: Patient(
        id=PatientId(uuid.uuid4()),
        organisation_id=ORG,
        kind="vip",
    ),
}


@pytest.mark.parametrize("name", sorted(WRONG_TYPES))
def test_calendar_values_refuse_wrong_types(name: str) -> None:
    with pytest.raises(CarebookError):
        WRONG_TYPES[name]()
