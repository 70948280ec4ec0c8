"""Availability search: a pure function of the calendar, busy time and ``now``.

A slot is offered when its occupied span ``[start - buffer_before, end + buffer_after)``
fits inside the practitioner's working time at the location (plan minus breaks, or the
date's override, within opening hours) and overlaps no closure, time off, busy time
of the practitioner (or the patient, when given), and one free resource of each needed
category can be held for the same span. Starts lie on a grid of ``slot_interval``
minutes from the start of each working block, respect minimum notice and the booking
horizon, and fall inside the search window.

The hot loop works in epoch seconds; :class:`Slot` objects are built only when read.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import NamedTuple

import attrs
import pendulum
from attrs import frozen

from carebook.domain import ids
from carebook.domain.ids import LocationId, PatientId, PractitionerId, ResourceId, ServiceId
from carebook.domain.instants import Interval, epoch_ceil, from_epoch, zone
from carebook.domain.scheduling.busy import (
    PATIENT,
    PRACTITIONER,
    RESOURCE,
    BusyIndex,
    BusyInterval,
    Span,
    index_busy,
    owner_key,
)
from carebook.domain.scheduling.calendar import Location, Practitioner, Service
from carebook.domain.scheduling.clinic import ClinicCalendar
from carebook.domain.scheduling.working_time import (
    free_segments,
    location_blocks,
    location_closures,
    merge,
    plan_blocks,
    practitioner_blocks,
    practitioner_time_off,
)
from carebook.domain.validators import instance_of

__all__ = ["AvailabilityQuery", "AvailabilityResult", "Slot", "SlotShape", "find_slots"]


@frozen(kw_only=True)
class AvailabilityQuery:
    """Search free slots for ``service_ids`` (run back to back) within ``window``.

    Optional filters narrow locations and practitioners; ``patient_id`` also removes the
    patient's own busy time.
    """

    service_ids: tuple[ServiceId, ...] = attrs.field(converter=ids.service_ids)
    window: Interval = attrs.field(validator=instance_of(Interval))
    location_ids: frozenset[LocationId] = attrs.field(
        factory=frozenset, converter=ids.location_id_set, validator=ids.each_id
    )
    practitioner_ids: frozenset[PractitionerId] = attrs.field(
        factory=frozenset, converter=ids.practitioner_id_set, validator=ids.each_id
    )
    patient_id: PatientId | None = attrs.field(
        default=None,
        converter=ids.optional_patient_id,
        validator=attrs.validators.optional(ids.is_id),
    )


@frozen
class Slot:
    """One bookable start: service time ``[start, end)`` with one practitioner."""

    start: pendulum.DateTime
    end: pendulum.DateTime
    location_id: LocationId
    practitioner_id: PractitionerId
    resource_ids: tuple[ResourceId, ...] = ()

    def in_timezone(self, name: str) -> tuple[pendulum.DateTime, pendulum.DateTime]:
        """Start and end rendered in the IANA zone ``name`` (e.g. the patient's)."""
        tz = zone(name)
        return self.start.in_timezone(tz), self.end.in_timezone(tz)


@frozen
class SlotShape:
    """Durations (seconds) of a request for one or more services run back to back."""

    duration: int
    before: int
    after: int
    needs: frozenset[str]

    @classmethod
    def of(cls, services: Sequence[Service]) -> SlotShape:
        return cls(
            duration=sum(s.duration for s in services) * 60,
            before=services[0].buffer_before * 60,
            after=services[-1].buffer_after * 60,
            needs=frozenset().union(*(s.needs for s in services)),
        )


class _Run(NamedTuple):
    location_id: LocationId
    practitioner_id: PractitionerId
    starts: list[int]
    resources: list[tuple[ResourceId, ...]] | None


class AvailabilityResult:
    """The free slots of one search, stored compactly; iterate for :class:`Slot` s
    in chronological order (ties: by location name, then practitioner name)."""

    def __init__(self, shape: SlotShape, runs: list[_Run]) -> None:
        self.shape = shape
        self._runs = runs
        self._count = sum(len(r.starts) for r in runs)

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def _keys(self) -> list[tuple[int, int, int]]:
        keys = [(t, i, j) for i, run in enumerate(self._runs) for j, t in enumerate(run.starts)]
        keys.sort()  # by start, then location and practitioner name (the run order)
        return keys

    def __iter__(self) -> Iterator[Slot]:
        for t, i, j in self._keys():
            yield self._slot(i, j, t)

    def _slot(self, i: int, j: int, t: int) -> Slot:
        run = self._runs[i]
        return Slot(
            from_epoch(t),
            from_epoch(t + self.shape.duration),
            run.location_id,
            run.practitioner_id,
            run.resources[j] if run.resources is not None else (),
        )

    def first(self, n: int = 1) -> list[Slot]:
        """The ``n`` earliest slots."""
        return [self._slot(i, j, t) for t, i, j in self._keys()[:n]]

    def starts_for(self, practitioner_id: PractitionerId, location_id: LocationId) -> list[int]:
        """Epoch-second starts offered for one practitioner at one location."""
        for run in self._runs:
            if run.practitioner_id == practitioner_id and run.location_id == location_id:
                return list(run.starts)
        return []

    def keeping(
        self, keep: Callable[[LocationId, PractitionerId, list[int]], Collection[int]]
    ) -> AvailabilityResult:
        """A result with, for each location and practitioner, only the starts
        ``keep(location_id, practitioner_id, starts)`` returns (with their resources)."""
        runs: list[_Run] = []
        for run in self._runs:
            kept = keep(run.location_id, run.practitioner_id, list(run.starts))
            mask = [t in kept for t in run.starts]
            starts = [t for t, k in zip(run.starts, mask, strict=True) if k]
            resources = (
                None
                if run.resources is None
                else [r for r, k in zip(run.resources, mask, strict=True) if k]
            )
            runs.append(_Run(run.location_id, run.practitioner_id, starts, resources))
        return AvailabilityResult(self.shape, runs)

    def offer(
        self, practitioner_id: PractitionerId, location_id: LocationId, start: int
    ) -> Slot | None:
        """The slot starting at epoch ``start`` for that practitioner and place, if offered."""
        for i, run in enumerate(self._runs):
            if run.practitioner_id == practitioner_id and run.location_id == location_id:
                j = bisect.bisect_left(run.starts, start)
                if j < len(run.starts) and run.starts[j] == start:
                    return self._slot(i, j, start)
        return None


class _ResourcePool:
    """Free spans of every resource of one category at one location."""

    def __init__(self, ids: list[ResourceId], spans: list[list[Span]]) -> None:
        self.ids = ids
        self.spans = spans
        self.starts = [[s for s, _ in free] for free in spans]

    def pick(self, start: int, end: int) -> ResourceId | None:
        for rid, free, starts in zip(self.ids, self.spans, self.starts, strict=True):
            k = bisect.bisect_right(starts, start) - 1
            if k >= 0 and free[k][1] >= end:
                return rid
        return None


def _pools(
    calendar: ClinicCalendar,
    location: Location,
    needs: frozenset[str],
    busy: BusyIndex,
    start: int,
    end: int,
) -> list[_ResourcePool] | None:
    pools = []
    open_blocks = location_blocks(location, start, end)
    closures = location_closures(location)
    for category in sorted(needs):
        resources = calendar.resources_at(location.id, category)
        if not resources:
            return None
        spans = [
            [
                (s, e)
                for s, e, _ in free_segments(
                    merge_blocks(open_blocks),
                    merge(closures + busy.get(owner_key(RESOURCE, r.id), [])),
                )
            ]
            for r in resources
        ]
        pools.append(_ResourcePool([r.id for r in resources], spans))
    return pools


def merge_blocks(blocks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Opening blocks that touch (e.g. across midnight) become one span."""
    return merge(blocks)


def find_slots(
    calendar: ClinicCalendar,
    busy: Sequence[BusyInterval],
    query: AvailabilityQuery,
    now: pendulum.DateTime,
    *,
    exclude_appointment: uuid.UUID | None = None,
) -> AvailabilityResult:
    """Every free slot matching ``query``; see the module docstring for the rules."""
    services = [calendar.service(sid) for sid in query.service_ids]
    shape = SlotShape.of(services)
    allowed = frozenset.intersection(*(s.practitioner_ids for s in services))
    if query.practitioner_ids:
        allowed &= query.practitioner_ids
    by_owner = index_busy(busy, exclude=exclude_appointment)
    patient_busy: list[Span] = []
    if query.patient_id is not None:
        patient_busy = by_owner.get(owner_key(PATIENT, query.patient_id), [])
    ws, we = epoch_ceil(query.window.start), epoch_ceil(query.window.end)
    now_s = epoch_ceil(now)
    runs: list[_Run] = []
    working_at = _practitioners_by_location(calendar)
    for location in sorted(calendar.locations.values(), key=lambda loc: (loc.name, loc.id.int)):
        if query.location_ids and location.id not in query.location_ids:
            continue
        if not all(s.offered_at(location.id) for s in services):
            continue
        policy = calendar.policy_for(location.id)
        step = policy.slot_interval * 60
        earliest = max(ws, now_s + policy.min_notice * 60)
        latest = min(we - 1, now_s + policy.horizon_days * 86_400)
        if earliest > latest:
            continue
        # Blocks reach one occupied span beyond the window so edge slots can be judged.
        span_start = ws - shape.before - shape.duration
        span_end = we + shape.duration + shape.after
        pools: list[_ResourcePool] = []
        if shape.needs:
            found = _pools(calendar, location, shape.needs, by_owner, span_start, span_end)
            if found is None:
                continue
            pools = found
        closures = location_closures(location) + patient_busy
        shared_blocks: dict[object, list[tuple[int, int]]] = {}
        for practitioner in working_at.get(location.id, ()):
            if practitioner.id not in allowed:
                continue
            blocks = _blocks(practitioner, location, span_start, span_end, shared_blocks)
            if not blocks:
                continue
            pid = practitioner.id
            cuts = by_owner.get(owner_key(PRACTITIONER, pid), [])
            extra = closures + practitioner_time_off(practitioner)
            if extra:
                cuts = sorted(extra + cuts)
            run = _slots_for(blocks, cuts, shape, step, earliest, latest, pools)
            if run[0]:
                runs.append(_Run(location.id, pid, run[0], run[1]))
    return AvailabilityResult(shape, runs)


def _blocks(
    practitioner: Practitioner,
    location: Location,
    start: int,
    end: int,
    shared: dict[object, list[tuple[int, int]]],
) -> list[tuple[int, int]]:
    """Working blocks, computed once per distinct weekly plan (practitioners share a
    handful of plans); practitioners with date overrides here are computed alone.
    Touching blocks (09:00-12:00 and 12:00-17:00, or across midnight) are one block."""
    plan = practitioner.plan_at(location.id)
    if plan is None or any(o.location_id == location.id for o in practitioner.overrides):
        return merge(practitioner_blocks(practitioner, location, start, end))
    key = plan.week_minutes
    found = shared.get(key)
    if found is None:
        found = shared[key] = merge(plan_blocks(location, key, {}, start, end))
    return found


def _practitioners_by_location(
    calendar: ClinicCalendar,
) -> dict[LocationId, list[Practitioner]]:
    """Who has a plan or an override at each location, in a stable order."""
    out: dict[LocationId, list[Practitioner]] = {}
    for practitioner in sorted(calendar.practitioners.values(), key=lambda p: (p.name, p.id.int)):
        for location_id in practitioner.location_ids:
            out.setdefault(location_id, []).append(practitioner)
    return out


def _slots_for(
    blocks: list[tuple[int, int]],
    cuts: list[Span],
    shape: SlotShape,
    step: int,
    earliest: int,
    latest: int,
    pools: list[_ResourcePool],
) -> tuple[list[int], list[tuple[ResourceId, ...]] | None]:
    before, length = shape.before, shape.duration + shape.after
    starts: list[int] = []
    for fs, fe, anchor in free_segments(blocks, cuts):
        lo = max(fs + before, earliest)
        hi = min(fe - length, latest)
        if lo > hi:
            continue
        first = anchor + -((anchor - lo) // step) * step
        if first <= hi:
            starts.extend(range(first, hi + 1, step))
    if not pools:
        return starts, None
    kept: list[int] = []
    chosen: list[tuple[ResourceId, ...]] = []
    for t in starts:
        occ_start, occ_end = t - before, t + length
        picks = []
        for pool in pools:
            rid = pool.pick(occ_start, occ_end)
            if rid is None:
                break
            picks.append(rid)
        else:
            kept.append(t)
            chosen.append(tuple(picks))
    return kept, chosen
