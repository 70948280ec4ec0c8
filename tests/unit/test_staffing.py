"""The staffing plan: exact on small instances, valid always, at least as good as greedy.

The oracle for exactness is independent of the planner: it enumerates every assignment
of every practitioner to (nothing or one allowed location) in every block. For speed it
walks the blocks in order and merges partial assignments that agree on everything the
rest of the plan can see (blocks used so far and the current day's locations per
practitioner), keeping the best coverage of each; a literal brute force over the
Cartesian product checks that oracle on the tiniest instances.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from carebook.domain.ids import LocationId, OrganisationId, PractitionerId
from carebook.domain.scheduling.calendar import (
    DateOverride,
    Practitioner,
    TimeRange,
    WeeklyHours,
    WorkingPlan,
)
from carebook.domain.staffing.forecast import DemandForecast
from carebook.domain.staffing.plan import (
    StaffAvailability,
    StaffingCell,
    StaffingPlan,
    StaffingProblem,
    StaffingRules,
    greedy_staffing,
    plan_staffing,
)
from carebook.errors import ValidationError
from carebook.testing.demand import synthetic_history, synthetic_staff

MONDAY = dt.date(2026, 6, 1)
L1, L2, L3 = (LocationId(uuid.UUID(int=n)) for n in (101, 102, 103))
P = [PractitionerId(uuid.UUID(int=n)) for n in range(1, 10)]
ALL_DAY = WeeklyHours.every_day("00:00-24:00")


def member(
    n: int,
    *locations: LocationId,
    max_hours: int = 40,
    hours: WeeklyHours = ALL_DAY,
    min_hours: int = 0,
    days_off: frozenset[dt.date] = frozenset(),
) -> StaffAvailability:
    return StaffAvailability(
        practitioner_id=P[n],
        location_ids=locations,
        hours=hours,
        max_hours=max_hours,
        min_hours=min_hours,
        days_off=days_off,
    )


def cell(location: LocationId, start: int, date: dt.date = MONDAY) -> StaffingCell:
    return StaffingCell(location_id=location, date=date, start_hour=start)


# -- an independent exhaustive oracle ----------------------------------------------------


def _options(problem: StaffingProblem) -> list[list[list[LocationId | None]]]:
    """Per practitioner, per block (date-major), the choices: off or an allowed location."""
    rules = problem.rules
    out = []
    for m in problem.staff:
        per_block: list[list[LocationId | None]] = []
        for date in problem.dates:
            for start in rules.block_starts:
                ok = m.can_work(date, start, start + rules.block_hours)
                per_block.append([None, *sorted(m.location_ids)] if ok else [None])
        out.append(per_block)
    return out


def _blocks(problem: StaffingProblem) -> list[tuple[dt.date, int]]:
    return [(d, s) for d in problem.dates for s in problem.rules.block_starts]


def _need(problem: StaffingProblem, location: LocationId, date: dt.date, start: int) -> int:
    return round(problem.demand.get(cell(location, start, date), 0.0) * 60)


def _block_value(
    problem: StaffingProblem, date: dt.date, start: int, chosen: Sequence[LocationId | None]
) -> int:
    cap = problem.rules.block_hours * 60
    return sum(
        min(_need(problem, loc, date, start), cap * chosen.count(loc))
        for loc in problem.location_ids
    )


def exhaustive_optimum(problem: StaffingProblem) -> int:
    """Best coverage over every assignment (states merged when the future cannot tell
    them apart: blocks used per practitioner, and the current day's location sets)."""
    rules, options = problem.rules, _options(problem)
    budgets = [m.max_hours // rules.block_hours for m in problem.staff]
    states: dict[tuple[tuple[int, ...], tuple[frozenset[LocationId], ...]], int] = {
        (tuple(0 for _ in budgets), tuple(frozenset() for _ in budgets)): 0
    }
    for i, (date, start) in enumerate(_blocks(problem)):
        new_day = start == rules.day_start_hour
        nxt: dict[tuple[tuple[int, ...], tuple[frozenset[LocationId], ...]], int] = {}
        for (used, today), value in states.items():
            if new_day:
                today = tuple(frozenset() for _ in budgets)
            for chosen in itertools.product(*(opts[i] for opts in options)):
                new_used = tuple(u + (c is not None) for u, c in zip(used, chosen, strict=True))
                if any(u > b for u, b in zip(new_used, budgets, strict=True)):
                    continue
                new_today = tuple(
                    t | {c} if c is not None else t for t, c in zip(today, chosen, strict=True)
                )
                if any(len(t) > rules.max_locations_per_day for t in new_today):
                    continue
                key = (new_used, new_today)
                total = value + _block_value(problem, date, start, chosen)
                if nxt.get(key, -1) < total:
                    nxt[key] = total
        states = nxt
    return max(states.values())


def brute_force_optimum(problem: StaffingProblem) -> int:
    """The literal Cartesian product of every practitioner's every choice in every block."""
    rules, options, blocks = problem.rules, _options(problem), _blocks(problem)
    budgets = [m.max_hours // rules.block_hours for m in problem.staff]
    best = 0
    for plan in itertools.product(*(itertools.product(*per_block) for per_block in options)):
        if any(sum(c is not None for c in row) > b for row, b in zip(plan, budgets, strict=True)):
            continue
        ok = all(
            len({row[i] for i, (d, _) in enumerate(blocks) if d == date and row[i] is not None})
            <= rules.max_locations_per_day
            for row in plan
            for date in problem.dates
        )
        if ok:
            best = max(
                best,
                sum(
                    _block_value(problem, d, s, [row[i] for row in plan])
                    for i, (d, s) in enumerate(blocks)
                ),
            )
    return best


def assert_valid(plan: StaffingPlan) -> None:
    """Every constraint of the problem holds, and the reported numbers add up."""
    problem, rules = plan.problem, plan.problem.rules
    staff = {m.practitioner_id: m for m in problem.staff}
    seen: set[tuple[PractitionerId, dt.date, int]] = set()
    per_day: dict[tuple[PractitionerId, dt.date], set[LocationId]] = {}
    for a in plan.assignments:
        m = staff[a.practitioner_id]
        assert a.location_id in m.location_ids
        assert a.end_hour - a.start_hour == rules.block_hours
        assert m.can_work(a.date, a.start_hour, a.end_hour)
        assert (a.practitioner_id, a.date, a.start_hour) not in seen, "two places at once"
        seen.add((a.practitioner_id, a.date, a.start_hour))
        per_day.setdefault((a.practitioner_id, a.date), set()).add(a.location_id)
    assert all(len(locs) <= rules.max_locations_per_day for locs in per_day.values())
    for pid, m in staff.items():
        assert plan.hours_of(pid) <= m.max_hours
    assert plan.moves == sum(len(locs) - 1 for locs in per_day.values())
    cap = rules.block_hours * 60
    for c in plan.cells:
        count = sum(1 for a in plan.assignments if a.cell == c.cell)
        assert c.practitioners == count
        assert c.covered_minutes == min(c.demand_minutes, cap * count)
    assert plan.covered_minutes == sum(c.covered_minutes for c in plan.cells)
    assert plan.covered_minutes <= plan.upper_bound_minutes <= plan.demand_minutes


# -- Hypothesis: tiny instances ----------------------------------------------------------


@st.composite
def tiny_problems(
    draw: st.DrawFn, max_practitioners: int = 3, roaming: bool = False
) -> StaffingProblem:
    n_dates = draw(st.integers(1, 2))
    n_blocks = draw(st.integers(2, 3))
    block_hours = draw(st.sampled_from([2, 4]))
    rules = StaffingRules(
        block_hours=block_hours,
        day_start_hour=8,
        day_end_hour=8 + n_blocks * block_hours,
        max_locations_per_day=1 if roaming else draw(st.integers(1, 2)),
    )
    dates = [MONDAY + dt.timedelta(days=d) for d in range(n_dates)]
    locations = [L1, L2]
    demand = {
        cell(loc, start, date): draw(st.integers(0, 3 * block_hours * 60)) / 60
        for loc in locations
        for date in dates
        for start in rules.block_starts
    }
    staff = []
    for n in range(draw(st.integers(2, max_practitioners))):
        allowed = (L1, L2) if roaming else draw(st.sampled_from([(L1,), (L2,), (L1, L2)]))
        days: dict[int, list[TimeRange]] = {}
        for date in dates:
            for start in rules.block_starts:
                if draw(st.booleans()) or draw(st.booleans()):
                    days.setdefault(date.weekday(), []).append(
                        TimeRange(start * 60, (start + block_hours) * 60)
                    )
        max_blocks = draw(st.integers(0, n_dates * n_blocks))
        staff.append(
            member(n, *allowed, max_hours=max_blocks * block_hours, hours=WeeklyHours(days))
        )
    return StaffingProblem(
        dates=dates, location_ids=locations, demand=demand, staff=staff, rules=rules
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(tiny_problems(), tiny_problems(roaming=True)))
def test_plan_coverage_equals_the_exhaustive_optimum_on_tiny_instances(
    problem: StaffingProblem,
) -> None:
    """Half the instances let everyone roam under a one-office-per-day limit, so the
    relaxation often breaks the limit and branch and bound has to prove the optimum."""
    plan = plan_staffing(problem)
    event(f"method={plan.method}")
    assert_valid(plan)
    optimum = exhaustive_optimum(problem)
    assert plan.covered_minutes == optimum
    assert plan.optimal
    assert plan.upper_bound_minutes == optimum
    greedy = greedy_staffing(problem)
    assert_valid(greedy)
    assert greedy.covered_minutes <= optimum


@settings(max_examples=30, deadline=None)
@given(
    tiny_problems(max_practitioners=2).filter(
        lambda p: len(p.dates) * len(p.rules.block_starts) <= 4
    )
)
def test_the_exhaustive_oracle_agrees_with_a_literal_brute_force(problem: StaffingProblem) -> None:
    assert exhaustive_optimum(problem) == brute_force_optimum(problem)


@st.composite
def small_problems(draw: st.DrawFn) -> StaffingProblem:
    """Beyond exhaustive reach: 3-4 locations, 4-10 practitioners, 2-3 dates."""
    locations = [L1, L2, L3, LocationId(uuid.UUID(int=104))][: draw(st.integers(3, 4))]
    rules = StaffingRules(
        block_hours=2,
        day_start_hour=8,
        day_end_hour=16,
        max_locations_per_day=draw(st.integers(1, 2)),
    )
    dates = [MONDAY + dt.timedelta(days=d) for d in range(draw(st.integers(2, 3)))]
    demand = {
        cell(loc, start, date): draw(st.integers(0, 480)) / 60
        for loc in locations
        for date in dates
        for start in rules.block_starts
    }
    staff = []
    for n in range(draw(st.integers(4, 9))):
        allowed = draw(st.lists(st.sampled_from(locations), min_size=1, max_size=3, unique=True))
        start = draw(st.sampled_from([8, 10, 12]))
        hours = WeeklyHours.every_day(TimeRange(start * 60, 16 * 60), weekdays=range(5))
        max_hours = draw(st.sampled_from([2, 4, 8, 12, 24]))
        min_hours = draw(st.sampled_from([0, 0, 2, max_hours]))
        staff.append(member(n, *allowed, max_hours=max_hours, min_hours=min_hours, hours=hours))
    return StaffingProblem(
        dates=dates, location_ids=locations, demand=demand, staff=staff, rules=rules
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_plans_beyond_exhaustive_reach_are_valid_bounded_and_beat_greedy(
    problem: StaffingProblem,
) -> None:
    plan, greedy = plan_staffing(problem, exact_slots=0), greedy_staffing(problem)
    event(f"method={plan.method}")
    assert_valid(plan)
    assert_valid(greedy)
    assert greedy.covered_minutes <= plan.covered_minutes <= plan.upper_bound_minutes
    for m in problem.staff:
        short = max(0, m.min_hours - plan.hours_of(m.practitioner_id))
        assert plan.min_hours_shortfall.get(m.practitioner_id, 0) == short


# -- worked examples ---------------------------------------------------------------------

RULES_2H = StaffingRules(block_hours=2, day_start_hour=8, day_end_hour=12, max_locations_per_day=1)


def test_the_plan_moves_a_flexible_practitioner_where_greedy_leaves_a_gap() -> None:
    """P0 may work at either office, P1 only at L1. Greedy gives L1 to P0 (first found)
    and strands P1; the plan sends P0 to L2."""
    problem = StaffingProblem(
        dates=[MONDAY],
        location_ids=[L1, L2],
        demand={cell(L1, 8): 2.0, cell(L2, 8): 2.0},
        staff=[member(0, L1, L2), member(1, L1)],
        rules=RULES_2H,
    )
    plan, greedy = plan_staffing(problem), greedy_staffing(problem)
    assert plan.covered_minutes == 240 and plan.coverage_share == 1.0 and plan.optimal
    assert greedy.covered_minutes == 120
    assert {(a.practitioner_id, a.location_id) for a in plan.assignments} == {
        (P[0], L2),
        (P[1], L1),
    }


def test_one_location_per_day_keeps_a_practitioner_at_one_office() -> None:
    problem = StaffingProblem(
        dates=[MONDAY],
        location_ids=[L1, L2],
        demand={cell(L1, 8): 2.0, cell(L2, 10): 1.5},
        staff=[member(0, L1, L2)],
        rules=RULES_2H,
    )
    plan = plan_staffing(problem)
    assert [(a.location_id, a.start_hour) for a in plan.assignments] == [(L1, 8)]
    assert plan.covered_minutes == 120 and plan.optimal and plan.moves == 0
    relaxed = plan_staffing(
        StaffingProblem(
            dates=problem.dates,
            location_ids=problem.location_ids,
            demand=problem.demand,
            staff=problem.staff,
            rules=StaffingRules(block_hours=2, day_start_hour=8, day_end_hour=12),
        )
    )
    assert relaxed.covered_minutes == 210 and relaxed.moves == 1


def test_branch_and_bound_proves_the_optimum_when_the_relaxation_breaks_the_limit() -> None:
    """Two practitioners, both offices, K = 1: the relaxation mixes offices on one day."""
    problem = StaffingProblem(
        dates=[MONDAY],
        location_ids=[L1, L2],
        demand={cell(L1, 8): 4.0, cell(L2, 10): 4.0, cell(L1, 10): 0.5, cell(L2, 8): 0.5},
        staff=[member(0, L1, L2), member(1, L1, L2)],
        rules=RULES_2H,
    )
    plan = plan_staffing(problem)
    assert_valid(plan)
    # The relaxation puts both at L1 at 08:00 and both at L2 at 10:00 (480 minutes).
    assert plan.upper_bound_minutes == plan.covered_minutes == exhaustive_optimum(problem) == 300
    assert plan.method == "branch_and_bound" and plan.optimal


def test_contracted_hours_cap_the_plan_and_the_minimum_is_topped_up() -> None:
    rules = StaffingRules(block_hours=2, day_start_hour=8, day_end_hour=16)
    problem = StaffingProblem(
        dates=[MONDAY],
        location_ids=[L1],
        demand={cell(L1, 8): 10.0},
        staff=[member(0, L1, max_hours=4), member(1, L1, max_hours=8, min_hours=6)],
        rules=rules,
    )
    plan = plan_staffing(problem)
    assert_valid(plan)
    assert plan.hours_of(P[0]) <= 4
    assert plan.hours_of(P[1]) == 6  # one block covers demand, two more meet the minimum
    assert plan.covered_minutes == 240 and plan.min_hours_shortfall == {}


def test_an_unreachable_minimum_is_reported_as_a_shortfall() -> None:
    morning = WeeklyHours.every_day("08:00-10:00")
    problem = StaffingProblem(
        dates=[MONDAY],
        location_ids=[L1],
        demand={},
        staff=[member(0, L1, max_hours=8, min_hours=6, hours=morning)],
        rules=StaffingRules(block_hours=2, day_start_hour=8, day_end_hour=16),
    )
    plan = plan_staffing(problem)
    assert plan.hours_of(P[0]) == 2
    assert plan.min_hours_shortfall == {P[0]: 4}
    assert plan.coverage_share == 1.0  # no demand is fully covered


def test_days_off_and_weekly_hours_limit_the_blocks() -> None:
    tuesday = MONDAY + dt.timedelta(days=1)
    problem = StaffingProblem(
        dates=[MONDAY, tuesday],
        location_ids=[L1],
        demand={cell(L1, 8, d): 4.0 for d in (MONDAY, tuesday)} | {cell(L1, 10, MONDAY): 2.0},
        staff=[
            member(
                0, L1, hours=WeeklyHours.every_day("08:00-10:00"), days_off=frozenset({tuesday})
            ),
        ],
        rules=RULES_2H,
    )
    plan = plan_staffing(problem)
    assert [(a.date, a.start_hour) for a in plan.assignments] == [(MONDAY, 8)]


def test_working_plan_overrides_merge_blocks_and_give_days_off_elsewhere() -> None:
    rules = StaffingRules(block_hours=2, day_start_hour=8, day_end_hour=14, max_locations_per_day=2)
    problem = StaffingProblem(
        dates=[MONDAY],
        location_ids=[L1, L2, L3],
        demand={cell(L1, 8): 2.0, cell(L1, 10): 2.0, cell(L2, 12): 2.0},
        staff=[member(0, L1, L2)],
        rules=rules,
    )
    plan = plan_staffing(problem)
    current = Practitioner(
        id=P[0],
        organisation_id=OrganisationId(uuid.UUID(int=9)),
        name="Dr Plan",
        plans=[WorkingPlan(location_id=L3, hours=WeeklyHours.every_day("09:00-17:00"))],
    )
    overrides = plan.working_plan_overrides([current])
    assert overrides == {
        P[0]: (
            DateOverride(location_id=L1, date=MONDAY, ranges=[TimeRange.parse("08:00-12:00")]),
            DateOverride(location_id=L2, date=MONDAY, ranges=[TimeRange.parse("12:00-14:00")]),
            DateOverride(location_id=L3, date=MONDAY, ranges=[]),
        )
    }
    assert plan.working_plan_overrides()[P[0]][:2] == overrides[P[0]][:2]


def test_overrides_keep_the_breaks_of_the_plan_at_that_location() -> None:
    rules = StaffingRules(block_hours=2, day_start_hour=10, day_end_hour=14)
    problem = StaffingProblem(
        dates=[MONDAY],
        location_ids=[L1],
        demand={cell(L1, 10): 2.0, cell(L1, 12): 2.0},
        staff=[member(0, L1)],
        rules=rules,
    )
    current = Practitioner(
        id=P[0],
        organisation_id=OrganisationId(uuid.UUID(int=9)),
        name="Dr Break",
        plans=[
            WorkingPlan(
                location_id=L1,
                hours=WeeklyHours.every_day("09:00-17:00"),
                breaks=WeeklyHours.every_day("12:00-13:00"),
            )
        ],
    )
    (override,) = plan_staffing(problem).working_plan_overrides([current])[P[0]]
    assert [str(r) for r in override.ranges] == ["10:00-12:00", "13:00-14:00"]


def test_availability_from_a_practitioners_plans() -> None:
    current = Practitioner(
        id=P[0],
        organisation_id=OrganisationId(uuid.UUID(int=9)),
        name="Dr Two Offices",
        plans=[
            WorkingPlan(
                location_id=L1,
                hours=WeeklyHours.every_day("08:00-12:00", weekdays=[0]),
                breaks=WeeklyHours.every_day("10:00-10:30", weekdays=[0]),
            ),
            WorkingPlan(
                location_id=L2, hours=WeeklyHours.every_day("12:00-16:00", weekdays=[0, 1])
            ),
        ],
    )
    member_ = StaffAvailability.from_practitioner(current, max_hours=16)
    assert member_.location_ids == {L1, L2}
    assert member_.hours.on(0) == (TimeRange.parse("08:00-16:00"),)  # merged, break kept in
    assert member_.hours.on(1) == (TimeRange.parse("12:00-16:00"),)
    assert member_.can_work(MONDAY, 8, 16)
    assert not member_.can_work(MONDAY + dt.timedelta(days=1), 8, 12)
    only_l2 = StaffAvailability.from_practitioner(current, max_hours=8, location_ids=[L2])
    assert only_l2.location_ids == {L2} and only_l2.max_hours == 8


def test_demand_from_a_forecast_is_arrivals_times_visit_minutes() -> None:
    rates = {(L1, MONDAY.weekday(), hour): 3.0 for hour in range(8, 12)}
    forecast = DemandForecast(week_start=MONDAY, rates=rates)
    rules = StaffingRules(block_hours=4, day_start_hour=8, day_end_hour=16, visit_minutes=30)
    problem = StaffingProblem.from_forecast(forecast, dates=[MONDAY], staff=[], rules=rules)
    assert problem.location_ids == (L1,)
    assert problem.demand == {cell(L1, 8): 6.0, cell(L1, 12): 0.0}


# -- larger instances --------------------------------------------------------------------


def test_a_larger_plan_is_valid_deterministic_and_covers_at_least_the_greedy_share() -> None:
    history = synthetic_history(seed=3, locations=6, weeks=4)
    from carebook.domain.staffing.forecast import forecast_demand

    week = history.week_start(4)
    forecast = forecast_demand(history.records, timezones=history.timezones, week_start=week)
    staff = synthetic_staff(seed=3, location_ids=history.location_ids, practitioners=24)
    rules = StaffingRules(block_hours=2, visit_minutes=45)
    problem = StaffingProblem.from_forecast(
        forecast, dates=[week + dt.timedelta(days=d) for d in range(7)], staff=staff, rules=rules
    )
    plan, again, greedy = plan_staffing(problem), plan_staffing(problem), greedy_staffing(problem)
    assert_valid(plan)
    assert_valid(greedy)
    assert plan.assignments == again.assignments
    assert plan.covered_minutes >= greedy.covered_minutes
    assert plan.bound_share >= 0.99
    assert 0 < plan.coverage_share <= 1


# -- bad input ---------------------------------------------------------------------------


def test_negative_demand_is_refused_and_the_input_is_unchanged() -> None:
    demand = {cell(L1, 8): -1.0}
    with pytest.raises(ValidationError, match="negative"):
        StaffingProblem(dates=[MONDAY], location_ids=[L1], demand=demand, staff=[], rules=RULES_2H)
    assert demand == {cell(L1, 8): -1.0}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "2", True])
def test_demand_must_be_a_finite_number(bad: object) -> None:
    with pytest.raises(ValidationError):
        StaffingProblem(
            dates=[MONDAY],
            location_ids=[L1],
            demand={cell(L1, 8): bad},  # type: ignore[dict-item]
            staff=[],
        )


def test_an_unknown_location_in_availability_is_refused() -> None:
    staff = [member(0, L1, L2)]
    with pytest.raises(ValidationError, match="unknown location"):
        StaffingProblem(dates=[MONDAY], location_ids=[L1], demand={}, staff=staff)
    assert staff[0].location_ids == {L1, L2}


def test_demand_outside_the_plan_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown location"):
        StaffingProblem(dates=[MONDAY], location_ids=[L1], demand={cell(L2, 8): 1.0}, staff=[])
    with pytest.raises(ValidationError, match="not a block"):
        StaffingProblem(dates=[MONDAY], location_ids=[L1], demand={cell(L1, 9): 1.0}, staff=[])
    with pytest.raises(ValidationError, match="not a block"):
        StaffingProblem(
            dates=[MONDAY],
            location_ids=[L1],
            demand={cell(L1, 8, dt.date(2027, 1, 1)): 1.0},
            staff=[],
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"block_hours": 5}, "block_hours must divide"),
        ({"block_hours": 3, "day_start_hour": 8, "day_end_hour": 18}, "block_hours must divide"),
        ({"block_hours": 0}, "block_hours"),
        ({"max_locations_per_day": 0}, "max_locations_per_day"),
        ({"day_start_hour": 12, "day_end_hour": 10}, "end after"),
        ({"visit_minutes": 0}, "visit_minutes"),
    ],
)
def test_bad_rules_are_refused(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        StaffingRules(**kwargs)


def test_bad_availability_and_problem_shapes_are_refused() -> None:
    with pytest.raises(ValidationError, match="at least one location"):
        member(0)
    with pytest.raises(ValidationError, match="min_hours"):
        member(0, L1, max_hours=4, min_hours=8)
    with pytest.raises(ValidationError, match="max_hours"):
        member(0, L1, max_hours=-1)
    with pytest.raises(ValidationError, match="twice"):
        StaffingProblem(dates=[MONDAY], location_ids=[L1], demand={}, staff=[member(0, L1)] * 2)
    with pytest.raises(ValidationError, match="once"):
        StaffingProblem(dates=[MONDAY, MONDAY], location_ids=[L1], demand={}, staff=[])
    with pytest.raises(ValidationError, match="at least one date"):
        StaffingProblem(dates=[], location_ids=[L1], demand={}, staff=[])
    with pytest.raises(ValidationError, match="not datetimes"):
        StaffingProblem(dates=[dt.datetime(2026, 6, 1)], location_ids=[L1], demand={}, staff=[])


def test_the_problem_keeps_its_own_copy_of_the_demand() -> None:
    demand = {cell(L1, 8): 1.0}
    problem = StaffingProblem(
        dates=[MONDAY], location_ids=[L1], demand=demand, staff=[], rules=RULES_2H
    )
    demand[cell(L1, 8)] = 5.0
    assert problem.demand[cell(L1, 8)] == 1.0
    with pytest.raises(TypeError):
        problem.demand[cell(L1, 8)] = 2.0  # type: ignore[index]
