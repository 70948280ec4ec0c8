"""Polishing a staffing plan without losing coverage: fewer moves, minimum hours.

A *move* is one extra location in a practitioner's day (distinct locations minus one).
"""

from __future__ import annotations

from carebook.domain.staffing._flow import Instance, State

__all__ = ["fewer_moves", "moves", "pad_minimums"]


def moves(state: State) -> int:
    """Extra locations: per practitioner-day, distinct locations worked minus one."""
    return sum(max(0, len(w) - 1) for days in state.day_locations for w in days.values())


def _cost_after(state: State, p: int, day: int, add: int, remove: int) -> int:
    where = dict(state.locations_on(p, day))
    where[add] = where.get(add, 0) + 1
    where[remove] -= 1
    if not where[remove]:
        del where[remove]
    return max(0, len(where) - 1)


def _cost(state: State, p: int, day: int) -> int:
    return max(0, len(state.locations_on(p, day)) - 1)


def fewer_moves(inst: Instance, state: State, limit: int, rounds: int = 5) -> State:
    """Swap two practitioners' cells within one block while that lowers the moves."""
    state = state.copy()
    eligible = [set(ps) for ps in inst.eligible]
    for _ in range(rounds):
        improved = False
        for p in range(len(state.at)):
            for layer, x in enumerate(state.at[p]):
                day = layer // inst.blocks_per_day
                if x < 0 or _cost(state, p, day) == 0:
                    continue
                for q in range(len(state.at)):
                    y = state.at[q][layer]
                    if q == p or y < 0 or y == x or p not in eligible[y] or q not in eligible[x]:
                        continue
                    lx, ly = inst.location(x), inst.location(y)
                    new_p, new_q = (
                        _cost_after(state, p, day, ly, lx),
                        _cost_after(state, q, day, lx, ly),
                    )
                    if new_p + 1 > limit or new_q + 1 > limit:
                        continue
                    if new_p + new_q < _cost(state, p, day) + _cost(state, q, day):
                        state.leave(inst, p, x)
                        state.leave(inst, q, y)
                        state.take(inst, p, y)
                        state.take(inst, q, x)
                        improved = True
                        break
            improved |= _hand_over(inst, state, p, eligible)
        if not improved:
            break
    return state


def _hand_over(inst: Instance, state: State, p: int, eligible: list[set[int]]) -> bool:
    """Give ``p``'s blocks at a second location that day to idle colleagues who are
    there already (or not working that day), when that leaves ``p`` at one place."""
    improved = False
    for day, where in list(state.day_locations[p].items()):
        for location in sorted(where, key=lambda loc: (where[loc], loc))[:-1]:
            first = day * inst.blocks_per_day
            cells = [
                c
                for c in state.at[p][first : first + inst.blocks_per_day]
                if c >= 0 and inst.location(c) == location
            ]
            takers: list[tuple[int, int]] = []
            for c in cells:
                layer = inst.layer(c)
                taker = next(
                    (
                        q
                        for q in sorted(eligible[c])
                        if q != p
                        and state.at[q][layer] < 0
                        and state.used[q] + sum(t == q for _, t in takers) < inst.budget[q]
                        and set(state.locations_on(q, day)) <= {location}
                    ),
                    None,
                )
                if taker is None:
                    break
                takers.append((c, taker))
            else:
                for c, q in takers:
                    state.leave(inst, p, c)
                    state.take(inst, q, c)
                improved = True
    return improved


def pad_minimums(inst: Instance, state: State, limit: int) -> State:
    """Give practitioners under their minimum more blocks (never less coverage):
    cells short of demand first, then where they already work that day."""
    state = state.copy()
    for p in range(len(state.at)):
        while state.used[p] < min(inst.minimum[p], inst.budget[p]):
            options = []
            for cell in range(inst.cells):
                if p not in inst.eligible[cell] or state.at[p][inst.layer(cell)] >= 0:
                    continue
                where = state.locations_on(p, inst.day(cell))
                if inst.location(cell) not in where and len(where) >= limit:
                    continue
                short = inst.need[cell] - inst.cap * state.count[cell]
                options.append((-max(short, 0), inst.location(cell) not in where, cell))
            if not options:
                break
            state.take(inst, p, min(options)[2])
    return state
