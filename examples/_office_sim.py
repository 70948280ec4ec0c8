"""Helpers of ``multi_office_day.py``: the day's demand pattern and draws, and the report.

Not an example itself: the example runners (tests/test_examples.py, ``nox -s examples``
and CI) skip ``examples/_*.py``. Nothing here calls carebook; the example does.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
import statistics
from collections.abc import Sequence
from pathlib import Path

import attrs

from carebook.scheduling import PatientKind

OPEN, CLOSE = 8, 20
DAY_MINUTES = (CLOSE - OPEN) * 60
# Expected walk-ins per hour from 08:00 to 19:00; every Monday is drawn from this pattern.
PATTERN = {
    "Northgate": (5, 6, 5, 4, 2.5, 2, 1.5, 1.5, 1, 1, 1, 0.5),  # commuters: mornings
    "Market Square": (1, 1.5, 2, 3.5, 5, 6, 5, 3, 1.5, 1, 1, 0.5),  # shoppers: lunchtime
    "Riverside": (0.5, 1, 1, 1.5, 1.5, 2, 2, 3, 4.5, 5.5, 6, 4),  # after work: evenings
}
OFFICES = tuple(PATTERN)
NEW_SHARE = 0.3  # a new patient reserves two 15-minute slots, a returning one one slot
VISIT = {PatientKind.NEW: 30, PatientKind.RETURNING: 15}


@attrs.frozen
class Arrival:
    """One walk-in: where and when, and what the day has in store for them."""

    office: int
    minute: int  # after opening
    kind: PatientKind
    service: int  # minutes the visit really takes
    no_show: bool  # checks in, then is not there when called
    patience: int | None  # gives up after this many minutes if not yet seen


@attrs.frozen
class Shift:
    """A practitioner (index) at an office (index) from ``start`` to ``end`` (local hours)."""

    practitioner: int
    office: int
    start: int
    end: int


def staffed(shifts: Sequence[Shift], office: int, hour: int) -> int:
    return sum(1 for s in shifts if s.office == office and s.start <= hour < s.end)


def hours(shifts: Sequence[Shift]) -> int:
    return sum(s.end - s.start for s in shifts)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's product of uniforms; the means here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count, product = count + 1, product * rng.random()
    return count


def draw_day(rng: random.Random) -> list[Arrival]:
    """One day of walk-ins at the three offices, drawn from ``PATTERN``: 30 % new
    patients, visits around their expected length (15 % overrun by 5-15 minutes),
    5 % who never show up when called, 5 % who give up after 15-40 minutes."""
    day: list[Arrival] = []
    for office, rates in enumerate(PATTERN.values()):
        for hour, rate in enumerate(rates):
            for _ in range(poisson(rng, rate)):
                kind = PatientKind.NEW if rng.random() < NEW_SHARE else PatientKind.RETURNING
                service = max(5, round(rng.gauss(0.95 * VISIT[kind], 0.2 * VISIT[kind])))
                if rng.random() < 0.15:
                    service += rng.randint(5, 15)
                fate = rng.random()
                patience = rng.randint(15, 40) if fate > 0.95 else None
                minute = hour * 60 + rng.randrange(60)
                day.append(Arrival(office, minute, kind, service, fate < 0.05, patience))
    return sorted(day, key=lambda a: (a.minute, a.office))


@attrs.define
class Tally:
    """What happened at one office (or, added up, at all of them)."""

    arrived: int = 0
    seen: int = 0
    turned_away: int = 0
    left: int = 0
    no_shows: int = 0
    waits: list[int] = attrs.Factory(list)  # minutes from check-in to session start
    busy: int = 0  # minutes in session
    on_duty: int = 0  # minutes on duty

    def __add__(self, other: Tally) -> Tally:
        mine, theirs = attrs.astuple(self, recurse=False), attrs.astuple(other, recurse=False)
        return Tally(*(a + b for a, b in zip(mine, theirs, strict=True)))


def heading(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 84 - len(text)))


def print_summary(results: dict[str, list[Tally]]) -> None:
    heading("Summary (waits: minutes from check-in to the start of the session)")
    print(
        f"   {'staffing':<10}{'office':<15}{'arrived':>8}{'seen':>6}{'turned away':>13}"
        f"{'left':>6}{'no-shows':>10}{'mean wait':>11}{'max wait':>10}{'utilisation':>13}"
    )
    for run, tallies in results.items():
        total = sum(tallies, Tally())
        for name, t in [*zip(OFFICES, tallies, strict=True), ("all offices", total)]:
            print(
                f"   {run:<10}{name:<15}{t.arrived:>8}{t.seen:>6}{t.turned_away:>13}{t.left:>6}"
                f"{t.no_shows:>10}{statistics.fmean(t.waits or [0]):>11.1f}"
                f"{max(t.waits, default=0):>10}{t.busy / max(t.on_duty, 1):>13.0%}"
            )


def draw_chart(
    path: Path, runs: dict[str, list[list[float]]], *, day: dt.date, zone: str, limit: int
) -> bool:
    """The wait estimate per office through the day (one sample every 5 minutes from
    opening), one panel per run. False when matplotlib is not installed."""
    logging.getLogger("matplotlib").setLevel(logging.ERROR)  # e.g. "building the font cache"
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    fig = Figure(figsize=(10, 7), layout="constrained")
    axes = fig.subplots(len(runs), 1, sharex=True, sharey=True)
    for ax, (title, series) in zip(axes, runs.items(), strict=True):
        for name, waits in zip(OFFICES, series, strict=True):
            ax.plot([OPEN + k / 12 for k in range(len(waits))], waits, label=name)
        ax.axhline(limit, color="grey", linestyle="--", linewidth=1, label="wait limit")
        ax.set(title=title, ylabel="estimated wait (minutes)")
        ax.grid(alpha=0.3)
    ticks = range(OPEN, CLOSE + 1, 2)
    axes[-1].set_xticks(ticks, [f"{h:02d}:00" for h in ticks])
    axes[-1].set_xlabel(f"{day:%A} {day.day} {day:%B %Y} ({zone})")
    axes[0].legend(loc="upper right")
    fig.savefig(path, dpi=100)
    return True
