"""Benchmarks run only through ``nox -s bench``; each prints one ``bench:`` line."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


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
    line = f"bench: {name} value={value:.3f} unit={unit} baseline={baseline} ratio={ratio:.3f}"
    print(line, flush=True)
    return line
