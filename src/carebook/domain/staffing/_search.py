"""The staffing solver around the flow core: the locations-per-day limit.

- :func:`solve` first maximises coverage without the locations-per-day limit (exact, see
  ``_staffing_flow``). That value bounds every plan from above; a plan that keeps the
  limit and reaches it is optimal.
- If the relaxed plan breaks the limit, small instances are solved by branch and bound:
  pick a practitioner-day over the limit, branch on which ``limit`` of its locations it
  may use (every feasible plan keeps within one such subset), bound each branch by its
  own exact relaxation, prune branches that cannot beat the best plan found.
- Before that, and instead of it on large instances, a heuristic plan that keeps the
  limit: the best of three starts (the relaxed plan with each over-limit day cut to its
  busiest locations and re-maximised along limit-keeping paths; the relaxed plan
  re-solved exactly with those days pinned to their busiest locations, repeated until
  no day breaks the limit; the greedy baseline, re-maximised), improved by a bounded
  local search that moves one practitioner-day to another location with unmet demand.
"""

from __future__ import annotations

import heapq
import itertools

import attrs

from carebook.domain.staffing._flow import Instance, State, coverage, maximise

__all__ = ["Solution", "greedy", "solve"]


@attrs.frozen
class Solution:
    state: State
    upper_bound: int
    optimal: bool
    method: str


def _violation(state: State, limit: int) -> tuple[int, int] | None:
    for p, days in enumerate(state.day_locations):
        for day in sorted(days):
            if len(days[day]) > limit:
                return p, day
    return None


def _day_locations(inst: Instance, p: int, day: int) -> list[int]:
    """Locations where ``p`` could work on ``day``, in the instance as given."""
    first = day * inst.blocks_per_day * inst.locations
    cells = range(first, first + inst.blocks_per_day * inst.locations)
    return sorted({inst.location(c) for c in cells if p in inst.eligible[c]})


def _branch_and_bound(
    inst: Instance, limit: int, incumbent: State, node_limit: int
) -> tuple[State, bool]:
    best, best_value = incumbent, coverage(inst, incumbent)
    stack: list[dict[tuple[int, int], frozenset[int]]] = [{}]
    nodes = 0
    while stack:
        nodes += 1
        if nodes > node_limit:
            return best, False
        allowed = stack.pop()
        restricted = inst.restricted(allowed)
        state = maximise(restricted, prefer=limit)
        value = coverage(inst, state)
        if value <= best_value:
            continue  # this branch cannot beat the best plan so far
        broken = _violation(state, limit)
        if broken is None:
            best, best_value = state, value
            continue
        p, day = broken
        used = state.locations_on(p, day)
        options = _day_locations(restricted, p, day)
        subsets = sorted(
            itertools.combinations(options, limit),
            key=lambda s: (-sum(used.get(loc, 0) for loc in s), s),
        )
        stack.extend({**allowed, (p, day): frozenset(s)} for s in reversed(subsets))
    return best, True


def _repair(inst: Instance, relaxed: State, limit: int) -> State:
    state = relaxed.copy()
    for p, days in enumerate(state.day_locations):
        for day, where in list(days.items()):
            if len(where) <= limit:
                continue
            keep = sorted(where, key=lambda loc: (-where[loc], loc))[:limit]
            for cell in list(state.at[p]):
                if cell >= 0 and inst.day(cell) == day and inst.location(cell) not in keep:
                    state.leave(inst, p, cell)
    return maximise(inst, state, limit)


def _restrict(inst: Instance, relaxed: State, limit: int, rounds: int = 30) -> State | None:
    """Pin each over-limit practitioner-day to its busiest locations and re-solve exactly
    under those pins, until no day is over the limit (None if rounds run out)."""
    allowed: dict[tuple[int, int], frozenset[int]] = {}
    state = relaxed
    for _ in range(rounds):
        broken = [
            (p, day, where)
            for p, days in enumerate(state.day_locations)
            for day, where in days.items()
            if len(where) > limit
        ]
        if not broken:
            return maximise(inst, state, limit)
        for p, day, where in broken:
            keep = sorted(where, key=lambda loc: (-where[loc], loc))[:limit]
            allowed[(p, day)] = frozenset(keep)
        state = maximise(inst.restricted(allowed), prefer=limit)
    return None


def _relocate(inst: Instance, state: State, limit: int, tries: int) -> State:
    """Bounded local search: move one practitioner-day's least-used location to another
    location with unmet demand that day, re-maximise that day along limit-keeping paths,
    and keep the change when coverage grows. Passes repeat while they improve; at most
    ``tries`` moves are evaluated in all."""
    best, best_value = state, coverage(inst, state)
    per_day = inst.blocks_per_day * inst.locations
    while tries > 0:
        unmet: dict[tuple[int, int], int] = {}
        for cell in range(inst.cells):
            short = inst.need[cell] - inst.cap * best.count[cell]
            if short > 0:
                key = (inst.day(cell), inst.location(cell))
                unmet[key] = unmet.get(key, 0) + short
        candidates = {
            (-unmet[(inst.day(cell), inst.location(cell))], p, inst.day(cell), inst.location(cell))
            for cell in range(inst.cells)
            if (inst.day(cell), inst.location(cell)) in unmet
            for p in inst.eligible[cell]
            if len(where := best.locations_on(p, inst.day(cell))) >= limit
            and inst.location(cell) not in where
        }
        improved = False
        for _, p, day, location in sorted(candidates)[:tries]:
            where = best.locations_on(p, day)
            if len(where) < limit or location in where:
                continue  # an earlier move in this pass changed that day
            tries -= 1
            trial = best.copy()
            where = trial.locations_on(p, day)
            drop = min(where, key=lambda loc: (where[loc], loc))
            for cell in list(trial.at[p]):
                if cell >= 0 and inst.day(cell) == day and inst.location(cell) == drop:
                    trial.leave(inst, p, cell)
            keep = frozenset(trial.locations_on(p, day)) | {location}
            pinned = inst.restricted({(p, day): keep})
            today = range(day * per_day, (day + 1) * per_day)
            trial = maximise(pinned, trial, limit, cells=today)
            value = coverage(inst, trial)
            if value > best_value:
                best, best_value, improved = trial, value, True
        if not improved:
            break
    return best


def solve(inst: Instance, limit: int, *, exact_slots: int, node_limit: int, tries: int) -> Solution:
    """The best plan this solver finds, its upper bound, and whether it is optimal."""
    relaxed = maximise(inst, prefer=limit)
    bound = coverage(inst, relaxed)
    if _violation(relaxed, limit) is None:
        return Solution(relaxed, bound, True, "flow")
    starts = [
        _repair(inst, relaxed, limit),
        _restrict(inst, relaxed, limit),
        maximise(inst, greedy(inst, limit), limit),
    ]
    heuristic = max((c for c in starts if c is not None), key=lambda c: coverage(inst, c))
    heuristic = _relocate(inst, heuristic, limit, tries)
    value = coverage(inst, heuristic)
    if sum(len(ps) for ps in inst.eligible) > exact_slots or value == bound:
        return Solution(heuristic, bound, value == bound, "flow+local_search")
    best, proved = _branch_and_bound(inst, limit, heuristic, node_limit)
    value = coverage(inst, best)
    return Solution(best, value if proved else bound, proved, "branch_and_bound")


def greedy(inst: Instance, limit: int) -> State:
    """The baseline: staff the cell with the most unmet demand with the first free
    practitioner (one already there that day first), until nothing more fits."""
    state = State.empty(inst)
    heap = [(-need, cell) for cell, need in enumerate(inst.need) if need > 0]
    heapq.heapify(heap)
    while heap:
        unmet, cell = heapq.heappop(heap)
        layer, day, location = inst.layer(cell), inst.day(cell), inst.location(cell)
        chosen: tuple[int, int] | None = None
        for p in inst.eligible[cell]:
            if state.at[p][layer] >= 0 or state.used[p] >= inst.budget[p]:
                continue
            where = state.locations_on(p, day)
            if location not in where and len(where) >= limit:
                continue
            rank = (0 if location in where else 1, p)
            if chosen is None or rank < chosen:
                chosen = rank
        if chosen is None:
            continue
        state.take(inst, chosen[1], cell)
        if -unmet > inst.cap:
            heapq.heappush(heap, (unmet + inst.cap, cell))
    return state
