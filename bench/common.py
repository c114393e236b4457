"""Shared reporting for the benchmarks: each figure is printed with its target and its peer."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured figure, printed beside its target and the peer measured in the same run."""

    bench: str
    name: str
    value: str
    target: str = ""
    peer: str = ""
    ok: bool | None = None


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def print_table(figures: Sequence[Figure]) -> None:
    """Print figures as one aligned table: bench, figure, value, target, verdict, peer."""
    header = ("bench", "figure", "value", "target", "ok", "peer (same run)")
    rows = [
        (f.bench, f.name, f.value, f.target, {True: "yes", False: "NO", None: "-"}[f.ok], f.peer)
        for f in figures
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))
