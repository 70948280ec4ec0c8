"""cb.staffing: demand counted from storage, the forecast, planning, and applying a plan."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs
import pendulum
import pytest

from carebook import (
    Actor,
    Carebook,
    CarebookConfig,
)
from carebook.builtin.clocks import ManualClock
from carebook.domain.events import CalendarChanged
from carebook.domain.ids import OrganisationId, PractitionerId
from carebook.domain.instants import Interval
from carebook.domain.scheduling.calendar import Location, Patient, Practitioner, Service
from carebook.domain.staffing.forecast import DemandKind
from carebook.domain.staffing.plan import StaffAvailability, StaffingPlan, StaffingRules
from carebook.domain.walkins.queue import CheckedIn, CheckIn
from carebook.errors import ForbiddenError, NotFoundError, ValidationError
from carebook.scheduling import (
    AvailabilityQuery,
    BookAppointment,
    CancelAppointment,
    PatientKind,
)
from carebook.testing.clinic import ClinicBuilder, open_carebook

ZONE = "Europe/London"
WEEK = dt.date(2026, 6, 1)  # a Monday: the week forecast and planned
HISTORY_WEEKS = 8
ADMIN = Actor.admin()


def local(date: dt.date, hour: int, minute: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(date.year, date.month, date.day, hour, minute, tz=ZONE)


@attrs.define
class Clinic:
    cb: Carebook
    clock: ManualClock
    org: OrganisationId
    north: Location
    south: Location
    ana: Practitioner
    ben: Practitioner
    visit: Service
    patients: list[Patient]


@pytest.fixture
def clinic() -> Clinic:
    first = WEEK - dt.timedelta(weeks=HISTORY_WEEKS)
    cb, clock = open_carebook(
        CarebookConfig(notifiers=(), dispatch="manual"), start=local(first, 7).subtract(days=1)
    )
    clinic = ClinicBuilder.create(
        cb, "Two Offices", min_notice=0, horizon_days=120, require_confirmation=False
    )
    hours = "08:00-20:00"
    north, south = (
        clinic.location(name, timezone=ZONE, hours=hours) for name in ("North", "South")
    )
    ana, ben = (clinic.practitioner(name, north, south, hours=hours) for name in ("Ana", "Ben"))
    visit = clinic.service("Visit", practitioners=[ana, ben], duration=60)
    patients = clinic.patients(4, kind=PatientKind.RETURNING)
    return Clinic(cb, clock, clinic.org.id, north, south, ana, ben, visit, patients)


def book(
    c: Clinic, location: Location, who: Practitioner, patient: Patient, start: pendulum.DateTime
) -> None:
    c.cb.booking.book(
        ADMIN,
        BookAppointment(
            location_id=location.id,
            practitioner_id=who.id,
            patient_id=patient.id,
            service_ids=(c.visit.id,),
            start=start,
            idempotency_key=uuid.uuid4().hex,
        ),
    )


def seed_history(c: Clinic) -> None:
    """Every Monday of the eight weeks: two visits at North at 09:00, one at South at
    13:00, and a cancelled one at South at 17:00 (not demand)."""
    for week in range(HISTORY_WEEKS, 0, -1):
        monday = WEEK - dt.timedelta(weeks=week)
        book(c, c.north, c.ana, c.patients[0], local(monday, 9))
        book(c, c.north, c.ben, c.patients[1], local(monday, 9))
        book(c, c.south, c.ana, c.patients[2], local(monday, 13))
        book(c, c.south, c.ben, c.patients[3], local(monday, 17))
        cancelled = c.cb.queries.patient_appointments(ADMIN, c.patients[3].id)[-1]
        c.cb.lifecycle.cancel(ADMIN, CancelAppointment(appointment_id=cancelled.id))


def test_demand_history_counts_bookings_and_walk_ins_once_and_skips_cancellations(
    clinic: Clinic,
) -> None:
    c = clinic
    seed_history(c)
    monday = WEEK - dt.timedelta(weeks=1)
    c.clock.set(local(monday, 10))
    c.cb.walkins.configure(ADMIN, c.north.id, service_id=c.visit.id)
    c.cb.walkins.on_duty(ADMIN, c.north.id, c.ana.id)
    walk_in = c.cb.walkins.check_in(
        ADMIN, CheckIn(location_id=c.north.id, patient_id=c.patients[2].id)
    )
    assert isinstance(walk_in, CheckedIn)

    records = c.cb.staffing.demand_history(
        ADMIN, c.org, start=local(monday, 0), end=local(monday, 23)
    )
    summary = sorted((r.location_id == c.north.id, r.at.hour, r.kind) for r in records)
    assert summary == [
        (False, 12, DemandKind.BOOKING),  # 13:00 London (BST) is 12:00 UTC
        (True, 8, DemandKind.BOOKING),
        (True, 8, DemandKind.BOOKING),
        (True, 9, DemandKind.WALK_IN),  # the walk-in's reservation is not counted again
    ]
    assert [r.at for r in records] == sorted(r.at for r in records)


def test_the_forecast_reads_the_stored_weekly_pattern(clinic: Clinic) -> None:
    c = clinic
    seed_history(c)
    c.clock.set(local(WEEK, 7))
    forecast = c.cb.staffing.forecast(ADMIN, c.org, week_start=WEEK)
    monday = 0
    assert forecast.rate(c.north.id, monday, 9) == pytest.approx(2.0, abs=0.25)
    assert forecast.rate(c.south.id, monday, 13) == pytest.approx(1.0, abs=0.25)
    assert forecast.rate(c.south.id, monday, 17) == pytest.approx(0.0, abs=0.25)  # cancelled
    assert forecast.rate(c.north.id, 2, 9) == pytest.approx(0.0, abs=0.25)  # Wednesdays


def plan_for_monday(c: Clinic) -> StaffingPlan:
    seed_history(c)
    c.clock.set(local(WEEK, 7).subtract(days=2))
    forecast = c.cb.staffing.forecast(ADMIN, c.org, week_start=WEEK)
    staff = [StaffAvailability.from_practitioner(p, max_hours=4) for p in (c.ana, c.ben)]
    rules = StaffingRules(block_hours=4, visit_minutes=60, max_locations_per_day=1)
    return c.cb.staffing.plan(
        ADMIN, c.org, dates=[WEEK], staff=staff, forecast=forecast, rules=rules
    )


def free_starts(c: Clinic, location: Location) -> set[tuple[PractitionerId, int]]:
    window = Interval(local(WEEK, 0), local(WEEK, 23))
    query = AvailabilityQuery(service_ids=(c.visit.id,), window=window, location_ids={location.id})
    return {
        (s.practitioner_id, s.start.in_tz(ZONE).hour)
        for s in c.cb.booking.search_availability(ADMIN, c.org, query)
    }


def test_applying_a_plan_writes_the_overrides_and_announces_each_practitioner(
    clinic: Clinic,
) -> None:
    c = clinic
    plan = plan_for_monday(c)
    assert plan.coverage_share == pytest.approx(1.0)
    worked = {(a.location_id, a.start_hour) for a in plan.assignments}
    assert worked == {(c.north.id, 8), (c.south.id, 12)}
    before = len(c.cb.events.pending(10_000))

    saved = c.cb.staffing.apply_plan(ADMIN, c.org, plan)

    assert {p.id for p in saved} == {c.ana.id, c.ben.id}
    at_north = {who for who, _ in free_starts(c, c.north)}
    at_south = {who for who, _ in free_starts(c, c.south)}
    assert len(at_north) == len(at_south) == 1 and at_north != at_south
    assert {h for _, h in free_starts(c, c.north)} == {8, 9, 10, 11}
    assert {h for _, h in free_starts(c, c.south)} == {12, 13, 14, 15}
    events = c.cb.events.pending(10_000)[before:]
    changed = [e for e in events if isinstance(e, CalendarChanged)]
    assert sorted(e.entity_id for e in changed) == sorted((c.ana.id, c.ben.id))
    assert {e.change for e in changed} == {"staffing_plan"}


@pytest.mark.parametrize(
    "actor",
    [Actor.staff(uuid.uuid4()), Actor.patient(uuid.uuid4())],  # type: ignore[arg-type]
    ids=["staff", "patient"],
)
def test_only_an_administrator_plans_or_applies_and_a_refusal_changes_nothing(
    clinic: Clinic, actor: Actor
) -> None:
    c = clinic
    plan = plan_for_monday(c)
    snapshot = (free_starts(c, c.north), free_starts(c, c.south), len(c.cb.events.pending(10_000)))
    with pytest.raises(ForbiddenError):
        c.cb.staffing.apply_plan(actor, c.org, plan)
    with pytest.raises(ForbiddenError):
        c.cb.staffing.forecast(actor, c.org, week_start=WEEK)
    with pytest.raises(ForbiddenError):
        c.cb.staffing.demand_history(actor, c.org, start=local(WEEK, 0), end=local(WEEK, 9))
    assert (
        free_starts(c, c.north),
        free_starts(c, c.south),
        len(c.cb.events.pending(10_000)),
    ) == snapshot


def test_bad_input_is_refused_and_changes_nothing(clinic: Clinic) -> None:
    c = clinic
    plan = plan_for_monday(c)
    snapshot = (free_starts(c, c.north), free_starts(c, c.south), len(c.cb.events.pending(10_000)))
    with pytest.raises(NotFoundError):
        c.cb.staffing.apply_plan(ADMIN, OrganisationId(uuid.uuid4()), plan)
    stranger = attrs.evolve(plan.problem.staff[0], practitioner_id=PractitionerId(uuid.uuid4()))
    foreign = attrs.evolve(plan, problem=attrs.evolve(plan.problem, staff=(stranger,)))
    with pytest.raises(NotFoundError):
        c.cb.staffing.apply_plan(ADMIN, c.org, foreign)
    with pytest.raises(ValidationError):
        c.cb.staffing.forecast(ADMIN, c.org, week_start=local(WEEK, 0))
    with pytest.raises(ValidationError):
        c.cb.staffing.demand_history(ADMIN, c.org, start=local(WEEK, 9), end=local(WEEK, 9))
    with pytest.raises(ValidationError):
        c.cb.staffing.demand_history(
            ADMIN, c.org, start=dt.datetime(2026, 6, 1), end=local(WEEK, 9)
        )
    assert (
        free_starts(c, c.north),
        free_starts(c, c.south),
        len(c.cb.events.pending(10_000)),
    ) == snapshot
