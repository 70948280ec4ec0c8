"""The staffing solver's core: coverage maximised by augmenting paths (see staffing.py).

Everything here works on small integers: practitioners ``p``, cells ``c`` (one location
in one *layer*, a layer being one block of one day) and demand in whole minutes. A
practitioner gives ``cap`` minutes to the cell they work in.

Without the locations-per-day limit the problem is a flow: source -> practitioner
(capacity: contracted blocks) -> practitioner-block (capacity 1) -> cell -> sink, where a
cell's k-th practitioner adds ``gain(c, k) = min(need, k·cap) - min(need, (k-1)·cap)``,
which never grows with k. The gain sits on the cell side only, so the sets of cell-units
that can be staffed together are the independent sets of a matroid (a gammoid), and the
greedy algorithm is exact: take cell-units in order of falling gain and keep each one
for which an augmenting path exists. A search that fails visits a set of nodes that no
later augmentation can reach (the augmenting paths never enter a closed set), so those
nodes are marked dead and never searched again.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable

import attrs

__all__ = ["Instance", "State", "coverage", "gain", "maximise"]

_FREE = -1


@attrs.define(eq=False)
class Instance:
    """A staffing problem as integers. ``cell = layer * locations + location``."""

    locations: int
    layers: int
    blocks_per_day: int
    cap: int
    need: list[int]
    budget: list[int]
    minimum: list[int]
    eligible: list[list[int]]
    cell_layer: list[int] = attrs.field(init=False)
    cell_day: list[int] = attrs.field(init=False)
    cell_location: list[int] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        cells = range(self.locations * self.layers)
        self.cell_layer = [c // self.locations for c in cells]
        self.cell_day = [c // self.locations // self.blocks_per_day for c in cells]
        self.cell_location = [c % self.locations for c in cells]

    @property
    def cells(self) -> int:
        return self.locations * self.layers

    def layer(self, cell: int) -> int:
        return self.cell_layer[cell]

    def location(self, cell: int) -> int:
        return self.cell_location[cell]

    def day(self, cell: int) -> int:
        return self.cell_day[cell]

    def restricted(self, allowed: dict[tuple[int, int], frozenset[int]]) -> Instance:
        """The same instance where practitioner-day ``(p, d)`` may only work at ``allowed``."""
        eligible = list(self.eligible)  # lists are shared, never changed in place
        per_day = self.blocks_per_day * self.locations
        for day in sorted({d for _, d in allowed}):
            for c in range(day * per_day, (day + 1) * per_day):
                loc = self.location(c)
                eligible[c] = [p for p in self.eligible[c] if loc in allowed.get((p, day), (loc,))]
        return attrs.evolve(self, eligible=eligible)


@attrs.define(eq=False)
class State:
    """Who works where: ``at[p][layer]`` is a cell or -1; counts kept in step."""

    at: list[list[int]]
    used: list[int]
    count: list[int]
    day_locations: list[dict[int, dict[int, int]]]  # p -> day -> location -> blocks

    @classmethod
    def empty(cls, inst: Instance) -> State:
        n = len(inst.budget)
        return cls(
            at=[[_FREE] * inst.layers for _ in range(n)],
            used=[0] * n,
            count=[0] * inst.cells,
            day_locations=[{} for _ in range(n)],
        )

    def copy(self) -> State:
        return State(
            at=[list(row) for row in self.at],
            used=list(self.used),
            count=list(self.count),
            day_locations=[{d: dict(m) for d, m in days.items()} for days in self.day_locations],
        )

    def take(self, inst: Instance, p: int, cell: int) -> None:
        self.at[p][inst.layer(cell)] = cell
        self.used[p] += 1
        self.count[cell] += 1
        where = self.day_locations[p].setdefault(inst.day(cell), {})
        where[inst.location(cell)] = where.get(inst.location(cell), 0) + 1

    def leave(self, inst: Instance, p: int, cell: int) -> None:
        self.at[p][inst.layer(cell)] = _FREE
        self.used[p] -= 1
        self.count[cell] -= 1
        where = self.day_locations[p][inst.day(cell)]
        where[inst.location(cell)] -= 1
        if not where[inst.location(cell)]:
            del where[inst.location(cell)]

    def locations_on(self, p: int, day: int) -> dict[int, int]:
        return self.day_locations[p].get(day, {})


def gain(inst: Instance, cell: int, k: int) -> int:
    """Minutes of demand the k-th practitioner in ``cell`` covers."""
    need, cap = inst.need[cell], inst.cap
    return min(need, k * cap) - min(need, (k - 1) * cap)


def coverage(inst: Instance, state: State) -> int:
    """Covered minutes: the sum over cells of ``min(need, cap · practitioners)``."""
    return sum(min(need, inst.cap * n) for need, n in zip(inst.need, state.count, strict=True))


def _fits(state: State, p: int, day: int, location: int, limit: int | None, leaving: int) -> bool:
    """Would ``p`` stay within ``limit`` locations on ``day`` after moving to ``location``
    (from ``leaving``, or -1)? Checked against the current state only."""
    if limit is None:
        return True
    where = state.locations_on(p, day)
    if location in where:
        return True
    distinct = len(where) - (1 if leaving in where and where[leaving] == 1 else 0)
    return distinct < limit


def _rank(state: State, p: int, day: int, location: int) -> int:
    """Prefer a practitioner already at the location that day, then one not yet working."""
    where = state.locations_on(p, day)
    return 0 if location in where else (1 if not where else 2)


class _Search:
    """Augmenting-path searches from cells that need one more practitioner.

    ``limit`` skips paths that would give a practitioner-day more locations (checked
    against the current plan): a heuristic. ``prefer`` tries such limit-keeping paths
    first and falls back to any path, so it changes which optimum is found, not its value.
    """

    def __init__(
        self, inst: Instance, state: State, limit: int | None, prefer: int | None = None
    ) -> None:
        self.inst, self.state, self.limit, self.prefer = inst, state, limit, prefer
        self.dead_cells: set[int] = set()
        self.dead_practitioners: set[int] = set()
        self.steps: list[tuple[bool, int, int]] = []  # the last path: (took?, p, cell)

    def _take(self, p: int, cell: int) -> None:
        self.state.take(self.inst, p, cell)
        self.steps.append((True, p, cell))

    def _leave(self, p: int, cell: int) -> None:
        self.state.leave(self.inst, p, cell)
        self.steps.append((False, p, cell))

    def undo(self) -> None:
        """Take back the last augmenting path."""
        for took, p, cell in reversed(self.steps):
            if took:
                self.state.leave(self.inst, p, cell)
            else:
                self.state.take(self.inst, p, cell)
        self.steps = []

    def breaks(self, limit: int) -> bool:
        """Did the last path leave a practitioner-day at more than ``limit`` locations?"""
        return any(
            len(self.state.locations_on(p, self.inst.day(cell))) > limit
            for _, p, cell in self.steps
        )

    def augment(self, start: int) -> bool:
        """Add one practitioner to ``start`` (moving others if needed); False if impossible."""
        self.steps = []
        if self.limit is None and self.prefer is not None and self._bfs(start, self.prefer):
            return True
        return self._bfs(start, self.limit, mark_dead=True)

    def _direct(self, start: int, limit: int | None) -> int | None:
        inst, state = self.inst, self.state
        layer, day, location = inst.layer(start), inst.day(start), inst.location(start)
        best: tuple[int, int] | None = None
        for p in inst.eligible[start]:
            if state.at[p][layer] == _FREE and state.used[p] < inst.budget[p]:
                if not _fits(state, p, day, location, limit, -1):
                    continue
                rank = (_rank(state, p, day, location), p)
                if best is None or rank < best:
                    best = rank
        return None if best is None else best[1]

    def _bfs(self, start: int, limit: int | None, mark_dead: bool = False) -> bool:
        inst, state = self.inst, self.state
        found = self._direct(start, limit)
        if found is not None:
            self._take(found, start)
            return True
        at, used, budget, eligible = state.at, state.used, inst.budget, inst.eligible
        cell_layer, cell_day, cell_location = inst.cell_layer, inst.cell_day, inst.cell_location
        dead_cells, dead_practitioners = self.dead_cells, self.dead_practitioners
        seen_cells = {start}
        seen_practitioners: set[int] = set()
        via_cell: dict[int, tuple[bool, int, int]] = {}  # cell -> (moved?, p, prev cell | layer)
        via_practitioner: dict[int, int] = {}  # p -> cell it takes a free block in
        queue: deque[tuple[bool, int]] = deque([(True, start)])
        while queue:
            is_cell, node = queue.popleft()
            if not is_cell:
                for layer, cell in enumerate(at[node]):
                    if cell != _FREE and cell not in seen_cells and cell not in dead_cells:
                        seen_cells.add(cell)
                        via_cell[cell] = (False, node, layer)
                        queue.append((True, cell))
                continue
            layer, day, location = cell_layer[node], cell_day[node], cell_location[node]
            for p in eligible[node]:
                holder = at[p][layer]
                if holder == node:
                    continue
                if limit is not None:
                    leaving = -1 if holder == _FREE else cell_location[holder]
                    if not _fits(state, p, day, location, limit, leaving):
                        continue
                if holder == _FREE:
                    if p in seen_practitioners or p in dead_practitioners:
                        continue
                    seen_practitioners.add(p)
                    via_practitioner[p] = node
                    if used[p] < budget[p]:
                        self._apply(p, start, via_cell, via_practitioner)
                        return True
                    queue.append((False, p))
                elif holder not in seen_cells and holder not in dead_cells:
                    seen_cells.add(holder)
                    via_cell[holder] = (True, p, node)
                    queue.append((True, holder))
        if mark_dead:
            dead_cells |= seen_cells
            dead_practitioners |= seen_practitioners
        return False

    def _apply(
        self,
        p: int,
        start: int,
        via_cell: dict[int, tuple[bool, int, int]],
        via_practitioner: dict[int, int],
    ) -> None:
        cell = via_practitioner[p]
        self._take(p, cell)
        while cell != start:
            moved, q, other = via_cell[cell]
            self._leave(q, cell)
            cell = other if moved else via_practitioner[q]
            self._take(q, cell)


def maximise(
    inst: Instance,
    state: State | None = None,
    limit: int | None = None,
    prefer: int | None = None,
    cells: Iterable[int] | None = None,
) -> State:
    """Add cell-units in order of falling gain while an augmenting path exists.

    From an empty state with ``limit=None`` the result has the maximum coverage (see the
    module docstring). With a ``limit`` on locations per practitioner-day, paths that
    would break it are skipped: a heuristic, used to repair a plan.
    """
    state = state.copy() if state is not None else State.empty(inst)
    search = _Search(inst, state, limit, prefer)
    heap = [
        (-g, cell)
        for cell in (range(inst.cells) if cells is None else cells)
        if (g := gain(inst, cell, state.count[cell] + 1)) > 0
    ]
    heapq.heapify(heap)
    while heap:
        _, cell = heapq.heappop(heap)
        if cell in search.dead_cells:
            continue
        if search.augment(cell):
            if limit is not None and search.breaks(limit):
                search.undo()
                search.dead_cells.add(cell)
                continue
            g = gain(inst, cell, state.count[cell] + 1)
            if g > 0:
                heapq.heappush(heap, (-g, cell))
        else:
            search.dead_cells.add(cell)
    return state
