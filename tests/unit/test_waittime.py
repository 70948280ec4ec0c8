"""The wait estimator and the learned visit durations (pure functions, no storage)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carebook.domain.ids import (
    AppointmentId,
    LocationId,
    OrganisationId,
    PatientId,
    PractitionerId,
)
from carebook.domain.instants import from_epoch, to_epoch
from carebook.domain.scheduling.calendar import PatientKind
from carebook.domain.walkins.queue import CheckInChannel, QueueEntry, QueueEntryId, QueueStatus
from carebook.domain.walkins.waittime import (
    LEARNING_RATE,
    WARM_UP,
    DurationStats,
    WaitEstimate,
    estimate_wait,
    expected_seconds,
)

NOW = pendulum.datetime(2025, 3, 3, 10, 0, tz="UTC")
NOW_S = to_epoch(NOW)
LOC = LocationId(uuid.UUID(int=1))
ORG = OrganisationId(uuid.UUID(int=2))
PRACTITIONERS = [PractitionerId(uuid.UUID(int=100 + n)) for n in range(6)]
NEW, RETURNING = PatientKind.NEW, PatientKind.RETURNING


def entry(
    practitioner: PractitionerId,
    *,
    minutes: int = 15,
    kind: PatientKind = RETURNING,
    checked_in: int = 0,
    started: int | None = None,
) -> QueueEntry:
    """A queue entry reserved for ``minutes``; ``started`` (minutes from NOW, usually
    negative) puts it in session; ``checked_in`` is minutes from NOW."""
    start = NOW.add(minutes=5)
    return QueueEntry(
        id=QueueEntryId(uuid.uuid4()),
        organisation_id=ORG,
        location_id=LOC,
        patient_id=PatientId(uuid.uuid4()),
        appointment_id=AppointmentId(uuid.uuid4()),
        practitioner_id=practitioner,
        kind=kind,
        channel=CheckInChannel.DESK,
        walk_in=True,
        status=QueueStatus.WAITING if started is None else QueueStatus.IN_SESSION,
        checked_in_at=NOW.add(minutes=checked_in),
        reserved_start=start,
        reserved_end=start.add(minutes=minutes),
        started_at=None if started is None else NOW.add(minutes=started),
    )


def estimate(
    on_duty: list[PractitionerId],
    entries: list[QueueEntry],
    learned: dict[PatientKind, int] | None = None,
    overrun: int = 300,
) -> WaitEstimate:
    return estimate_wait(
        LOC,
        now=NOW_S,
        on_duty=on_duty,
        entries=entries,
        learned=learned or {},
        overrun_seconds=overrun,
    )


# -- examples ---------------------------------------------------------------------------


def test_nobody_on_duty_means_no_estimate() -> None:
    found = estimate([], [entry(PRACTITIONERS[0])])
    assert found.wait_seconds is None and found.wait_minutes is None
    assert found.on_duty == 0 and found.waiting == 1


def test_a_free_practitioner_means_no_wait() -> None:
    found = estimate(PRACTITIONERS[:2], [entry(PRACTITIONERS[0], minutes=30)])
    assert found.wait_seconds == 0
    assert found.free_from(PRACTITIONERS[0]) == NOW_S + 1800
    assert found.free_from(PRACTITIONERS[1]) == NOW_S


def test_the_wait_is_until_the_first_practitioner_is_free() -> None:
    a, b = PRACTITIONERS[:2]
    entries = [
        entry(a, minutes=30, started=-10),  # 20 minutes left
        entry(a, minutes=15),
        entry(b, minutes=15, started=-5),  # 10 minutes left
        entry(b, minutes=30),
    ]
    found = estimate([a, b], entries)
    assert found.free_at == ((a, NOW_S + 35 * 60), (b, NOW_S + 40 * 60))
    assert found.wait_seconds == 35 * 60 and found.wait_minutes == 35
    assert (found.waiting, found.in_session, found.on_duty) == (2, 2, 2)
    assert found.behind == ()


def test_learned_durations_replace_the_reserved_length_per_kind() -> None:
    a = PRACTITIONERS[0]
    entries = [entry(a, minutes=30, kind=NEW), entry(a, minutes=15, kind=RETURNING)]
    assert estimate([a], entries).wait_seconds == 45 * 60
    learned = {NEW: 40 * 60}
    assert expected_seconds(entries[0], learned) == 40 * 60
    assert expected_seconds(entries[1], learned) == 15 * 60
    assert estimate([a], entries, learned).wait_seconds == 55 * 60


def test_a_session_past_its_expected_length_puts_the_practitioner_behind() -> None:
    a, b = PRACTITIONERS[:2]
    entries = [entry(a, minutes=15, started=-25), entry(a, minutes=15)]
    found = estimate([a], entries, overrun=5 * 60)
    assert found.behind == (a,)
    assert found.wait_seconds == (5 + 15) * 60
    on_time = estimate([a], [entry(a, minutes=30, started=-25), entry(a, minutes=15)])
    assert on_time.behind == () and on_time.wait_seconds == (5 + 15) * 60
    # The one behind stays at "overrun + queue" as time passes; on time it would shrink.
    later = estimate_wait(
        LOC,
        now=NOW_S + 120,
        on_duty=[a, b],
        entries=[*entries, entry(b, minutes=60)],
        learned={},
        overrun_seconds=300,
    )
    assert later.free_from(a) == NOW_S + 120 + 20 * 60


def test_patients_of_a_practitioner_off_duty_go_to_whoever_is_free_first() -> None:
    a, b, gone = PRACTITIONERS[:3]
    entries = [
        entry(a, minutes=10),
        entry(gone, minutes=20, checked_in=1),
        entry(gone, minutes=30, checked_in=2),
    ]
    found = estimate([a, b], entries)
    # b (free now) takes the 20-minute one, a (free at 10) the 30-minute one.
    assert dict(found.free_at) == {a: NOW_S + 40 * 60, b: NOW_S + 20 * 60}
    assert found.wait_minutes == 20


def test_sessions_of_practitioners_off_duty_and_finished_entries_are_ignored() -> None:
    a, gone = PRACTITIONERS[:2]
    done = attrs.evolve(entry(a, minutes=60), status=QueueStatus.DONE)
    found = estimate([a], [entry(gone, minutes=60, started=-1), done])
    assert found.wait_seconds == 0 and found.in_session == 1 and found.waiting == 0


def test_wait_minutes_round_up() -> None:
    a = PRACTITIONERS[0]
    assert estimate([a], [entry(a, minutes=1)], {RETURNING: 61}).wait_minutes == 2


# -- properties -------------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    on_duty: list[PractitionerId]
    entries: list[QueueEntry]
    learned: dict[PatientKind, int]


@st.composite
def queues(draw: st.DrawFn, orphans: bool = True) -> Queue:
    on_duty = PRACTITIONERS[: draw(st.integers(1, 4))]
    owners = PRACTITIONERS if orphans else on_duty
    entries = []
    for n in range(draw(st.integers(0, 12))):
        started = draw(st.none() | st.integers(-90, 0))
        entries.append(
            entry(
                draw(st.sampled_from(owners)),
                minutes=draw(st.integers(1, 60)),
                kind=draw(st.sampled_from([NEW, RETURNING])),
                checked_in=-n,
                started=started,
            )
        )
    learned = draw(
        st.dictionaries(st.sampled_from([NEW, RETURNING]), st.integers(60, 3600), max_size=2)
    )
    return Queue(on_duty, entries, learned)


@given(queues(), st.data())
def test_the_estimate_never_decreases_when_someone_joins_the_queue(
    queue: Queue, data: st.DataObject
) -> None:
    before = estimate(queue.on_duty, queue.entries, queue.learned)
    joining = entry(
        data.draw(st.sampled_from(PRACTITIONERS)),
        minutes=data.draw(st.integers(1, 60)),
        kind=data.draw(st.sampled_from([NEW, RETURNING])),
        checked_in=1,
    )
    after = estimate(queue.on_duty, [*queue.entries, joining], queue.learned)
    assert before.wait_seconds is not None and after.wait_seconds is not None
    assert after.wait_seconds >= before.wait_seconds
    assert after.waiting == before.waiting + 1


@given(queues())
def test_the_estimate_never_rises_when_a_practitioner_comes_on_duty(queue: Queue) -> None:
    before = estimate(queue.on_duty, queue.entries, queue.learned)
    for joining in PRACTITIONERS:
        if joining in queue.on_duty:
            continue
        after = estimate([*queue.on_duty, joining], queue.entries, queue.learned)
        assert before.wait_seconds is not None and after.wait_seconds is not None
        assert after.wait_seconds <= before.wait_seconds


@given(queues(orphans=False))
def test_the_estimate_drops_when_a_free_practitioner_comes_on_duty(queue: Queue) -> None:
    before = estimate(queue.on_duty, queue.entries, queue.learned)
    fresh = PRACTITIONERS[-1]  # never holds a reservation in these queues
    after = estimate([*queue.on_duty, fresh], queue.entries, queue.learned)
    assert before.wait_seconds is not None
    assert after.wait_seconds == 0
    if before.wait_seconds > 0:
        assert after.wait_seconds < before.wait_seconds


@given(queues())
def test_the_estimate_is_never_negative_and_counts_its_queue(queue: Queue) -> None:
    found = estimate(queue.on_duty, queue.entries, queue.learned)
    assert found.wait_seconds is not None and found.wait_seconds >= 0
    assert found.waiting + found.in_session == len(queue.entries)
    assert found.wait_seconds == min(t for _, t in found.free_at) - NOW_S


# -- learned durations ------------------------------------------------------------------


def learn(samples: list[int], prior: int = 900) -> DurationStats | None:
    stats = None
    for observed in samples:
        stats = DurationStats.learn(stats, LOC, NEW, observed, prior)
    return stats


def test_the_first_visits_give_their_plain_mean() -> None:
    stats = learn([600, 1200, 900])
    assert stats is not None
    assert (stats.samples, stats.mean_seconds) == (3, 900)


def test_after_the_warm_up_each_visit_moves_the_mean_by_the_learning_rate() -> None:
    stats = learn([1000] * WARM_UP)
    assert stats is not None and stats.mean_seconds == 1000
    moved = DurationStats.learn(stats, LOC, NEW, 2000, 900)
    assert moved.mean_seconds == round(1000 + LEARNING_RATE * 1000)
    assert moved.samples == WARM_UP + 1


def test_an_outlier_is_clipped_before_it_counts() -> None:
    stats = learn([1000] * WARM_UP)
    forgotten = DurationStats.learn(stats, LOC, NEW, 8 * 3600, 900)  # "end" pressed next day
    assert forgotten.mean_seconds == round(1000 + LEARNING_RATE * 3000)  # clipped to 4x
    first = DurationStats.learn(None, LOC, NEW, 5, 900)
    assert first.mean_seconds == 225  # clipped to a quarter of the prior


@given(st.lists(st.integers(0, 20_000), min_size=1, max_size=60), st.integers(60, 7200))
def test_the_learned_mean_stays_between_clipped_extremes(samples: list[int], prior: int) -> None:
    stats = learn(samples, prior)
    assert stats is not None and stats.samples == len(samples)
    assert stats.mean_seconds > 0
    # Each step moves toward a value within [base/4, base*4], so the mean stays bounded.
    assert stats.mean_seconds <= max(prior, *samples) * 4


@pytest.mark.parametrize("now_shift", [0, 59, 60, 61])
def test_estimate_now_is_the_given_instant(now_shift: int) -> None:
    a = PRACTITIONERS[0]
    found = estimate_wait(
        LOC,
        now=NOW_S + now_shift,
        on_duty=[a],
        entries=[entry(a, minutes=1)],
        learned={},
        overrun_seconds=60,
    )
    assert found.now == NOW_S + now_shift
    assert found.wait_seconds == 60
    assert from_epoch(found.now) == NOW.add(seconds=now_shift)
