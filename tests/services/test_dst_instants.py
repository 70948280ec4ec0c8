"""Standard-library datetimes in a daylight-saving gap or fold, through the facade.

A Berlin night clinic (00:00-06:00 local) is booked, held and searched with
``zoneinfo`` datetimes. Each stored or offered instant is the one Python gives the
datetime, ``value.astimezone(timezone.utc)``: 02:30 on the spring-forward night is
03:30 CEST (01:30 UTC), not 01:30 CET. The conversion happens where the command is
built, before any storage sees it, so the memory storage stands for all of them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pendulum

from carebook import Actor, Interval
from carebook.scheduling import (
    Appointment,
    AvailabilityQuery,
    BookAppointment,
    HoldSlot,
    Patient,
    WeeklyHours,
    WorkingPlan,
)
from carebook.testing.world import World, make_world

BERLIN = ZoneInfo("Europe/Berlin")
GAP = dt.datetime(2027, 3, 28, 2, 30, tzinfo=BERLIN)  # clocks jump 02:00 CET -> 03:00 CEST
FOLD = dt.datetime(2027, 10, 31, 2, 30, tzinfo=BERLIN)  # 03:00 CEST -> 02:00 CET: twice


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(year, month, day, hour, minute, tz="UTC")


def book(w: World, patient: Patient, start: dt.datetime) -> Appointment:
    command = BookAppointment(
        location_id=w.loc.id,
        practitioner_id=w.pr.id,
        patient_id=patient.id,
        service_ids=(w.svc.id,),
        start=start,
        idempotency_key=uuid.uuid4().hex,
    )
    return w.cb.booking.book(Actor.patient(patient.id), command)


def hold(w: World, patient: Patient, start: dt.datetime) -> Appointment:
    command = HoldSlot(
        location_id=w.loc.id,
        practitioner_id=w.pr.id,
        patient_id=patient.id,
        service_ids=(w.svc.id,),
        start=start,
    )
    return w.cb.booking.hold(Actor.patient(patient.id), command)


def berlin_night_clinic() -> World:
    """The world, retargeted at a new Berlin location, practitioner and service."""
    w = make_world(horizon_days=1000)
    admin = Actor.admin()
    night = WeeklyHours.every_day("00:00-06:00")
    loc = w.cb.admin.add_location(
        admin,
        organisation_id=w.org.id,
        name="Nachtpraxis",
        timezone="Europe/Berlin",
        opening_hours=night,
    )
    pr = w.cb.admin.add_practitioner(
        admin,
        organisation_id=w.org.id,
        name="Dr Nacht",
        plans=[WorkingPlan(location_id=loc.id, hours=night)],
    )
    svc = w.cb.admin.add_service(
        admin,
        organisation_id=w.org.id,
        name="Night consultation",
        duration=30,
        price=w.svc.price,
        practitioner_ids={pr.id},
    )
    w.loc, w.pr, w.svc = loc, pr, svc
    return w


def starts(w: World, window: Interval) -> list[pendulum.DateTime]:
    query = AvailabilityQuery(service_ids=(w.svc.id,), window=window)
    return [s.start for s in w.cb.booking.search_availability(Actor.system(), w.org.id, query)]


def test_booking_a_gap_time_stores_the_instant_python_gives_it() -> None:
    w = berlin_night_clinic()
    booked = book(w, w.alice, GAP)
    assert booked.start == utc(2027, 3, 28, 1, 30) == GAP.astimezone(dt.UTC)
    assert booked.start.in_timezone("Europe/Berlin").format("HH:mm Z") == "03:30 +02:00"
    assert booked.end == utc(2027, 3, 28, 2, 0)
    assert w.appointments() == [booked]


def test_holding_a_gap_time_holds_the_instant_python_gives_it() -> None:
    w = berlin_night_clinic()
    held = hold(w, w.alice, GAP)
    assert held.start == utc(2027, 3, 28, 1, 30)


def test_a_search_window_from_a_gap_time_starts_at_the_instant_python_gives_it() -> None:
    w = berlin_night_clinic()
    window = Interval(GAP, dt.datetime(2027, 3, 28, 4, 30, tzinfo=BERLIN))
    found = starts(w, window)
    assert found[0] == utc(2027, 3, 28, 1, 30)  # 03:30 CEST: nothing from 01:30 CET
    assert found[-1] == utc(2027, 3, 28, 2, 15)  # 04:15 CEST: starts fall inside the window


def test_the_gap_time_books_the_slot_search_offered_for_it() -> None:
    w = berlin_night_clinic()
    window = Interval(utc(2027, 3, 27, 23), utc(2027, 3, 28, 4))  # the whole local night
    offered = starts(w, window)
    assert GAP.astimezone(dt.UTC) in offered
    booked = book(w, w.alice, GAP)
    assert booked.start in offered
    assert booked.start not in starts(w, window)


def test_the_two_occurrences_of_a_fold_time_book_two_instants() -> None:
    w = berlin_night_clinic()
    first = book(w, w.alice, FOLD)  # fold=0: the first 02:30, still CEST
    second = book(w, w.bob, FOLD.replace(fold=1))  # the second 02:30, CET
    assert first.start == utc(2027, 10, 31, 0, 30)
    assert second.start == utc(2027, 10, 31, 1, 30)
    local = [a.start.in_timezone("Europe/Berlin").format("HH:mm Z") for a in (first, second)]
    assert local == ["02:30 +02:00", "02:30 +01:00"]
