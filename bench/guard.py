"""Benchmark of sql_guard.check over the labeled corpus, beside the common naive sqlparse check.

Run: python -m bench.guard
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlparse
import yaml

from bench.common import Figure, median, percentile, print_table
from sql_guard import check

CORPUS_PATH = Path(__file__).resolve().parent.parent / "tests" / "sql_guard" / "guard_corpus.yaml"
ROUNDS = 20
WARMUP_ROUNDS = 2
P50_TARGET_MS = 1.0
P99_TARGET_MS = 5.0


def naive_allows(sql: str) -> bool:
    """The check many projects ship: the first statement sqlparse finds must be a SELECT."""
    statements = sqlparse.parse(sql)
    return bool(statements) and statements[0].get_type() == "SELECT"


def guard_allows(sql: str) -> bool:
    """sql_guard's verdict under the default policy."""
    return check(sql).allowed


def _time_ms(fn: Callable[[str], bool], statements: list[str]) -> list[float]:
    for _ in range(WARMUP_ROUNDS):
        for sql in statements:
            fn(sql)
    samples: list[float] = []
    for _ in range(ROUNDS):
        for sql in statements:
            start = time.perf_counter_ns()
            fn(sql)
            samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def _scores(fn: Callable[[str], bool], corpus: list[dict[str, Any]]) -> tuple[int, int, int, int]:
    deny = [c for c in corpus if not c["allow"]]
    allow = [c for c in corpus if c["allow"]]
    caught = sum(1 for c in deny if not fn(c["sql"]))
    false_refusals = sum(1 for c in allow if not fn(c["sql"]))
    return caught, len(deny), false_refusals, len(allow)


def run() -> list[Figure]:
    """Time and score both checks on the corpus; return the figures for print_table."""
    # sqlglot logs a warning for every statement it can only read as a Command.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    corpus: list[dict[str, Any]] = yaml.safe_load(CORPUS_PATH.read_text(encoding="utf-8"))
    statements = [c["sql"] for c in corpus]
    ours = _time_ms(guard_allows, statements)
    naive = _time_ms(naive_allows, statements)
    caught, n_deny, refused, n_allow = _scores(guard_allows, corpus)
    naive_caught, _, naive_refused, _ = _scores(naive_allows, corpus)
    p50, p99 = median(ours), percentile(ours, 99)
    return [
        Figure("guard", "statements in corpus", f"{len(corpus)} ({n_allow} allow, {n_deny} deny)"),
        Figure(
            "guard",
            "p50 per check (ms)",
            f"{p50:.3f}",
            f"<= {P50_TARGET_MS}",
            f"naive sqlparse {median(naive):.3f}",
            p50 <= P50_TARGET_MS,
        ),
        Figure(
            "guard",
            "p99 per check (ms)",
            f"{p99:.3f}",
            f"<= {P99_TARGET_MS}",
            f"naive sqlparse {percentile(naive, 99):.3f}",
            p99 <= P99_TARGET_MS,
        ),
        Figure(
            "guard",
            "deny cases caught",
            f"{caught}/{n_deny} ({100 * caught / n_deny:.1f}%)",
            "100%",
            f"naive {naive_caught}/{n_deny} ({100 * naive_caught / n_deny:.1f}%)",
            caught == n_deny,
        ),
        Figure(
            "guard",
            "false refusals of allow cases",
            f"{refused}/{n_allow}",
            "0",
            f"naive {naive_refused}/{n_allow}",
            refused == 0,
        ),
    ]


if __name__ == "__main__":
    print_table(run())
