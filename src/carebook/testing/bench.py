"""Helpers for benchmarks (``nox -s bench``): timing and the one-line result format.

Every benchmark prints exactly one line::

    bench: <name> value=<number> unit=<unit> baseline=<name> ratio=<number>

where the ratio compares against a baseline measured in the same run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

__all__ = ["bench_line", "median_seconds"]


def median_seconds(fn: Callable[[], object], *, repeat: int, warmup: int = 1) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def bench_line(name: str, value: float, unit: str, baseline: str, ratio: float) -> str:
    """Print (and return) the benchmark's result line."""
    line = f"bench: {name} value={value:.3f} unit={unit} baseline={baseline} ratio={ratio:.3f}"
    print(line, flush=True)
    return line
