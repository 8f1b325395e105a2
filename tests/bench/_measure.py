"""Timing and printing helpers for the benchmarks (perf-baseline.md conventions).

Figures are printed as median (min–max) n=…; ratios are measured in the same run, with the
operations alternated round-robin so machine drift hits every side alike. Benchmarks assert
correctness only: these helpers never judge a time.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Op = Callable[[int], Any]


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds taken by `call()`, and what it returned."""
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def round_robin(rounds: int, ops: Mapping[str, Op]) -> dict[str, list[float]]:
    """Run every op once per round, reversing the order on odd rounds; seconds per op.

    Each op gets the round number, so it can pick its own input for that round.
    """
    names = list(ops)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        order = names if index % 2 == 0 else names[::-1]
        for name in order:
            start = time.perf_counter()
            ops[name](index)
            seconds[name].append(time.perf_counter() - start)
    return seconds


def spread(values: Sequence[float], *, scale: float = 1e3, digits: int = 1) -> str:
    """'median (min–max) n=…' of `values` times `scale` (default: seconds shown as ms)."""
    scaled = [v * scale for v in values]
    return (
        f"{statistics.median(scaled):.{digits}f} "
        f"({min(scaled):.{digits}f}–{max(scaled):.{digits}f}) n={len(scaled)}"
    )


def paired_ratios(a: Sequence[float], b: Sequence[float]) -> list[float]:
    """a[i]/b[i], run by run (the two lists come from the same round-robin)."""
    if len(a) != len(b) or not a:
        raise ValueError("paired ratios need two non-empty lists of the same length")
    return [x / y for x, y in zip(a, b, strict=True)]


def header(title: str) -> None:
    print(f"\n=== {title} ===")


def figure(label: str, values: Sequence[float], *, unit: str = "ms", width: int = 48) -> None:
    scale = {"ms": 1e3, "s": 1.0}[unit]
    digits = 1 if unit == "ms" else 3
    print(f"  {label:<{width}} {spread(values, scale=scale, digits=digits)} {unit}")


def ratio(label: str, a: Sequence[float], b: Sequence[float], *, width: int = 48) -> None:
    """Ratio of medians, and the run-by-run ratio's median (min–max)."""
    of_medians = statistics.median(a) / statistics.median(b)
    paired = paired_ratios(a, b)
    print(
        f"  {label:<{width}} {of_medians:.2f} (medians); run by run "
        f"{spread(paired, scale=1.0, digits=2)}"
    )


def note(text: str) -> None:
    print(f"  {text}")
