"""The live wait estimate of a location, and the visit durations it learns.

The model (see docs/walk-ins.md):

- Each practitioner on duty is free from ``now``, or, while a session is in progress,
  from ``started_at + expected``. A session already past its expected length is
  expected to need ``overrun`` more seconds from now: the practitioner is *behind*.
- Each waiting patient adds their expected visit length to the practitioner who holds
  their reservation. Patients whose practitioner is off duty go, oldest check-in
  first, to whichever practitioner on duty is free first.
- The estimate is the time until the first practitioner is free: the wait of a
  patient who joins now. Nobody on duty: no estimate (``None``).

A visit's expected length is the learned mean for its kind (new or returning) at that
location, or, before there is any history, the length of its reservation. The means are
running aggregates (:class:`DurationStats`), updated in constant time per completed
session, so an estimate costs the same whatever the history: it reads only the
active queue, the practitioners on duty and two numbers per location.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Iterable, Mapping

import pendulum
from attrs import frozen

from carebook.domain.ids import LocationId, PractitionerId
from carebook.domain.scheduling.calendar import PatientKind
from carebook.domain.walkins.queue import QueueEntry, QueueStatus

__all__ = [
    "LEARNING_RATE",
    "WARM_UP",
    "DurationStats",
    "PublishedWait",
    "WaitEstimate",
    "estimate_wait",
    "expected_seconds",
]

WARM_UP = 10
"""Below this many samples a learned mean is the plain mean of what was seen."""
LEARNING_RATE = 0.2
"""From then on, an exponentially weighted mean: each visit moves it by this share."""
CLIP = 4
"""An observed length is clipped to [mean / CLIP, mean * CLIP] before it counts, so one
forgotten "end session" does not wreck the mean."""


@frozen(kw_only=True)
class DurationStats:
    """How long visits of ``kind`` take at a location: a running mean over ``samples``."""

    location_id: LocationId
    kind: PatientKind
    samples: int
    mean_seconds: int

    @classmethod
    def learn(
        cls,
        current: DurationStats | None,
        location_id: LocationId,
        kind: PatientKind,
        observed_seconds: int,
        prior_seconds: int,
    ) -> DurationStats:
        """The aggregate after one more completed visit (``prior`` when none yet)."""
        base = current.mean_seconds if current is not None else prior_seconds
        samples = current.samples if current is not None else 0
        base = max(base, 1)
        clipped = min(max(observed_seconds, base / CLIP), base * CLIP)
        if samples == 0:
            mean = clipped
        elif samples < WARM_UP:
            mean = base + (clipped - base) / (samples + 1)
        else:
            mean = base + LEARNING_RATE * (clipped - base)
        return cls(
            location_id=location_id, kind=kind, samples=samples + 1, mean_seconds=round(mean)
        )


@frozen(kw_only=True)
class PublishedWait:
    """The last estimate announced for a location (``WaitTimeChanged``)."""

    location_id: LocationId
    wait_minutes: int | None
    published_at: pendulum.DateTime


@frozen(kw_only=True)
class WaitEstimate:
    """A location's wait for a patient joining at ``now`` (epoch seconds)."""

    location_id: LocationId
    now: int
    wait_seconds: int | None
    waiting: int
    in_session: int
    on_duty: int
    free_at: tuple[tuple[PractitionerId, int], ...]
    """Each practitioner on duty and when they are expected to be free (epoch)."""
    behind: tuple[PractitionerId, ...]
    """Practitioners whose session runs past its expected length."""

    @property
    def wait_minutes(self) -> int | None:
        """Whole minutes, rounded up; None when nobody is on duty."""
        return None if self.wait_seconds is None else math.ceil(self.wait_seconds / 60)

    def free_from(self, practitioner_id: PractitionerId) -> int | None:
        return next((t for p, t in self.free_at if p == practitioner_id), None)


def expected_seconds(entry: QueueEntry, learned: Mapping[PatientKind, int]) -> int:
    """The expected visit length: the learned mean for the kind, else the reservation."""
    return learned.get(entry.kind) or entry.reserved_seconds


def estimate_wait(
    location_id: LocationId,
    *,
    now: int,
    on_duty: Collection[PractitionerId],
    entries: Iterable[QueueEntry],
    learned: Mapping[PatientKind, int],
    overrun_seconds: int,
) -> WaitEstimate:
    """The wait estimate (see the module docstring). ``entries`` are the location's
    active queue entries; others are ignored. Cost: linear in the queue."""
    free = {p: now for p in sorted(on_duty, key=lambda p: p.int)}
    behind: list[PractitionerId] = []
    waiting: list[QueueEntry] = []
    in_session = 0
    for entry in entries:
        if entry.status is QueueStatus.WAITING:
            waiting.append(entry)
        elif entry.status is QueueStatus.IN_SESSION:
            in_session += 1
            practitioner = entry.practitioner_id
            if practitioner not in free or entry.started_at is None:
                continue
            end = int(entry.started_at.timestamp()) + expected_seconds(entry, learned)
            if end <= now:
                end = now + overrun_seconds
                behind.append(practitioner)
            free[practitioner] = max(free[practitioner], end)
    waiting.sort(key=lambda e: (e.checked_in_at, e.id.int))
    pool: list[QueueEntry] = []
    for entry in waiting:
        if entry.practitioner_id in free:
            free[entry.practitioner_id] += expected_seconds(entry, learned)
        else:
            pool.append(entry)
    if pool and free:
        heap = [(t, p.int, p) for p, t in free.items()]
        heapq.heapify(heap)
        for entry in pool:
            t, key, practitioner = heapq.heappop(heap)
            t += expected_seconds(entry, learned)
            free[practitioner] = t
            heapq.heappush(heap, (t, key, practitioner))
    wait = min(free.values()) - now if free else None
    return WaitEstimate(
        location_id=location_id,
        now=now,
        wait_seconds=wait,
        waiting=len(waiting),
        in_session=in_session,
        on_duty=len(free),
        free_at=tuple(free.items()),
        behind=tuple(sorted(set(behind), key=lambda p: p.int)),
    )
