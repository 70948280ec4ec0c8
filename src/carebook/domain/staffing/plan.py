"""Staffing from demand: which practitioner works where, per block of hours.

Pure and deterministic. The day between ``day_start_hour`` and ``day_end_hour`` is cut into
blocks of ``block_hours`` (local wall-clock at each location). A *cell* is one location in
one block of one date; its demand is practitioner-hours (forecast arrivals per hour x
``visit_minutes`` / 60, summed over the block's hours), counted to the minute. A
practitioner working a block in a cell supplies ``block_hours`` of it.

**Objective.** Maximise covered demand, the sum over cells of min(demand, supplied
hours), subject to each practitioner's availability (blocks inside their weekly hours,
not on a day off), allowed locations, contracted maximum hours (whole blocks), one cell
per block, and at most ``max_locations_per_day`` distinct locations per practitioner per
date. Then, without giving up coverage: fewer extra locations per day ("moves"), and
contracted minimum hours met where possible.

**Algorithm** (``_staffing_flow``, ``_staffing_search``; docs/staffing.md):

1. Without the locations-per-day limit the problem is a flow with concave gains per cell,
   and since the gains sit on the cell side, the cell-units that can be staffed together
   form a matroid: the greedy algorithm (cell-units by falling gain, each kept if an
   augmenting path exists) is exact. Its value is an upper bound on every plan.
2. If that plan keeps the limit, it is optimal. Otherwise a heuristic plan that keeps the
   limit is built (the best of three starts, then a bounded local search; see
   ``_staffing_search``). Small instances (at most ``exact_slots`` practitioner-cell
   options) are then solved exactly by branch and bound over which locations each
   over-limit practitioner-day may use, each branch bounded by step 1 on its own
   restricted instance; larger ones keep the heuristic plan and report its gap to the
   bound of step 1.
3. Swaps within a block lower the moves; minimum hours are topped up last.
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Iterable, Mapping

from attrs import frozen

from carebook.domain.ids import LocationId, PractitionerId
from carebook.domain.scheduling.calendar import DateOverride, Practitioner, TimeRange
from carebook.domain.staffing import _polish as polish
from carebook.domain.staffing import _search as search
from carebook.domain.staffing._flow import Instance, State, coverage
from carebook.domain.staffing._problem import (
    StaffAvailability,
    StaffingCell,
    StaffingProblem,
    StaffingRules,
    merged,
)

__all__ = [
    "CellCoverage",
    "ShiftAssignment",
    "StaffAvailability",
    "StaffingCell",
    "StaffingPlan",
    "StaffingProblem",
    "StaffingRules",
    "greedy_staffing",
    "plan_staffing",
]


@frozen(kw_only=True, order=True)
class ShiftAssignment:
    """A practitioner works at a location in one block of one date."""

    practitioner_id: PractitionerId
    date: dt.date
    start_hour: int
    end_hour: int
    location_id: LocationId

    @property
    def cell(self) -> StaffingCell:
        return StaffingCell(
            location_id=self.location_id, date=self.date, start_hour=self.start_hour
        )


@frozen(kw_only=True)
class CellCoverage:
    """Demand, supply and coverage of one cell, in whole minutes."""

    cell: StaffingCell
    demand_minutes: int
    covered_minutes: int
    practitioners: int

    @property
    def uncovered_hours(self) -> float:
        return (self.demand_minutes - self.covered_minutes) / 60


@frozen(kw_only=True, eq=False)
class StaffingPlan:
    """Who works where per block, what it covers, and how close it is to the optimum.

    ``upper_bound_minutes`` is the best coverage any plan could reach as far as ``method``
    knows (the flow relaxation, or the total demand for the greedy baseline); ``optimal``
    is True when this plan is proved to reach the optimum. ``method`` is ``flow`` (the
    relaxation kept the limit), ``flow+local_search``, ``branch_and_bound`` or ``greedy``.
    ``min_hours_shortfall`` maps practitioners left under their minimum to the hours
    missing.
    """

    problem: StaffingProblem
    assignments: tuple[ShiftAssignment, ...]
    cells: tuple[CellCoverage, ...]
    demand_minutes: int
    covered_minutes: int
    upper_bound_minutes: int
    optimal: bool
    method: str
    moves: int
    min_hours_shortfall: Mapping[PractitionerId, int]

    @property
    def coverage_share(self) -> float:
        """Covered / forecast demand (1.0 when there is no demand)."""
        return self.covered_minutes / self.demand_minutes if self.demand_minutes else 1.0

    @property
    def bound_share(self) -> float:
        """Covered / upper bound: 1.0 means no plan can cover more."""
        return self.covered_minutes / self.upper_bound_minutes if self.upper_bound_minutes else 1.0

    def hours_of(self, practitioner_id: PractitionerId) -> int:
        """Hours planned for one practitioner over the horizon."""
        return sum(
            a.end_hour - a.start_hour
            for a in self.assignments
            if a.practitioner_id == practitioner_id
        )

    def working_plan_overrides(
        self, practitioners: Iterable[Practitioner] = ()
    ) -> dict[PractitionerId, tuple[DateOverride, ...]]:
        """Per planned practitioner, one ``DateOverride`` per date and location: the
        planned blocks (touching ones merged), or a day off there.

        When the ``Practitioner`` values are passed, the locations of their current plans
        are covered too (so no old plan stays in force on a planned date), and the breaks
        of their plan at a location are kept out of the blocks planned there."""
        known = {p.id: p for p in practitioners}
        worked: dict[tuple[PractitionerId, LocationId, dt.date], list[tuple[int, int]]] = {}
        for a in self.assignments:
            key = (a.practitioner_id, a.location_id, a.date)
            worked.setdefault(key, []).append((a.start_hour * 60, a.end_hour * 60))
        out: dict[PractitionerId, tuple[DateOverride, ...]] = {}
        for member in self.problem.staff:
            pid = member.practitioner_id
            current = known.get(pid)
            locations = set(member.location_ids)
            if current is not None:
                locations |= current.location_ids
            days = []
            for date in sorted(self.problem.dates):
                for loc in sorted(locations):
                    plan = current.plan_at(loc) if current is not None else None
                    breaks = plan.breaks.minutes[date.weekday()] if plan is not None else ()
                    spans = _without(merged(worked.get((pid, loc, date), [])), breaks)
                    ranges = [TimeRange(s, e) for s, e in spans]
                    days.append(DateOverride(location_id=loc, date=date, ranges=ranges))
            out[pid] = tuple(days)
        return out


def _without(
    spans: Iterable[tuple[int, int]], cuts: Iterable[tuple[int, int]]
) -> list[tuple[int, int]]:
    """``spans`` minus ``cuts`` (minutes of one day)."""
    pieces = list(spans)
    for cut_start, cut_end in cuts:
        pieces = [
            piece
            for s, e in pieces
            for piece in ((s, min(e, cut_start)), (max(s, cut_end), e))
            if piece[0] < piece[1]
        ]
    return pieces


def _instance(problem: StaffingProblem) -> Instance:
    rules = problem.rules
    starts = rules.block_starts
    loc_index = {loc: i for i, loc in enumerate(problem.location_ids)}
    n_loc = len(loc_index)
    need = [0] * (n_loc * len(problem.dates) * len(starts))
    for d, date in enumerate(problem.dates):
        for b, start in enumerate(starts):
            for loc, i in loc_index.items():
                cell = StaffingCell(location_id=loc, date=date, start_hour=start)
                need[(d * len(starts) + b) * n_loc + i] = round(problem.demand.get(cell, 0.0) * 60)
    eligible: list[list[int]] = [[] for _ in need]
    for p, member in enumerate(problem.staff):
        for d, date in enumerate(problem.dates):
            for b, start in enumerate(starts):
                if member.can_work(date, start, start + rules.block_hours):
                    for loc in member.location_ids:
                        eligible[(d * len(starts) + b) * n_loc + loc_index[loc]].append(p)
    budget = [m.max_hours // rules.block_hours for m in problem.staff]
    return Instance(
        locations=n_loc,
        layers=len(problem.dates) * len(starts),
        blocks_per_day=len(starts),
        cap=rules.block_hours * 60,
        need=need,
        budget=budget,
        minimum=[
            min(-(-m.min_hours // rules.block_hours), b)
            for m, b in zip(problem.staff, budget, strict=True)
        ],
        eligible=eligible,
    )


def _plan(
    problem: StaffingProblem, inst: Instance, state: State, bound: int, optimal: bool, method: str
) -> StaffingPlan:
    rules, starts = problem.rules, problem.rules.block_starts
    where = [
        (problem.dates[t // len(starts)], starts[t % len(starts)], problem.location_ids[loc])
        for t in range(inst.layers)
        for loc in range(inst.locations)
    ]
    assignments = sorted(
        ShiftAssignment(
            practitioner_id=problem.staff[p].practitioner_id,
            date=where[cell][0],
            start_hour=where[cell][1],
            end_hour=where[cell][1] + rules.block_hours,
            location_id=where[cell][2],
        )
        for p, row in enumerate(state.at)
        for cell in row
        if cell >= 0
    )
    cells = tuple(
        CellCoverage(
            cell=StaffingCell(location_id=loc, date=date, start_hour=start),
            demand_minutes=inst.need[c],
            covered_minutes=min(inst.need[c], inst.cap * state.count[c]),
            practitioners=state.count[c],
        )
        for c, (date, start, loc) in enumerate(where)
    )
    covered = coverage(inst, state)
    shortfall = {
        problem.staff[p].practitioner_id: problem.staff[p].min_hours - used * rules.block_hours
        for p, used in enumerate(state.used)
        if used * rules.block_hours < problem.staff[p].min_hours
    }
    return StaffingPlan(
        problem=problem,
        assignments=tuple(assignments),
        cells=cells,
        demand_minutes=sum(inst.need),
        covered_minutes=covered,
        upper_bound_minutes=max(bound, covered),
        optimal=optimal or covered == bound,
        method=method,
        moves=polish.moves(state),
        min_hours_shortfall=types.MappingProxyType(shortfall),
    )


def plan_staffing(
    problem: StaffingProblem,
    *,
    exact_slots: int = 300,
    node_limit: int = 5_000,
    local_search_tries: int = 150,
) -> StaffingPlan:
    """The plan with the most covered demand (see the module docstring for the method).

    When the flow relaxation's plan breaks the locations-per-day limit, a heuristic plan
    that keeps it is improved by at most ``local_search_tries`` local-search moves; then
    instances with at most ``exact_slots`` (practitioner, cell) options are solved by
    branch and bound (at most ``node_limit`` nodes). ``plan.optimal`` says whether the
    optimum was proved, ``plan.upper_bound_minutes`` bounds it otherwise.
    """
    inst = _instance(problem)
    limit = problem.rules.max_locations_per_day
    solution = search.solve(
        inst, limit, exact_slots=exact_slots, node_limit=node_limit, tries=local_search_tries
    )
    state = polish.fewer_moves(inst, solution.state, limit)
    state = polish.pad_minimums(inst, state, limit)
    return _plan(problem, inst, state, solution.upper_bound, solution.optimal, solution.method)


def greedy_staffing(problem: StaffingProblem) -> StaffingPlan:
    """The simple baseline: the cell with the most unmet demand first, any free
    practitioner who may work there. Its bound is the total demand."""
    inst = _instance(problem)
    state = search.greedy(inst, problem.rules.max_locations_per_day)
    return _plan(problem, inst, state, sum(inst.need), False, "greedy")
