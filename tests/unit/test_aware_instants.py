"""An aware datetime means the instant Python gives it: ``value.astimezone(timezone.utc)``.

Whatever the tzinfo (zoneinfo, pendulum, ``datetime.timezone``, dateutil), carebook reads
the instant from the datetime's own ``utcoffset()``, honouring ``fold``: it never re-reads
the wall time in the zone. So a standard-library time in a daylight-saving gap with
``fold=0`` (the default) moves forward, the way Python and the docs say, and ``fold=1``
takes the offset after the change. Opening hours and working plans are a separate rule
(``local_epoch``, tests/unit/test_dst.py) and are not what this file is about.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from carebook.domain.ids import LocationId, PatientId, PractitionerId, ServiceId
from carebook.domain.instants import Interval, require_aware
from carebook.domain.scheduling.availability import AvailabilityQuery
from carebook.errors import ValidationError
from carebook.services.booking.commands import BookAppointment, HoldSlot
from carebook.services.saga.request import RequestBooking

UTC = dt.UTC
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
LORD_HOWE = "Australia/Lord_Howe"
HOUR = dt.timedelta(hours=1)

LOCATION = LocationId(uuid.uuid4())
PRACTITIONER = PractitionerId(uuid.uuid4())
PATIENT = PatientId(uuid.uuid4())
SERVICE = ServiceId(uuid.uuid4())


def _book(value: dt.datetime) -> pendulum.DateTime:
    return BookAppointment(
        location_id=LOCATION,
        practitioner_id=PRACTITIONER,
        patient_id=PATIENT,
        service_ids=(SERVICE,),
        start=value,
        idempotency_key="dst-1",
    ).start


def _hold(value: dt.datetime) -> pendulum.DateTime:
    return HoldSlot(
        location_id=LOCATION,
        practitioner_id=PRACTITIONER,
        patient_id=PATIENT,
        service_ids=(SERVICE,),
        start=value,
    ).start


def _request(value: dt.datetime) -> pendulum.DateTime:
    return RequestBooking(
        location_id=LOCATION,
        practitioner_id=PRACTITIONER,
        patient_id=PATIENT,
        service_ids=(SERVICE,),
        start=value,
        idempotency_key="dst-1",
    ).start


def _plain_utc(value: dt.datetime) -> dt.datetime:
    """``value.astimezone(UTC)`` as a standard-library datetime (pendulum's arithmetic on
    a DateTime in ``datetime.timezone.utc`` drops the tzinfo)."""
    utc = value.astimezone(UTC)
    return dt.datetime(*utc.timetuple()[:6], utc.microsecond, tzinfo=UTC)


def _window_start(value: dt.datetime) -> pendulum.DateTime:
    later = _plain_utc(value) + HOUR
    query = AvailabilityQuery(service_ids=(SERVICE,), window=Interval(value, later))
    return query.window.start


def _window_end(value: dt.datetime) -> pendulum.DateTime:
    earlier = _plain_utc(value) - HOUR
    query = AvailabilityQuery(service_ids=(SERVICE,), window=Interval(earlier, value))
    return query.window.end


ENTRY_POINTS: dict[str, Callable[[dt.datetime], pendulum.DateTime]] = {
    "require_aware": require_aware,
    "BookAppointment.start": _book,
    "HoldSlot.start": _hold,
    "RequestBooking.start": _request,
    "AvailabilityQuery window start": _window_start,
    "AvailabilityQuery window end": _window_end,
}


def assert_is_pythons_instant(got: dt.datetime, value: dt.datetime) -> None:
    """``got`` is a UTC pendulum DateTime of exactly ``value.astimezone(UTC)``."""
    expected = value.astimezone(UTC)
    assert isinstance(got, pendulum.DateTime)
    assert got.timezone_name == "UTC"
    assert got.utcoffset() == dt.timedelta(0)
    assert got.replace(tzinfo=None) == expected.replace(tzinfo=None)
    assert got == expected


# --- the case, and its neighbours ----------------------------------------------

# 2027-03-28: Berlin's clocks jump from 02:00 CET to 03:00 CEST; 02:30 does not happen.
BERLIN_GAP = dt.datetime(2027, 3, 28, 2, 30, tzinfo=ZoneInfo(BERLIN))
# 2027-10-31: they go back from 03:00 CEST to 02:00 CET; 02:30 happens twice.
BERLIN_FOLD = dt.datetime(2027, 10, 31, 2, 30, tzinfo=ZoneInfo(BERLIN))


@pytest.mark.parametrize("entry", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_a_zoneinfo_gap_time_moves_forward_like_python_says(
    entry: Callable[[dt.datetime], pendulum.DateTime],
) -> None:
    # 02:30 "CET" is 01:30 UTC, which is 03:30 CEST: forward by the gap, not back to 01:30 CET.
    got = entry(BERLIN_GAP)
    assert got == pendulum.datetime(2027, 3, 28, 1, 30, tz="UTC")
    assert got.in_timezone(BERLIN).format("HH:mm Z") == "03:30 +02:00"
    assert_is_pythons_instant(got, BERLIN_GAP)


@pytest.mark.parametrize("entry", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_a_zoneinfo_gap_time_with_fold_1_takes_the_offset_after_the_change(
    entry: Callable[[dt.datetime], pendulum.DateTime],
) -> None:
    value = BERLIN_GAP.replace(fold=1)  # PEP 495: read 02:30 with CEST's +02:00
    got = entry(value)
    assert got == pendulum.datetime(2027, 3, 28, 0, 30, tz="UTC")
    assert_is_pythons_instant(got, value)


@pytest.mark.parametrize(("fold", "utc_hour"), [(0, 0), (1, 1)])
@pytest.mark.parametrize("entry", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_a_zoneinfo_fold_time_honours_fold(
    entry: Callable[[dt.datetime], pendulum.DateTime], fold: int, utc_hour: int
) -> None:
    value = BERLIN_FOLD.replace(fold=fold)  # fold=0: the first 02:30 (CEST), 1: the second
    got = entry(value)
    assert got == pendulum.datetime(2027, 10, 31, utc_hour, 30, tz="UTC")
    assert_is_pythons_instant(got, value)


def test_a_pendulum_zone_attached_to_a_standard_datetime_reads_like_zoneinfo() -> None:
    value = dt.datetime(2026, 3, 8, 2, 30, tzinfo=pendulum.timezone(NEW_YORK))
    got = require_aware(value)
    assert got == pendulum.datetime(2026, 3, 8, 7, 30, tz="UTC")  # 03:30 EDT
    assert_is_pythons_instant(got, value)


def test_a_pendulum_datetime_built_in_a_gap_keeps_its_offset() -> None:
    # The constructor does not normalise: the value says 02:30 with EST's -05:00.
    value = pendulum.DateTime(2026, 3, 8, 2, 30, tzinfo=pendulum.timezone(NEW_YORK))
    got = require_aware(value)
    assert got == pendulum.datetime(2026, 3, 8, 7, 30, tz="UTC")
    assert_is_pythons_instant(got, value)


def test_a_pendulum_datetime_from_its_factory_is_already_normalised() -> None:
    value = pendulum.datetime(2027, 3, 28, 2, 30, tz=BERLIN)  # pendulum moves it to 03:30
    assert value.format("HH:mm Z") == "03:30 +02:00"
    got = require_aware(value)
    assert got == pendulum.datetime(2027, 3, 28, 1, 30, tz="UTC")
    assert_is_pythons_instant(got, value)


def test_lord_howe_half_hour_gap_and_fold() -> None:
    # 2026-10-04 02:00 +10:30 becomes 02:30 +11:00; 2027-04-04 02:00 +11:00 becomes 01:30 +10:30.
    gap = dt.datetime(2026, 10, 4, 2, 15, tzinfo=ZoneInfo(LORD_HOWE))
    assert require_aware(gap) == pendulum.datetime(2026, 10, 3, 15, 45, tz="UTC")
    assert require_aware(gap.replace(fold=1)) == pendulum.datetime(2026, 10, 3, 15, 15, tz="UTC")
    fold = dt.datetime(2027, 4, 4, 1, 45, tzinfo=ZoneInfo(LORD_HOWE))
    assert require_aware(fold) == pendulum.datetime(2027, 4, 3, 14, 45, tz="UTC")
    assert require_aware(fold.replace(fold=1)) == pendulum.datetime(2027, 4, 3, 15, 15, tz="UTC")
    for value in (gap, gap.replace(fold=1), fold, fold.replace(fold=1)):
        assert_is_pythons_instant(require_aware(value), value)


@pytest.mark.parametrize(
    "offset",
    [
        dt.timedelta(hours=5, minutes=45),
        dt.timedelta(hours=-9, minutes=-30),
        dt.timedelta(hours=23, minutes=59, seconds=59, microseconds=999999),
        dt.timedelta(seconds=-1),
        dt.timedelta(0),
    ],
)
def test_a_fixed_offset_is_exact(offset: dt.timedelta) -> None:
    value = dt.datetime(2027, 3, 28, 2, 30, 15, 123456, tzinfo=dt.timezone(offset))
    got = require_aware(value)
    assert got.replace(tzinfo=None) == dt.datetime(2027, 3, 28, 2, 30, 15, 123456) - offset
    assert_is_pythons_instant(got, value)
    fixed = pendulum.DateTime(2027, 3, 28, 2, 30, 15, 123456, tzinfo=pendulum.FixedTimezone(60))
    assert_is_pythons_instant(require_aware(fixed), fixed)


# --- other tzinfo implementations -------------------------------------------------------


class _HalfDayRule(dt.tzinfo):
    """A home-made PEP 495 zone: +01:00, and +02:00 from 02:00 on 2027-03-28 (a gap)."""

    def utcoffset(self, value: dt.datetime | None) -> dt.timedelta:
        assert value is not None
        change = dt.datetime(2027, 3, 28, 2)
        naive = value.replace(tzinfo=None, fold=0)
        if naive < change or (naive < change + HOUR and value.fold == 0):
            return HOUR
        return 2 * HOUR

    def dst(self, value: dt.datetime | None) -> dt.timedelta:
        return self.utcoffset(value) - HOUR

    def tzname(self, value: dt.datetime | None) -> str:
        return "HDR"


@pytest.mark.parametrize("fold", [0, 1])
def test_dateutil_zones_are_accepted_and_read_like_python(fold: int) -> None:
    tz: Any = pytest.importorskip("dateutil.tz")
    berlin = tz.gettz(BERLIN)
    for value in (BERLIN_GAP, BERLIN_FOLD):
        local = value.replace(tzinfo=berlin, fold=fold)
        got = require_aware(local)
        assert got == value.replace(fold=fold).astimezone(UTC)  # the instant zoneinfo gives
        assert_is_pythons_instant(got, local)


@pytest.mark.parametrize("fold", [0, 1])
def test_any_tzinfo_implementation_is_read_through_its_own_utcoffset(fold: int) -> None:
    value = dt.datetime(2027, 3, 28, 2, 30, tzinfo=_HalfDayRule(), fold=fold)
    got = require_aware(value)
    assert got.hour == (1 if fold == 0 else 0)
    assert_is_pythons_instant(got, value)


class _Rule(dt.tzinfo):
    def dst(self, value: dt.datetime | None) -> None:
        return None

    def tzname(self, value: dt.datetime | None) -> str:
        return "RULE"


class _NoOffset(_Rule):
    def utcoffset(self, value: dt.datetime | None) -> None:
        return None


class _Broken(_Rule):
    def utcoffset(self, value: dt.datetime | None) -> dt.timedelta:
        raise RuntimeError("no rules for that year")


class _Unimplemented(_Rule):
    def utcoffset(self, value: dt.datetime | None) -> dt.timedelta | None:
        return super().utcoffset(value)  # tzinfo's own: NotImplementedError


REFUSING = {k: v for k, v in ENTRY_POINTS.items() if not k.startswith("AvailabilityQuery")}


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(dt.datetime(2027, 3, 28, 2, 30), id="naive"),
        pytest.param(pendulum.naive(2027, 3, 28, 2, 30), id="pendulum-naive"),
        pytest.param(dt.datetime(2027, 3, 28, 2, 30, tzinfo=_NoOffset()), id="utcoffset-none"),
        pytest.param(dt.datetime(2027, 3, 28, 2, 30, tzinfo=_Broken()), id="utcoffset-raises"),
        pytest.param(dt.datetime(2027, 3, 28, 2, 30, tzinfo=_Unimplemented()), id="abstract"),
        pytest.param(dt.date(2027, 3, 28), id="date"),
        pytest.param("2027-03-28T02:30:00+01:00", id="string"),
        pytest.param(1_806_197_400, id="epoch-number"),
    ],
)
@pytest.mark.parametrize("entry", REFUSING.values(), ids=REFUSING.keys())
def test_what_is_not_an_aware_datetime_is_refused(
    entry: Callable[[Any], pendulum.DateTime], value: object
) -> None:
    with pytest.raises(ValidationError) as refused:
        entry(value)
    assert "datetime" in str(refused.value)


@pytest.mark.parametrize("tzinfo", [None, _NoOffset(), _Broken(), _Unimplemented()])
def test_an_interval_refuses_an_end_that_is_not_aware(tzinfo: dt.tzinfo | None) -> None:
    start = pendulum.datetime(2027, 3, 28, tz="UTC")
    with pytest.raises(ValidationError, match="interval end"):
        Interval(start, dt.datetime(2027, 3, 28, 2, 30, tzinfo=tzinfo))
    with pytest.raises(ValidationError, match="interval start"):
        Interval(dt.datetime(2027, 3, 28, 2, 30, tzinfo=tzinfo), start)


# --- property: around every transition of several zones, carebook agrees with Python -----

ZONES = [
    BERLIN,
    NEW_YORK,
    LORD_HOWE,  # a 30-minute shift
    "Europe/London",
    "Europe/Dublin",  # "negative" DST in tzdata: winter is the saving time
    "America/Sao_Paulo",  # changes at midnight: the gap swallows 00:00
    "America/St_Johns",  # -03:30 / -02:30
    "Africa/Casablanca",  # a month without DST around Ramadan, both ways each year
    "Pacific/Apia",  # skipped a whole day in 2011
    "Antarctica/Troll",  # a two-hour shift
    "Asia/Kolkata",  # no transition in range: plain instants
]
FIRST_YEAR, LAST_YEAR = 1970, 2100


def _offset_at(tz: dt.tzinfo, epoch: int) -> dt.timedelta:
    offset = dt.datetime.fromtimestamp(epoch, tz).utcoffset()
    assert offset is not None
    return offset


@functools.cache
def transitions(name: str) -> tuple[tuple[dt.datetime, dt.timedelta], ...]:
    """``(wall-clock time just before, change of offset)`` for each change of ``name``
    from 1970 to 2100: a wall time within an hour or two of one is in, or near, a gap (the
    change is positive) or a fold (negative)."""
    tz = ZoneInfo(name)
    begin = int(dt.datetime(FIRST_YEAR, 1, 1, tzinfo=UTC).timestamp())
    end = int(dt.datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC).timestamp())
    found = []
    step = 6 * 3600  # no zone here changes twice within 6 hours
    before = _offset_at(tz, begin)
    for low in range(begin, end, step):
        high = low + step
        after = _offset_at(tz, high)
        if after == before:
            continue
        while high - low > 1:  # the first second with the new offset
            mid = (low + high) // 2
            if _offset_at(tz, mid) == before:
                low = mid
            else:
                high = mid
        wall = dt.datetime.fromtimestamp(high, UTC).replace(tzinfo=None) + before
        found.append((wall, after - before))
        before = after
    return tuple(found)


@st.composite
def near_transitions(draw: st.DrawFn, name: str) -> dt.datetime:
    """A naive wall-clock time within 90 minutes of one of ``name``'s changes (anywhere in
    the years if it has none), to the microsecond."""
    changes = transitions(name)
    if not changes:
        return draw(st.datetimes(dt.datetime(FIRST_YEAR, 1, 1), dt.datetime(LAST_YEAR, 12, 31)))
    wall, _ = draw(st.sampled_from(changes))
    delta = draw(st.integers(min_value=-90 * 60 * 10**6, max_value=90 * 60 * 10**6))
    return wall + dt.timedelta(microseconds=delta)


def _zoneinfo(name: str, wall: dt.datetime, fold: int) -> dt.datetime:
    return wall.replace(tzinfo=ZoneInfo(name), fold=fold)


def _pendulum_zone(name: str, wall: dt.datetime, fold: int) -> dt.datetime:
    return wall.replace(tzinfo=pendulum.timezone(name), fold=fold)


def _pendulum_datetime(name: str, wall: dt.datetime, fold: int) -> dt.datetime:
    tz = pendulum.timezone(name)
    fields = (wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second)
    return pendulum.DateTime(*fields, wall.microsecond, tzinfo=tz, fold=fold)


def _pendulum_factory(name: str, wall: dt.datetime, fold: int) -> dt.datetime:
    fields = (wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second)
    return pendulum.datetime(*fields, wall.microsecond, tz=name, fold=fold)


def _dateutil(name: str, wall: dt.datetime, fold: int) -> dt.datetime:
    tz: Any = pytest.importorskip("dateutil.tz")
    return wall.replace(tzinfo=tz.gettz(name), fold=fold)


KINDS = {
    "zoneinfo": _zoneinfo,
    "pendulum zone on a datetime": _pendulum_zone,
    "pendulum DateTime": _pendulum_datetime,
    "pendulum.datetime()": _pendulum_factory,
    "dateutil": _dateutil,
}


@st.composite
def zoned_datetimes(draw: st.DrawFn) -> dt.datetime:
    name = draw(st.sampled_from(ZONES))
    wall = draw(near_transitions(name))
    make = KINDS[draw(st.sampled_from(sorted(KINDS)))]
    return make(name, wall, draw(st.sampled_from([0, 1])))


@st.composite
def fixed_offset_datetimes(draw: st.DrawFn) -> dt.datetime:
    limit = 24 * 3600 * 10**6 - 1
    offset = dt.timedelta(microseconds=draw(st.integers(min_value=-limit, max_value=limit)))
    if draw(st.booleans()):
        offset = dt.timedelta(minutes=draw(st.integers(min_value=-1439, max_value=1439)))
    wall = draw(st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2200, 12, 31)))
    fold = draw(st.sampled_from([0, 1]))
    if draw(st.booleans()) and offset % dt.timedelta(seconds=1) == dt.timedelta(0):
        seconds = int(offset.total_seconds())
        return pendulum.instance(wall, tz=pendulum.FixedTimezone(seconds)).replace(fold=fold)
    return wall.replace(tzinfo=dt.timezone(offset), fold=fold)


@given(
    value=st.one_of(zoned_datetimes(), fixed_offset_datetimes()),
    entry=st.sampled_from(sorted(ENTRY_POINTS)),
)
@example(value=BERLIN_GAP, entry="BookAppointment.start")
@example(value=BERLIN_GAP.replace(fold=1), entry="HoldSlot.start")
@example(value=BERLIN_FOLD.replace(fold=1), entry="AvailabilityQuery window start")
def test_every_entry_point_reads_the_instant_python_defines(value: dt.datetime, entry: str) -> None:
    assert_is_pythons_instant(ENTRY_POINTS[entry](value), value)


@pytest.mark.parametrize("name", ZONES[:-1])
def test_the_zones_under_test_have_gaps_and_folds_to_sample(name: str) -> None:
    """Guards the property above: its zones do change their clocks, both ways."""
    changes = [change for _, change in transitions(name)]
    assert any(c > dt.timedelta(0) for c in changes)  # a gap
    assert any(c < dt.timedelta(0) for c in changes)  # a fold
    assert not transitions("Asia/Kolkata")
