"""Availability: 7 days, one service, 200 practitioners at 5 locations, 50,000
appointments in memory storage.

Baseline: the straightforward search most booking code starts with: walk each
practitioner's grid slot by slot and scan all of that practitioner's appointments for an
overlap. It is handed its appointments pre-grouped for free, so the comparison is of
the algorithm only. Both must find the same number of slots.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import tracemalloc

import pendulum
import pytest

from carebook import (
    Actor,
    Carebook,
    CarebookConfig,
    bootstrap,
)
from carebook.builtin.clocks import ManualClock
from carebook.domain.instants import local_epoch, zone
from carebook.domain.scheduling.availability import AvailabilityQuery
from carebook.testing.bench import bench_line, median_seconds
from carebook.testing.scenarios import AvailabilityScenario, availability_scenario

NOW = pendulum.datetime(2026, 5, 31, 12, tz="UTC")
ADMIN = Actor.admin()


def _carebook() -> Carebook:
    return bootstrap(CarebookConfig(notifiers=()), clock=ManualClock(NOW))


def _search(cb: Carebook, scenario: AvailabilityScenario) -> int:
    return len(cb.booking.search_availability(ADMIN, scenario.organisation_id, scenario.query))


def _naive_search(cb: Carebook, scenario: AvailabilityScenario) -> int:
    """Per-slot overlap check against every appointment of the practitioner."""
    query: AvailabilityQuery = scenario.query
    with cb.storage.unit_of_work() as uow:
        calendar = uow.calendar.load(scenario.organisation_id)
        assert calendar is not None
        appointments = {
            pid: [
                (int(b.start), int(b.end))
                for b in uow.appointments.busy_intervals(0, 2**40, practitioner_ids=(pid,), now=NOW)
            ]
            for pid in scenario.practitioner_ids
        }
    service = calendar.services[query.service_ids[0]]
    step = calendar.organisation.policy.slot_interval * 60
    length = service.duration * 60
    ws, we = query.window.start_epoch, query.window.end_epoch
    found = 0
    for practitioner in calendar.practitioners.values():
        plan = practitioner.plans[0]
        location = calendar.locations[plan.location_id]
        tz = zone(location.timezone)
        first = dt.datetime.fromtimestamp(ws, tz).date() - dt.timedelta(days=1)
        for n in range(10):
            day = first + dt.timedelta(days=n)
            for start_minute, end_minute in plan.week_minutes[day.weekday()]:
                t = local_epoch(tz, day, start_minute)
                block_end = local_epoch(tz, day, end_minute)
                while t + length <= block_end:
                    if ws <= t < we and not any(
                        a < t + length and t < b for a, b in appointments[practitioner.id]
                    ):
                        found += 1
                    t += step
    return found


@pytest.fixture(scope="module")
def reference() -> tuple[Carebook, AvailabilityScenario]:
    cb = _carebook()
    return cb, availability_scenario(cb, practitioners=200, locations=5, appointments=50_000)


def test_bench_availability_7d_200p(reference: tuple[Carebook, AvailabilityScenario]) -> None:
    cb, scenario = reference
    slots = _search(cb, scenario)
    assert slots == _naive_search(cb, scenario), "the baseline must find the same slots"
    ours = median_seconds(lambda: _search(cb, scenario), repeat=21, warmup=3)
    naive = median_seconds(lambda: _naive_search(cb, scenario), repeat=3)
    ratio = naive / ours
    bench_line("availability_7d_200p", ours * 1000, "ms", "per_slot_overlap_scan", ratio)
    print(f"  slots={slots} appointments={scenario.appointments} baseline_ms={naive * 1000:.1f}")
    assert ours <= 0.050, f"median {ours * 1000:.1f} ms exceeds the 50 ms target"
    assert ratio >= 20, f"only {ratio:.1f}x faster than the per-slot baseline (target 20x)"


def _peak_kib(cb: Carebook, scenario: AvailabilityScenario) -> float:
    gc.collect()
    tracemalloc.start()
    _search(cb, scenario)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024


def test_bench_availability_memory_follows_window_not_history(
    reference: tuple[Carebook, AvailabilityScenario],
) -> None:
    """Same 10,000 appointments inside the window; 40,000 vs 2,500 outside it."""
    cb, scenario = reference
    small = _carebook()
    small_scenario = availability_scenario(
        small, practitioners=200, locations=5, appointments=12_500, window_share=0.8
    )
    big_peak = _peak_kib(cb, scenario)
    small_peak = _peak_kib(small, small_scenario)
    ratio = big_peak / small_peak
    bench_line(
        "availability_7d_200p_peak_memory", big_peak, "KiB", "same_window_short_history", ratio
    )
    big_time = median_seconds(lambda: _search(cb, scenario), repeat=11)
    small_time = median_seconds(lambda: _search(small, small_scenario), repeat=11)
    bench_line(
        "availability_7d_200p_long_history",
        big_time * 1000,
        "ms",
        "same_window_short_history",
        big_time / small_time,
    )
    assert ratio < 1.25, "search memory must not grow with appointment history"


def test_bench_availability_scaling_50_to_400_practitioners() -> None:
    """250 appointments per practitioner; time should grow about linearly."""
    timings: dict[int, float] = {}
    for practitioners in (50, 100, 200, 400):
        cb = _carebook()
        scenario = availability_scenario(
            cb, practitioners=practitioners, locations=5, appointments=250 * practitioners
        )
        timings[practitioners] = median_seconds(functools.partial(_search, cb, scenario), repeat=11)
        bench_line(
            f"availability_7d_{practitioners}p",
            timings[practitioners] * 1000,
            "ms",
            "availability_7d_50p",
            timings[practitioners] / timings[50],
        )
    # 8x the practitioners should cost well under 16x the time (no superlinear blow-up).
    assert timings[400] / timings[50] < 16
