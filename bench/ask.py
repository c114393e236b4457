"""Benchmark of the offline pipeline: time from a question to its rows, beside the database alone.

Every question of seed_data/eval/sql_questions.yaml goes through `agents.ask.pipeline.ask` (router,
planner, guard, read-only executor, answer, query log), and its gold SQL runs through the same
guard and executor: the peer is what the database costs without the pipeline around it.
Process start, resource building and a first warm-up pass (which also measures the execution
accuracy) are not timed. The follow-up p50 times the second turn of the first FOLLOW_UPS
conversations of seed_data/eval/sql_conversations.yaml whose second turn is a data follow-up,
asked with `follow_up_of=` the first turn's answer; its peer is the first turns of the same
conversations, first questions of the same kind asked in the same run.

The benchmark seeds a database of its own on the app's server (the embedded one under
SOURCED_DATA_DIR, or SOURCED_DATABASE_URL's server) and drops it at the end, so the demo's
query log does not fill with benchmark answers.

Run: python -m bench.ask
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from bench.common import Figure, median, percentile, print_table

if TYPE_CHECKING:
    from agents.resources import Resources

ROUNDS = 3
P50_TARGET_MS = 150.0
P95_TARGET_MS = 500.0
ACCURACY_TARGET = 0.90
FOLLOW_UPS = 8  # conversations whose second turn is timed


@contextlib.contextmanager
def bench_resources() -> Iterator[Resources]:
    """Offline resources on a fresh database of the app's server, seeded, dropped after."""
    from agents.commands.cli import seed_warehouse
    from agents.config import load_settings
    from agents.resources import build_resources, prepare_database
    from agents.store import database
    from agents.store.users import load_directory

    base = load_settings()
    server = (base.database_url.get_secret_value() if base.database_url is not None
              else database.start_embedded(base.data_dir))
    name = f"sourced_bench_ask_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        settings = load_settings(database_url=database.with_database(server, name),
                                 warehouse_url=None, llm_model=None)
        urls = database.resolve_urls(settings)
        prepare_database(settings, urls, load_directory(settings.users_file))
        seed_warehouse(urls.app)
        resources = build_resources(settings, prepare=False)
        try:
            yield resources
        finally:
            resources.close()
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def follow_up_ms(resources: Resources,
                 rounds: int = ROUNDS) -> tuple[list[float], list[float]] | None:
    """Times of the second turns of FOLLOW_UPS conversations and of their first turns; None
    when `ask` has no follow-ups."""
    from agents.ask.pipeline import ask
    from agents.commands.evaluation import (
        DEFAULT_USER,
        SQL_CONVERSATIONS,
        load_conversations,
        takes_follow_up,
    )

    if not takes_follow_up(ask):
        return None
    chosen = [c for c in load_conversations(SQL_CONVERSATIONS)
              if c.turns[1].follow_up and c.turns[1].gold_sql][:FOLLOW_UPS]
    timings: list[float] = []
    firsts: list[float] = []
    for _ in range(rounds):
        for conversation in chosen:
            login = conversation.user or DEFAULT_USER
            started = time.perf_counter()
            first = ask(conversation.turns[0].question, login, resources)
            firsts.append(_ms(started))
            started = time.perf_counter()
            ask(conversation.turns[1].question, login, resources, follow_up_of=first.answer_id)
            timings.append(_ms(started))
    return timings, firsts


def _follow_up_figure(timings: tuple[list[float], list[float]] | None, p50: float) -> Figure:
    if timings is None:
        return Figure("ask", "follow-up p50 (ms)", "skipped", "",
                      "agents.ask.pipeline.ask takes no follow_up_of yet")
    follow_p50, first_p50 = median(timings[0]), median(timings[1])
    ratio = follow_p50 / first_p50
    return Figure("ask", "follow-up p50 turn 2 -> rows (ms)", f"{follow_p50:.1f}",
                  "<= first turns x1.1", f"first turns {first_p50:.1f} (x{ratio:.2f});"
                  f" ask p50 {p50:.1f}; {len(timings[0])} turns", ratio <= 1.1)


def run() -> list[Figure]:
    """Warm up (and score), then time ask() and the gold SQL question by question."""
    from agents.ask.pipeline import ask
    from agents.commands.evaluation import (
        DEFAULT_USER,
        SQL_QUESTIONS,
        evaluate_sql,
        load_sql_questions,
        run_gold,
    )
    from agents.sql.planner import plan_question

    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    with bench_resources() as resources:
        warm = evaluate_sql(SQL_QUESTIONS, resources)
        questions = load_sql_questions(SQL_QUESTIONS)
        pipeline_ms: list[float] = []
        gold_ms: list[float] = []
        plan_ms: list[float] = []
        for _ in range(ROUNDS):
            for question in questions:
                login = question.user or DEFAULT_USER
                started = time.perf_counter()
                ask(question.question, login, resources)
                pipeline_ms.append(_ms(started))
                started = time.perf_counter()
                run_gold(question, login, resources)
                gold_ms.append(_ms(started))
                started = time.perf_counter()
                plan_question(question.question, resources.planning)
                plan_ms.append(_ms(started))
        follow_ups = follow_up_ms(resources)

    p50, p95 = median(pipeline_ms), percentile(pipeline_ms, 95)
    gold_p50, gold_p95 = median(gold_ms), percentile(gold_ms, 95)
    passed = warm.count("pass")
    return [
        Figure("ask", "questions x rounds", f"{len(questions)} x {ROUNDS}"),
        Figure(
            "ask",
            "p50 question -> rows (ms)",
            f"{p50:.1f}",
            f"<= {P50_TARGET_MS:g}",
            f"gold SQL alone {gold_p50:.1f} (pipeline x{p50 / gold_p50:.2f})",
            p50 <= P50_TARGET_MS,
        ),
        _follow_up_figure(follow_ups, p50),
        Figure(
            "ask",
            "p95 question -> rows (ms)",
            f"{p95:.1f}",
            f"<= {P95_TARGET_MS:g}",
            f"gold SQL alone {gold_p95:.1f} (pipeline x{p95 / gold_p95:.2f})",
            p95 <= P95_TARGET_MS,
        ),
        Figure(
            "ask",
            "p50 planning alone (ms)",
            f"{median(plan_ms):.2f}",
            "",
            f"{100 * median(plan_ms) / p50:.1f}% of the pipeline's p50",
        ),
        Figure(
            "ask",
            "offline execution accuracy",
            f"{passed}/{len(warm.outcomes)} ({100 * warm.accuracy:.1f}%)",
            f">= {100 * ACCURACY_TARGET:.0f}%",
            "",
            warm.accuracy >= ACCURACY_TARGET,
        ),
    ]


if __name__ == "__main__":
    print_table(run())
