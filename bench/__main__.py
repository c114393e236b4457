"""`make bench`: every benchmark, one table of figures with their targets and same-run peers."""

from __future__ import annotations

import importlib

from bench.common import Figure, print_table

# The benchmarks that exist so far; each module exposes run() -> list[Figure].
BENCHES = ["bench.guard", "bench.rag", "bench.ask", "bench.load", "bench.cli"]


def main() -> None:
    figures: list[Figure] = []
    for name in BENCHES:
        figures.extend(importlib.import_module(name).run())
    print_table(figures)


if __name__ == "__main__":
    main()
