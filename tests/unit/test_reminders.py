"""The reminder rule: exact elapsed time, quiet hours move it earlier, never after the
start, one reminder at a time."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carebook.domain.reminders import (
    DEFAULT_POLICY,
    ReminderPolicy,
    due_at,
    reminders_to_send,
    scan_windows,
)
from carebook.errors import ValidationError

ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]
starts = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 12, 31)).map(
    lambda d: pendulum.instance(d, tz="UTC").replace(second=0, microsecond=0)
)
offsets = st.integers(1, 30 * 24 * 60)
times = st.times().map(lambda t: t.replace(second=0, microsecond=0))


def _in_quiet(local: pendulum.DateTime, begin: dt.time, end: dt.time) -> bool:
    t = local.time().replace(tzinfo=None)
    return begin <= t < end if begin < end else (t >= begin or t < end)


@given(start=starts, offset=offsets, zone=st.sampled_from(ZONES))
def test_without_quiet_hours_it_is_exactly_offset_minutes_before(
    start: pendulum.DateTime, offset: int, zone: str
) -> None:
    due = due_at(start, offset, ReminderPolicy(offsets=(offset,)), zone)
    assert (start - due).in_seconds() == offset * 60


@given(start=starts, offset=offsets, zone=st.sampled_from(ZONES), begin=times, end=times)
def test_quiet_hours_move_it_earlier_and_out_of_the_quiet(
    start: pendulum.DateTime, offset: int, zone: str, begin: dt.time, end: dt.time
) -> None:
    if begin == end:
        return
    policy = ReminderPolicy(offsets=(offset,), quiet_from=begin, quiet_until=end)
    raw = start.subtract(minutes=offset)
    due = due_at(start, offset, policy, zone)
    assert due <= raw < start
    if due < raw:  # moved: to the start of the quiet period raw was in
        assert _in_quiet(raw.in_timezone(zone), begin, end)
        assert (raw - due).in_seconds() < 24 * 3600
    else:
        assert not _in_quiet(raw.in_timezone(zone), begin, end) or (
            due.in_timezone(zone).time().replace(tzinfo=None) == begin
        )


def test_across_the_spring_change_it_is_24_real_hours() -> None:
    # Sunday 30 March 2025, 10:00 summer time in Berlin; the clocks went forward at 02:00.
    start = pendulum.datetime(2025, 3, 30, 10, 0, tz="Europe/Berlin")
    due = due_at(start, 1440, ReminderPolicy(), "Europe/Berlin")
    assert (start - due).in_hours() == 24
    assert due == pendulum.datetime(2025, 3, 29, 9, 0, tz="Europe/Berlin")  # 09:00 winter time
    autumn = pendulum.datetime(2025, 10, 26, 10, 0, tz="Europe/Berlin")  # back at 03:00
    assert due_at(autumn, 1440, ReminderPolicy(), "Europe/Berlin") == pendulum.datetime(
        2025, 10, 25, 11, 0, tz="Europe/Berlin"
    )


def test_a_quiet_early_morning_moves_to_the_evening_before() -> None:
    policy = ReminderPolicy(quiet_from=dt.time(21), quiet_until=dt.time(8))
    start = pendulum.datetime(2025, 6, 4, 8, 30, tz="Europe/Berlin")
    assert due_at(start, 120, policy, "Europe/Berlin") == pendulum.datetime(
        2025, 6, 3, 21, 0, tz="Europe/Berlin"
    )
    lunch = ReminderPolicy(quiet_from=dt.time(12), quiet_until=dt.time(14))
    assert due_at(start.add(hours=6), 120, lunch, "Europe/Berlin") == pendulum.datetime(
        2025, 6, 4, 12, 0, tz="Europe/Berlin"
    )


def test_which_to_send_now() -> None:
    policy = ReminderPolicy()  # 24 h and 2 h
    start = pendulum.datetime(2025, 6, 4, 10, tz="UTC")
    assert reminders_to_send(start, policy, "UTC", start.subtract(hours=25)) == (None, ())
    assert reminders_to_send(start, policy, "UTC", start.subtract(hours=24)) == (1440, ())
    assert reminders_to_send(start, policy, "UTC", start.subtract(hours=3), frozenset({1440})) == (
        None,
        (),
    )
    # the worker was down: only the nearest one goes, the other is recorded as passed
    assert reminders_to_send(start, policy, "UTC", start.subtract(hours=1)) == (120, (1440,))
    assert reminders_to_send(start, policy, "UTC", start) == (None, ())


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"offsets": [0]}, "from 1 to"),
        ({"offsets": [60, 60]}, "must not repeat"),
        ({"offsets": "24h"}, "list of minutes"),
        ({"offsets": [1.5]}, "whole number"),
        ({"offsets": list(range(1, 12))}, "at most 10"),
        ({"channels": ["E-mail"]}, "lower-case"),
        ({"quiet_from": dt.time(21)}, "go together"),
        ({"quiet_from": dt.time(8), "quiet_until": dt.time(8)}, "same time"),
        ({"quiet_from": "21:00", "quiet_until": dt.time(8)}, "local time of day"),
    ],
)
def test_bad_policies_are_refused(fields: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        ReminderPolicy(**fields)  # type: ignore[arg-type]


def test_offsets_are_kept_latest_first() -> None:
    assert ReminderPolicy(offsets=[120, 2880, 1440]).offsets == (2880, 1440, 120)
    assert ReminderPolicy(offsets=[]).longest == 0


def test_scan_windows_cover_every_offset_and_the_largest_quiet_shift() -> None:
    quiet = ReminderPolicy(offsets=(60,), quiet_from=dt.time(22), quiet_until=dt.time(7))
    assert quiet.earliest_shift == 9 * 60 + 60
    assert DEFAULT_POLICY.earliest_shift == 0
    assert scan_windows([DEFAULT_POLICY], 0) == ((1440, 1440 * 60), (120, 120 * 60))
    shift = quiet.earliest_shift * 60
    assert scan_windows([DEFAULT_POLICY, quiet], 100) == (
        (1440, 100 + 1440 * 60 + shift),
        (120, 100 + 120 * 60 + shift),
        (60, 100 + 60 * 60 + shift),
    )
    assert scan_windows([ReminderPolicy(offsets=())], 0) == ()


@given(
    start_minute=st.integers(0, 14 * 24 * 60),
    now_minute=st.integers(0, 14 * 24 * 60),
    begin=st.integers(0, 23),
    length=st.integers(1, 23),
)
def test_a_due_reminder_is_always_inside_its_scan_window(
    start_minute: int, now_minute: int, begin: int, length: int
) -> None:
    """If due_at says a reminder is due, scan_windows would have found the appointment."""
    policy = ReminderPolicy(
        offsets=(1440, 120),
        quiet_from=dt.time(begin),
        quiet_until=dt.time((begin + length) % 24),
    )
    base = pendulum.datetime(2025, 3, 20, tz="UTC")
    start = base.add(minutes=start_minute)
    now = base.add(minutes=now_minute)
    windows = dict(scan_windows([policy], int(now.timestamp())))
    for offset in policy.offsets:
        if now < start and due_at(start, offset, policy, "Europe/Berlin") <= now:
            assert int(start.timestamp()) <= windows[offset]
