"""Availability search, as a pure function of calendar, busy time, query and ``now``.

Unless a test says otherwise the clinic is in UTC, open 08:00-18:00 every day; a
practitioner works 09:00-17:00; a service lasts 30 minutes; starts are 15 minutes apart,
there is no minimum notice, and the search covers Monday 2026-06-01.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import pendulum
import pytest

from carebook.domain.ids import (
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
    ResourceId,
    ServiceId,
)
from carebook.domain.instants import Interval
from carebook.domain.money import Money
from carebook.domain.scheduling.availability import (
    AvailabilityQuery,
    AvailabilityResult,
    find_slots,
)
from carebook.domain.scheduling.busy import PATIENT, PRACTITIONER, RESOURCE, BusyInterval
from carebook.domain.scheduling.calendar import (
    Closure,
    ClosureKind,
    DateOverride,
    Location,
    Organisation,
    Practitioner,
    Resource,
    ResourceKind,
    Service,
    WeeklyHours,
    WorkingPlan,
)
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.scheduling.policy import BookingPolicy
from carebook.errors import NotFoundError, ValidationError

MONDAY = dt.date(2026, 6, 1)
TUESDAY = MONDAY + dt.timedelta(days=1)
NOW = pendulum.datetime(2026, 5, 1, tz="UTC")
MINUTE = 60


def at(hhmm: str, day: dt.date = MONDAY, tz: str = "UTC") -> pendulum.DateTime:
    hour, minute = map(int, hhmm.split(":"))
    return pendulum.datetime(day.year, day.month, day.day, hour, minute, tz=tz)


def midnight(day: dt.date = MONDAY, tz: str = "UTC") -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, tz=tz)


def hhmm(result: Iterable[Any], tz: str = "UTC") -> list[str]:
    """Local start times of the slots, as HH:MM."""
    return [slot.start.in_timezone(tz).format("HH:mm") for slot in result]


def grid(first: str, last: str, step: int = 15) -> list[str]:
    """Every HH:MM from ``first`` to ``last`` inclusive, ``step`` minutes apart."""
    start, end = at(first), at(last)
    out = []
    while start <= end:
        out.append(start.format("HH:mm"))
        start = start.add(minutes=step)
    return out


def busy(
    kind: str, owner: uuid.UUID, start: pendulum.DateTime, end: pendulum.DateTime
) -> BusyInterval:
    return BusyInterval(kind, owner, int(start.timestamp()), int(end.timestamp()), uuid.uuid4())


@attrs.define
class Clinic:
    """A small calendar builder; everything is created with fresh ids."""

    policy: BookingPolicy = attrs.field(
        factory=lambda: BookingPolicy(min_notice=0, horizon_days=365, slot_interval=15)
    )
    locations: list[Location] = attrs.field(factory=list)
    practitioners: list[Practitioner] = attrs.field(factory=list)
    services: list[Service] = attrs.field(factory=list)
    resources: list[Resource] = attrs.field(factory=list)
    org_id: OrganisationId = attrs.field(factory=lambda: OrganisationId(uuid.uuid4()))

    def location(
        self,
        *hours: str,
        tz: str = "UTC",
        weekdays: Iterable[int] = range(7),
        closures: Sequence[Closure] = (),
        policy: BookingPolicy | None = None,
    ) -> Location:
        loc = Location(
            id=LocationId(uuid.uuid4()),
            organisation_id=self.org_id,
            name=f"Location {len(self.locations) + 1}",
            timezone=tz,
            opening_hours=WeeklyHours.every_day(*(hours or ("08:00-18:00",)), weekdays=weekdays),
            closures=closures,
            policy=policy,
        )
        self.locations.append(loc)
        return loc

    def practitioner(
        self,
        loc: Location | Sequence[Location],
        *hours: str,
        breaks: Sequence[str] = (),
        weekdays: Iterable[int] = range(7),
        overrides: Sequence[DateOverride] = (),
        time_off: Sequence[Interval] = (),
        weekly: WeeklyHours | None = None,
    ) -> Practitioner:
        days = tuple(weekdays)
        locs = [loc] if isinstance(loc, Location) else list(loc)
        plans = [
            WorkingPlan(
                location_id=place.id,
                hours=weekly or WeeklyHours.every_day(*(hours or ("09:00-17:00",)), weekdays=days),
                breaks=WeeklyHours.every_day(*breaks, weekdays=days),
            )
            for place in locs
        ]
        doc = Practitioner(
            id=PractitionerId(uuid.uuid4()),
            organisation_id=self.org_id,
            name=f"Dr {len(self.practitioners) + 1}",
            plans=plans,
            overrides=overrides,
            time_off=time_off,
        )
        self.practitioners.append(doc)
        return doc

    def service(
        self,
        *practitioners: Practitioner,
        duration: int = 30,
        before: int = 0,
        after: int = 0,
        needs: Iterable[str] = (),
        at: Iterable[Location] = (),
    ) -> Service:
        svc = Service(
            id=ServiceId(uuid.uuid4()),
            organisation_id=self.org_id,
            name=f"Service {len(self.services) + 1}",
            duration=duration,
            price=Money(5000, "EUR"),
            buffer_before=before,
            buffer_after=after,
            practitioner_ids={p.id for p in practitioners},
            needs=needs,
            location_ids={loc.id for loc in at},
        )
        self.services.append(svc)
        return svc

    def resource(self, loc: Location, name: str, category: str = "room") -> Resource:
        res = Resource(
            id=ResourceId(uuid.uuid4()),
            location_id=loc.id,
            name=name,
            category=category,
            kind=ResourceKind.ROOM if category == "room" else ResourceKind.EQUIPMENT,
        )
        self.resources.append(res)
        return res

    def calendar(self) -> ClinicCalendar:
        org = Organisation(id=self.org_id, name="Clinic", policy=self.policy)
        return ClinicCalendar.build(
            org, self.locations, self.practitioners, self.services, self.resources
        )

    def search(
        self,
        services: Service | Sequence[Service],
        start: pendulum.DateTime | None = None,
        end: pendulum.DateTime | None = None,
        *,
        busy: Sequence[BusyInterval] = (),
        now: pendulum.DateTime = NOW,
        **query: Any,
    ) -> AvailabilityResult:
        chosen = [services] if isinstance(services, Service) else list(services)
        start = start or midnight()
        end = end or start.add(days=1)
        q = AvailabilityQuery(
            service_ids=[s.id for s in chosen], window=Interval(start, end), **query
        )
        return find_slots(self.calendar(), busy, q, now)


@pytest.fixture
def clinic() -> Clinic:
    return Clinic()


# --- working plan, breaks, overrides, opening hours ---------------------------------------


def test_plan_alone_offers_every_grid_start_whose_service_fits(clinic: Clinic) -> None:
    loc = clinic.location()
    doc = clinic.practitioner(loc)
    result = clinic.search(clinic.service(doc))
    assert hhmm(result) == grid("09:00", "16:30")
    assert len(result) == 31
    assert all(s.practitioner_id == doc.id and s.location_id == loc.id for s in result)


def test_breaks_remove_slots_that_would_overlap_them(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location(), breaks=("12:00-13:00",))
    result = clinic.search(clinic.service(doc))
    assert hhmm(result) == grid("09:00", "11:30") + grid("13:00", "16:30")


def test_plan_only_offers_slots_on_its_weekdays(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location(), weekdays=(0, 2))
    result = clinic.search(clinic.service(doc), midnight(), midnight().add(days=7))
    days = {s.start.date() for s in result}
    assert days == {MONDAY, MONDAY + dt.timedelta(days=2)}
    assert len(result) == 2 * 31


def test_date_override_replaces_the_plan_for_that_date(clinic: Clinic) -> None:
    loc = clinic.location()
    override = DateOverride(location_id=loc.id, date=MONDAY, ranges=("13:00-15:00",))
    doc = clinic.practitioner(loc, breaks=("12:00-13:00",), overrides=[override])
    result = clinic.search(clinic.service(doc), midnight(), midnight(TUESDAY).add(days=1))
    monday = [s for s in result if s.start.date() == MONDAY]
    tuesday = [s for s in result if s.start.date() == TUESDAY]
    assert hhmm(monday) == grid("13:00", "14:30")
    assert hhmm(tuesday) == grid("09:00", "11:30") + grid("13:00", "16:30")


def test_date_override_ignores_the_plans_breaks(clinic: Clinic) -> None:
    loc = clinic.location()
    override = DateOverride(location_id=loc.id, date=MONDAY, ranges=("11:00-14:00",))
    doc = clinic.practitioner(loc, breaks=("12:00-13:00",), overrides=[override])
    assert hhmm(clinic.search(clinic.service(doc))) == grid("11:00", "13:30")


def test_empty_date_override_is_a_day_off(clinic: Clinic) -> None:
    loc = clinic.location()
    doc = clinic.practitioner(loc, overrides=[DateOverride(location_id=loc.id, date=MONDAY)])
    result = clinic.search(clinic.service(doc), midnight(), midnight(TUESDAY).add(days=1))
    assert {s.start.date() for s in result} == {TUESDAY}
    assert len(result) == 31


def test_date_override_is_clipped_to_opening_hours(clinic: Clinic) -> None:
    loc = clinic.location("08:00-18:00")
    override = DateOverride(location_id=loc.id, date=MONDAY, ranges=("06:00-10:00",))
    doc = clinic.practitioner(loc, overrides=[override])
    assert hhmm(clinic.search(clinic.service(doc))) == grid("08:00", "09:30")


def test_opening_hours_clip_the_plan(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location("08:00-18:00"), "07:00-20:00")
    assert hhmm(clinic.search(clinic.service(doc))) == grid("08:00", "17:30")


def test_a_lunch_closure_in_opening_hours_splits_the_plan(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location("08:00-12:00", "13:00-18:00"))
    assert hhmm(clinic.search(clinic.service(doc))) == grid("09:00", "11:30") + grid(
        "13:00", "16:30"
    )


def test_no_slots_on_a_weekday_the_location_is_closed(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location(weekdays=range(5)))  # Monday to Friday
    saturday = MONDAY + dt.timedelta(days=5)
    assert len(clinic.search(clinic.service(doc), midnight(saturday))) == 0
    assert len(clinic.search(clinic.service(doc), midnight(MONDAY))) == 31


def test_practitioner_without_a_plan_at_the_location_offers_nothing_there(clinic: Clinic) -> None:
    here, there = clinic.location(), clinic.location()
    doc = clinic.practitioner(here)
    result = clinic.search(clinic.service(doc), location_ids={there.id})
    assert len(result) == 0


def test_location_in_another_zone_uses_its_local_wall_clock(clinic: Clinic) -> None:
    loc = clinic.location(tz="Asia/Kolkata")  # UTC+05:30, no daylight saving
    doc = clinic.practitioner(loc)
    result = clinic.search(clinic.service(doc), midnight(tz="Asia/Kolkata"))
    first = result.first()[0]
    assert first.start == pendulum.datetime(2026, 6, 1, 3, 30, tz="UTC")
    assert hhmm(result, "Asia/Kolkata") == grid("09:00", "16:30")


# --- closures, time off ------------------------------------------------------------------


def test_closure_removes_every_slot_that_overlaps_it(clinic: Clinic) -> None:
    closure = Closure(interval=Interval(at("10:00"), at("11:00")), label="staff meeting")
    doc = clinic.practitioner(clinic.location(closures=[closure]))
    starts = hhmm(clinic.search(clinic.service(doc)))
    # Half-open: 09:30-10:00 and 11:00-11:30 touch the closure and stay.
    assert starts == grid("09:00", "09:30") + grid("11:00", "16:30")


def test_emergency_closure_blocks_the_whole_day_and_only_that_day(clinic: Clinic) -> None:
    closure = Closure(interval=Interval(midnight(), midnight(TUESDAY)), kind=ClosureKind.EMERGENCY)
    doc = clinic.practitioner(clinic.location(closures=[closure]))
    result = clinic.search(clinic.service(doc), midnight(), midnight(TUESDAY).add(days=1))
    assert {s.start.date() for s in result} == {TUESDAY}
    assert len(result) == 31


def test_closure_at_another_location_changes_nothing(clinic: Clinic) -> None:
    closure = Closure(interval=Interval(at("08:00"), at("18:00")), kind=ClosureKind.EMERGENCY)
    here = clinic.location()
    clinic.location(closures=[closure])
    doc = clinic.practitioner(here)
    assert len(clinic.search(clinic.service(doc))) == 31


def test_time_off_removes_overlapping_slots(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location(), time_off=[Interval(at("14:00"), at("15:00"))])
    assert hhmm(clinic.search(clinic.service(doc))) == grid("09:00", "13:30") + grid(
        "15:00", "16:30"
    )


def test_time_off_applies_at_every_location(clinic: Clinic) -> None:
    a, b = clinic.location(), clinic.location()
    doc = clinic.practitioner([a, b], time_off=[Interval(midnight(), midnight(TUESDAY))])
    assert len(clinic.search(clinic.service(doc))) == 0


# --- buffers ----------------------------------------------------------------------------------


def test_buffer_before_shifts_the_first_slot_after_the_block_start(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location())
    # 15-minute grid from 09:00: a 10-minute buffer pushes the first start to 09:15.
    assert hhmm(clinic.search(clinic.service(doc, before=10)))[0] == "09:15"


def test_buffer_before_on_a_fine_grid_starts_right_after_the_buffer() -> None:
    clinic = Clinic(policy=BookingPolicy(min_notice=0, slot_interval=5))
    doc = clinic.practitioner(clinic.location())
    starts = hhmm(clinic.search(clinic.service(doc, before=10)))
    assert starts[0] == "09:10"
    assert starts[-1] == "16:30"


def test_buffer_after_must_fit_before_the_block_ends(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location())
    # The 20-minute buffer after 16:15-16:45 would run to 17:05: 16:00 is the last start.
    assert hhmm(clinic.search(clinic.service(doc, after=20)))[-1] == "16:00"


def test_busy_neighbour_plus_buffers_removes_nearby_slots(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location(), "09:00-12:00")
    svc = clinic.service(doc, before=15, after=10)
    taken = [busy(PRACTITIONER, doc.id, at("10:30"), at("11:00"))]
    # Occupied span [start - 15 min, start + 40 min) must avoid 10:30-11:00 and fit 09:00-12:00.
    assert hhmm(clinic.search(svc, busy=taken)) == ["09:15", "09:30", "09:45", "11:15"]


def test_busy_time_without_buffers_touching_slots_stay(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location())
    taken = [busy(PRACTITIONER, doc.id, at("10:30"), at("11:00"))]
    starts = hhmm(clinic.search(clinic.service(doc), busy=taken))
    assert "10:00" in starts
    assert "11:00" in starts
    assert not {"10:15", "10:30", "10:45"} & set(starts)
    assert len(starts) == 31 - 3


def test_busy_time_of_another_practitioner_does_not_matter(clinic: Clinic) -> None:
    loc = clinic.location()
    doc, other = clinic.practitioner(loc), clinic.practitioner(loc)
    taken = [busy(PRACTITIONER, other.id, at("09:00"), at("17:00"))]
    result = clinic.search(clinic.service(doc), busy=taken)
    assert len(result) == 31


def test_excluded_appointment_does_not_count_as_busy(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location())
    svc = clinic.service(doc)
    held = busy(PRACTITIONER, doc.id, at("09:00"), at("17:00"))
    q = AvailabilityQuery(service_ids=[svc.id], window=Interval(midnight(), midnight(TUESDAY)))
    assert len(find_slots(clinic.calendar(), [held], q, NOW)) == 0
    assert (
        len(find_slots(clinic.calendar(), [held], q, NOW, exclude_appointment=held.appointment_id))
        == 31
    )


# --- grid, notice, horizon, window ---------------------------------------------------------


def test_slot_grid_is_anchored_at_the_working_block_start() -> None:
    clinic = Clinic(policy=BookingPolicy(min_notice=0, slot_interval=30))
    doc = clinic.practitioner(clinic.location(), "09:10-12:00")
    assert hhmm(clinic.search(clinic.service(doc))) == ["09:10", "09:40", "10:10", "10:40", "11:10"]


def test_slot_grid_restarts_at_the_end_of_a_break(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location(), breaks=("12:00-12:50",))
    starts = hhmm(clinic.search(clinic.service(doc)))
    afternoon = [s for s in starts if s >= "12:00"]
    assert afternoon[:3] == ["12:50", "13:05", "13:20"]
    assert afternoon[-1] == "16:20"


def test_busy_time_does_not_move_the_grid(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location())
    taken = [busy(PRACTITIONER, doc.id, at("09:00"), at("09:20"))]
    assert hhmm(clinic.search(clinic.service(doc), busy=taken))[0] == "09:30"


def test_location_policy_overrides_the_organisation_interval(clinic: Clinic) -> None:
    loc = clinic.location(policy=BookingPolicy(min_notice=0, slot_interval=60))
    doc = clinic.practitioner(loc)
    assert hhmm(clinic.search(clinic.service(doc))) == grid("09:00", "16:00", step=60)


def test_minimum_notice_hides_slots_too_soon_after_now() -> None:
    clinic = Clinic(policy=BookingPolicy(min_notice=60, slot_interval=15))
    doc = clinic.practitioner(clinic.location())
    result = clinic.search(clinic.service(doc), now=at("09:20"))
    # now + 60 min = 10:20; the next grid start is 10:30.
    assert hhmm(result)[0] == "10:30"


def test_minimum_notice_boundary_is_inclusive() -> None:
    clinic = Clinic(policy=BookingPolicy(min_notice=60, slot_interval=15))
    doc = clinic.practitioner(clinic.location())
    assert hhmm(clinic.search(clinic.service(doc), now=at("09:00")))[0] == "10:00"


def test_no_slot_starts_before_now(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location())
    result = clinic.search(clinic.service(doc), now=at("12:05"))
    assert hhmm(result) == grid("12:15", "16:30")


def test_horizon_stops_slots_after_now_plus_horizon_days_inclusive() -> None:
    clinic = Clinic(policy=BookingPolicy(min_notice=0, horizon_days=1, slot_interval=15))
    doc = clinic.practitioner(clinic.location())
    result = clinic.search(clinic.service(doc), midnight(), midnight().add(days=3), now=at("10:00"))
    slots = list(result)
    assert slots[0].start == at("10:00")
    assert slots[-1].start == at("10:00", TUESDAY)
    assert len(slots) == len(grid("10:00", "16:30")) + len(grid("09:00", "10:00"))


def test_window_start_is_inclusive_and_end_exclusive(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location())
    svc = clinic.service(doc)
    assert hhmm(clinic.search(svc, at("10:00"), at("11:00"))) == [
        "10:00",
        "10:15",
        "10:30",
        "10:45",
    ]
    assert hhmm(clinic.search(svc, at("10:00"), at("10:45"))) == ["10:00", "10:15", "10:30"]
    assert hhmm(clinic.search(svc, at("10:05"), at("11:00"))) == ["10:15", "10:30", "10:45"]


def test_window_edge_slot_may_end_after_the_window_but_not_after_work(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location())
    svc = clinic.service(doc, duration=60)
    late = clinic.search(svc, at("15:50"), at("16:10"))
    assert hhmm(late) == ["16:00"]
    assert late.first()[0].end == at("17:00")
    assert len(clinic.search(svc, at("16:05"), at("18:00"))) == 0


# --- several services back to back ---------------------------------------------------------


def test_several_services_sum_durations_and_take_outer_buffers(clinic: Clinic) -> None:
    loc = clinic.location()
    both, only_a = clinic.practitioner(loc, "09:00-12:00"), clinic.practitioner(loc, "09:00-12:00")
    a = clinic.service(both, only_a, duration=30, before=10, after=5)
    b = clinic.service(both, duration=45, before=20, after=15)
    result = clinic.search([a, b])
    # before = a's 10 min; after = b's 15 min; 75 minutes of service.
    assert hhmm(result) == grid("09:15", "10:30")
    assert {s.practitioner_id for s in result} == {both.id}
    assert all(s.end - s.start == dt.timedelta(minutes=75) for s in result)
    assert result.shape.duration == 75 * MINUTE
    assert (result.shape.before, result.shape.after) == (10 * MINUTE, 15 * MINUTE)


def test_several_services_order_decides_which_buffers_apply(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location(), "09:00-12:00")
    a = clinic.service(doc, duration=30, before=10, after=5)
    b = clinic.service(doc, duration=45, before=20, after=15)
    # b first: 20 min before (first start 09:30), a last: 5 min after (last 10:30).
    assert hhmm(clinic.search([b, a])) == grid("09:30", "10:30")


def test_several_services_avoid_busy_time_over_the_whole_span(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location(), "09:00-12:00")
    a = clinic.service(doc, duration=30, before=10, after=5)
    b = clinic.service(doc, duration=45, before=20, after=15)
    taken = [busy(PRACTITIONER, doc.id, at("11:00"), at("11:30"))]
    assert hhmm(clinic.search([a, b], busy=taken)) == ["09:15", "09:30"]


def test_no_slots_when_no_practitioner_offers_every_service(clinic: Clinic) -> None:
    loc = clinic.location()
    one, two = clinic.practitioner(loc), clinic.practitioner(loc)
    assert len(clinic.search([clinic.service(one), clinic.service(two)])) == 0


def test_query_needs_at_least_one_distinct_service() -> None:
    window = Interval(midnight(), midnight(TUESDAY))
    with pytest.raises(ValidationError):
        AvailabilityQuery(service_ids=[], window=window)
    sid = ServiceId(uuid.uuid4())
    with pytest.raises(ValidationError):
        AvailabilityQuery(service_ids=[sid, sid], window=window)


def test_unknown_service_is_not_found(clinic: Clinic) -> None:
    clinic.practitioner(clinic.location())
    q = AvailabilityQuery(
        service_ids=[ServiceId(uuid.uuid4())], window=Interval(midnight(), midnight(TUESDAY))
    )
    with pytest.raises(NotFoundError):
        find_slots(clinic.calendar(), [], q, NOW)


# --- resources ------------------------------------------------------------------------------


def test_no_slots_without_a_resource_of_the_needed_category(clinic: Clinic) -> None:
    loc = clinic.location()
    doc = clinic.practitioner(loc)
    clinic.resource(loc, "Laser 1", category="laser")
    clinic.resource(clinic.location(), "Room 1")  # a room, but elsewhere
    assert len(clinic.search(clinic.service(doc, needs={"room"}), location_ids={loc.id})) == 0


def test_one_free_room_is_reserved_with_every_slot(clinic: Clinic) -> None:
    loc = clinic.location()
    doc = clinic.practitioner(loc)
    room = clinic.resource(loc, "Room A")
    result = clinic.search(clinic.service(doc, needs={"room"}))
    assert len(result) == 31
    assert all(s.resource_ids == (room.id,) for s in result)


def test_busy_room_removes_slots_when_it_is_the_only_one(clinic: Clinic) -> None:
    loc = clinic.location()
    doc = clinic.practitioner(loc)
    room = clinic.resource(loc, "Room A")
    svc = clinic.service(doc, needs={"room"}, before=5)
    taken = [busy(RESOURCE, room.id, at("10:00"), at("11:00"))]
    starts = hhmm(clinic.search(svc, busy=taken))
    # Occupied [start - 5 min, start + 30 min) must avoid 10:00-11:00.
    assert {"09:30", "11:15"} <= set(starts)
    assert not {"09:45", "10:00", "10:15", "10:30", "10:45", "11:00"} & set(starts)
    assert len(starts) == len(grid("09:15", "16:30")) - 6


def test_two_rooms_both_get_used(clinic: Clinic) -> None:
    loc = clinic.location()
    doc = clinic.practitioner(loc)
    room_a, room_b = clinic.resource(loc, "Room A"), clinic.resource(loc, "Room B")
    svc = clinic.service(doc, needs={"room"})
    taken = [busy(RESOURCE, room_a.id, at("10:00"), at("11:00"))]
    result = clinic.search(svc, busy=taken)
    assert len(result) == 31
    rooms = {s.start.format("HH:mm"): s.resource_ids for s in result}
    assert rooms["09:00"] == (room_a.id,)
    assert rooms["10:00"] == (room_b.id,)
    assert rooms["10:45"] == (room_b.id,)
    assert rooms["11:00"] == (room_a.id,)


def test_all_rooms_busy_removes_the_slot(clinic: Clinic) -> None:
    loc = clinic.location()
    doc = clinic.practitioner(loc)
    rooms = [clinic.resource(loc, "Room A"), clinic.resource(loc, "Room B")]
    taken = [busy(RESOURCE, r.id, at("10:00"), at("11:00")) for r in rooms]
    starts = hhmm(clinic.search(clinic.service(doc, needs={"room"}), busy=taken))
    assert not {"10:00", "10:30"} & set(starts)
    assert len(starts) == 31 - 5


def test_one_resource_of_each_needed_category(clinic: Clinic) -> None:
    loc = clinic.location()
    doc = clinic.practitioner(loc)
    room = clinic.resource(loc, "Room A")
    laser = clinic.resource(loc, "Laser 1", category="laser")
    a = clinic.service(doc, needs={"room"})
    b = clinic.service(doc, needs={"laser"})
    result = clinic.search([a, b])
    assert len(result) > 0
    assert all(set(s.resource_ids) == {room.id, laser.id} for s in result)
    taken = [busy(RESOURCE, laser.id, at("09:00"), at("17:00"))]
    assert len(clinic.search([a, b], busy=taken)) == 0


def test_resource_slots_respect_location_closures(clinic: Clinic) -> None:
    closure = Closure(interval=Interval(at("12:00"), at("13:00")))
    loc = clinic.location(closures=[closure])
    doc = clinic.practitioner(loc)
    clinic.resource(loc, "Room A")
    starts = hhmm(clinic.search(clinic.service(doc, needs={"room"})))
    assert starts == grid("09:00", "11:30") + grid("13:00", "16:30")


# --- the patient's own busy time -------------------------------------------------------------


def test_patient_busy_time_counts_only_when_the_query_names_the_patient(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location())
    svc = clinic.service(doc)
    patient, someone_else = PatientId(uuid.uuid4()), PatientId(uuid.uuid4())
    taken = [busy(PATIENT, patient, at("10:00"), at("11:00"))]
    assert len(clinic.search(svc, busy=taken)) == 31
    assert len(clinic.search(svc, busy=taken, patient_id=someone_else)) == 31
    mine = hhmm(clinic.search(svc, busy=taken, patient_id=patient))
    assert mine == grid("09:00", "09:30") + grid("11:00", "16:30")


# --- filters -----------------------------------------------------------------------------------


def test_location_and_practitioner_filters(clinic: Clinic) -> None:
    north, south = clinic.location(), clinic.location()
    at_north, at_south = clinic.practitioner(north), clinic.practitioner(south)
    everywhere = clinic.practitioner([north, south])
    svc = clinic.service(at_north, at_south, everywhere)
    every = clinic.search(svc)
    assert len(every) == 4 * 31
    only_south = clinic.search(svc, location_ids={south.id})
    assert {(s.location_id, s.practitioner_id) for s in only_south} == {
        (south.id, at_south.id),
        (south.id, everywhere.id),
    }
    only_everywhere = clinic.search(svc, practitioner_ids={everywhere.id})
    assert {s.practitioner_id for s in only_everywhere} == {everywhere.id}
    assert {s.location_id for s in only_everywhere} == {north.id, south.id}
    both = clinic.search(svc, location_ids={north.id}, practitioner_ids={at_south.id})
    assert len(both) == 0


def test_service_limited_to_some_locations_is_only_offered_there(clinic: Clinic) -> None:
    north, south = clinic.location(), clinic.location()
    doc = clinic.practitioner([north, south])
    result = clinic.search(clinic.service(doc, at=[north]))
    assert {s.location_id for s in result} == {north.id}
    assert len(result) == 31


# --- what a result is -----------------------------------------------------------------------------


def test_slots_render_in_the_patients_time_zone(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location())
    first = clinic.search(clinic.service(doc)).first()[0]
    start, end = first.in_timezone("Asia/Kolkata")
    assert (start.hour, start.minute) == (14, 30)
    assert (end.hour, end.minute) == (15, 0)
    assert start.utcoffset() == dt.timedelta(hours=5, minutes=30)
    assert start == first.start
    assert first.start.utcoffset() == dt.timedelta(0)
    with pytest.raises(ValidationError):
        first.in_timezone("Mars/Olympus_Mons")


def test_every_slot_lasts_the_total_service_duration(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location())
    result = clinic.search(clinic.service(doc, duration=50, before=5, after=10))
    assert len(result) > 0
    assert all(s.end - s.start == dt.timedelta(minutes=50) for s in result)


def test_results_are_chronological_across_practitioners_and_locations() -> None:
    clinic = Clinic(policy=BookingPolicy(min_notice=0, slot_interval=20))
    north, south = clinic.location(), clinic.location()
    a = clinic.practitioner(north, "09:00-12:00")
    b = clinic.practitioner(south, "09:10-12:00")
    c = clinic.practitioner(north, "09:05-12:00")
    result = clinic.search(clinic.service(a, b, c))
    starts = [s.start for s in result]
    assert starts == sorted(starts)
    assert len(starts) == len(result)
    assert len({s.practitioner_id for s in result}) == 3
    assert result.first(4) == list(result)[:4]
    assert result.first() == [next(iter(result))]
    assert result.first(10_000) == list(result)


def test_offer_finds_an_offered_start_and_nothing_else(clinic: Clinic) -> None:
    loc = clinic.location()
    doc, other = clinic.practitioner(loc), clinic.practitioner(loc)
    result = clinic.search(clinic.service(doc))
    slot = result.offer(doc.id, loc.id, int(at("10:15").timestamp()))
    assert slot is not None
    assert (slot.start, slot.end) == (at("10:15"), at("10:45"))
    assert slot.practitioner_id == doc.id
    assert result.offer(doc.id, loc.id, int(at("10:20").timestamp())) is None
    assert result.offer(other.id, loc.id, int(at("10:15").timestamp())) is None
    assert result.starts_for(doc.id, loc.id)[0] == int(at("09:00").timestamp())


def test_empty_result_is_falsy(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location(), weekdays=(3,))
    result = clinic.search(clinic.service(doc))
    assert not result
    assert len(result) == 0
    assert list(result) == []
    assert result.first(3) == []


# --- working time that is continuous although it is written in pieces --------------------------


def test_touching_plan_ranges_are_one_continuous_working_time(clinic: Clinic) -> None:
    loc = clinic.location()
    whole = clinic.practitioner(loc, "09:00-17:00")
    pieces = clinic.practitioner(loc, "09:00-12:00", "12:00-17:00")
    result = clinic.search(clinic.service(whole, pieces, duration=60))
    assert hhmm(s for s in result if s.practitioner_id == pieces.id) == hhmm(
        s for s in result if s.practitioner_id == whole.id
    )


def test_touching_opening_ranges_do_not_split_working_time(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location("08:00-12:00", "12:00-18:00"))
    assert hhmm(clinic.search(clinic.service(doc, duration=60))) == grid("09:00", "16:00")


def test_night_shift_offers_slots_across_midnight(clinic: Clinic) -> None:
    loc = clinic.location("00:00-24:00")
    night = WeeklyHours({0: ["20:00-24:00"], 1: ["00:00-04:00"]})
    doc = clinic.practitioner(loc, weekly=night)
    result = clinic.search(clinic.service(doc, duration=60), at("20:00"), at("04:00", TUESDAY))
    starts = [s.start for s in result]
    assert at("23:30") in starts
    assert len(starts) == (7 * 60) // 15 + 1


# --- sub-second instants ---------------------------------------------------------------------------


def test_no_slot_starts_before_a_sub_second_now(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location())
    now = at("10:00").add(microseconds=500_000)
    first = clinic.search(clinic.service(doc), now=now).first()[0]
    assert first.start >= now


def test_no_slot_starts_before_a_sub_second_window_start(clinic: Clinic) -> None:
    doc = clinic.practitioner(clinic.location())
    start = at("10:00").add(microseconds=1)
    first = clinic.search(clinic.service(doc), start, at("12:00")).first()[0]
    assert first.start >= start
