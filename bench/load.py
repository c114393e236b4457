"""Load benchmark: concurrent users asking through the offline pipeline; the connections taken.

`USERS` threads (default 20) share one `Resources` and ask `agents.ask.pipeline.ask` for `SECONDS`
(default 60; `SOURCED_BENCH_LOAD_SECONDS` overrides it for a quick run). Each thread is one of the
demo users of seed_data/users.yaml (alice, bruno, chloe, david, emma in turn, so four threads per
login at 20) and walks its login's mix of data questions (seed_data/eval/sql_questions.yaml) and
document questions (seed_data/eval/rag_questions.yaml, restricted ones included), in English and
French. Before the clock starts, the whole mix is asked once sequentially (warm-up, and each
answer is kept as the expected one), then once more, timed: the single-user peer.

Measured: throughput, p50/p95/p99 latency, errors, answers that differ from the same user's
sequential answer, the pools' waits, and the Postgres connections of the benchmark's database
before, during (max of a sample every 0.5 s) and after the load, against the bound the pool sizes
imply.

The benchmark seeds a database of its own (bench.ask.bench_resources), ingests the demo documents
into it, saves a few verified queries as an analyst would, and drops it at the end.

Run: python -m bench.load
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from bench.common import Figure, median, percentile, print_table

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

    from agents.ask.answer import Answer
    from agents.resources import Resources

USERS = 20
SECONDS = 60.0
SECONDS_ENV = "SOURCED_BENCH_LOAD_SECONDS"
LOGINS = ("alice", "bruno", "chloe", "david", "emma")
QUESTIONS_PER_LOGIN = 40
DATA_SHARE = 0.6
SAMPLE_EVERY_S = 0.5
PROGRESS_EVERY_S = 5.0
VERIFIED_QUERIES = 3
SEED = 7
# Errors that are answers, not failures: the planner declining a question it does not
# understand, and the guard refusing a table the user may not read (employees for non-HR).
EXPECTED_ERRORS = frozenset({"not_understood", "GuardRejected"})
# A thread still inside ask() this long after the clock stopped is stuck: past the pool's
# 30 s checkout timeout and the 15 s statement timeout.
JOIN_GRACE_S = 60.0
# After the pools close, the server takes a moment to end the backends.
CLOSE_SETTLE_S = 5.0

COUNT_SQL = (
    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
    " AND datname = ANY(%s) AND pid <> pg_backend_pid()"
)


def _progress(message: str) -> None:
    print(f"[load] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the mix


@dataclass(frozen=True)
class Question:
    login: str
    text: str
    kind: str  # "data" | "docs"
    lang: str


def build_mix(logins: Sequence[str], per_login: int = QUESTIONS_PER_LOGIN,
              data_share: float = DATA_SHARE, seed: int = SEED) -> dict[str, list[Question]]:
    """Each login's questions: a seeded sample of the evaluation sets, data and documents mixed.

    Data questions tied to one user (`user: bruno`) only go to that user; document questions
    include the restricted ones, which users outside their groups must get "not found" for.
    """
    from agents.commands.evaluation import (
        RAG_QUESTIONS,
        SQL_QUESTIONS,
        load_rag_questions,
        load_sql_questions,
    )

    sql_questions = load_sql_questions(SQL_QUESTIONS)
    rag_questions = load_rag_questions(RAG_QUESTIONS)
    mix: dict[str, list[Question]] = {}
    for n, login in enumerate(logins):
        rng = random.Random(seed * 1000 + n)
        data = [Question(login, q.question, "data", q.lang) for q in sql_questions
                if q.user in (None, login)]
        docs = [Question(login, q.question, "docs", q.lang) for q in rag_questions]
        n_data = min(len(data), round(per_login * data_share))
        n_docs = min(len(docs), per_login - n_data)
        chosen = rng.sample(data, n_data) + rng.sample(docs, n_docs)
        rng.shuffle(chosen)
        mix[login] = chosen
    return mix


def sequential_order(mix: dict[str, list[Question]]) -> list[Question]:
    """The whole mix for one asker: the logins' questions interleaved, as they would arrive."""
    order: list[Question] = []
    for i in range(max(len(v) for v in mix.values())):
        order.extend(questions[i] for questions in mix.values() if i < len(questions))
    return order


def outcome(answer: Answer) -> tuple[Any, ...]:
    """What must not change under load: route, error, SQL, rows and the passages shown."""
    return (answer.route, answer.error, answer.sql_source, answer.sql, tuple(answer.columns),
            repr(answer.rows), tuple((s.path, s.section, s.page) for s in answer.sources))


# ---------------------------------------------------------------- asking


@dataclass(frozen=True)
class Failure:
    question: Question
    kind: str  # "error" | "exception" | "mismatch"
    detail: str


@dataclass
class AskStats:
    """What one pass (sequential, or all threads together) produced."""

    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)  # answers finished in the window
    answers: int = 0  # every answer, including those finished after the window
    expected: Counter[str] = field(default_factory=Counter)  # not_understood, GuardRejected...
    failures: list[Failure] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds > 0 else 0.0

    def count(self, kind: str) -> int:
        return sum(1 for f in self.failures if f.kind == kind)

    def merge(self, other: AskStats) -> None:
        self.latencies_ms.extend(other.latencies_ms)
        self.answers += other.answers
        self.expected.update(other.expected)
        self.failures.extend(other.failures)


def ask_once(question: Question, resources: Resources, stats: AskStats,
             expected: dict[Question, tuple[Any, ...]] | None) -> tuple[float, Answer | None]:
    """Ask one question; classify the answer into `stats`. Returns the latency and the answer."""
    from agents.ask.pipeline import ask

    started = time.perf_counter()
    try:
        answer = ask(question.text, question.login, resources)
    except Exception as exc:  # ask() promises never to raise: this is a failure in itself
        stats.answers += 1
        stats.failures.append(Failure(question, "exception", f"{type(exc).__name__}: {exc}"))
        return (time.perf_counter() - started) * 1000, None
    latency = (time.perf_counter() - started) * 1000
    stats.answers += 1
    if answer.error is not None and answer.error not in EXPECTED_ERRORS:
        stats.failures.append(Failure(question, "error", f"{answer.error}: {answer.text[:200]}"))
    else:
        if answer.error is not None:
            stats.expected[answer.error] += 1
        elif answer.route == "refused":
            stats.expected["refused"] += 1
        if expected is not None and expected.get(question) != outcome(answer):
            stats.failures.append(Failure(
                question, "mismatch",
                f"alone: {expected.get(question)!r:.200} / under load: {outcome(answer)!r:.200}"))
    return latency, answer


def run_sequential(questions: Sequence[Question], resources: Resources,
                   expected: dict[Question, tuple[Any, ...]] | None = None,
                   label: str = "sequential") -> tuple[AskStats, dict[Question, tuple[Any, ...]]]:
    """Ask every question in turn from one thread; return the stats and each answer's outcome."""
    stats = AskStats()
    outcomes: dict[Question, tuple[Any, ...]] = {}
    started = time.perf_counter()
    for n, question in enumerate(questions, start=1):
        latency, answer = ask_once(question, resources, stats, expected)
        stats.latencies_ms.append(latency)
        if answer is not None:
            outcomes[question] = outcome(answer)
        if n % 50 == 0 or n == len(questions):
            _progress(f"{label}: {n}/{len(questions)} answered")
    stats.seconds = time.perf_counter() - started
    return stats, outcomes


# ---------------------------------------------------------------- connections


def database_names(resources: Resources) -> list[str]:
    """The databases the pools connect to (the app's, and the warehouse's when it is apart)."""
    names = {conninfo_to_dict(url).get("dbname") for url in (resources.urls.app,
                                                              resources.urls.warehouse)}
    return sorted(str(n) for n in names if n)


def count_connections(conn: psycopg.Connection, databases: Sequence[str]) -> int:
    """Client connections to those databases, the counting connection itself left out."""
    row = conn.execute(COUNT_SQL, (list(databases),)).fetchone()
    return int(row[0]) if row else 0


def pools_in_play(resources: Resources, logins: Sequence[str]) -> dict[str, ConnectionPool]:
    """The app pool and the reader pool of each asking login's access profile."""
    pools: dict[str, ConnectionPool] = {"app": resources.app_pool}
    for login in logins:
        user = resources.directory.get(login)
        pools[f"reader {resources.profile_for(user).role}"] = resources.reader_pool(user)
    return pools


def pool_stats(pools: dict[str, ConnectionPool]) -> dict[str, dict[str, int]]:
    return {name: dict(pool.get_stats()) for name, pool in pools.items()}


class Monitor:
    """Samples the connection count (and the clients waiting for a pool) every `every` s."""

    def __init__(self, url: str, databases: Sequence[str], pools: dict[str, ConnectionPool],
                 every: float = SAMPLE_EVERY_S) -> None:
        self._url = url
        self._databases = list(databases)
        self._pools = pools
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-monitor", daemon=True)
        self.samples: list[int] = []
        self.max_waiting = 0
        self.max_checked_out = 0
        self.error: str | None = None

    def __enter__(self) -> Monitor:
        self._conn = psycopg.connect(self._url, autocommit=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._conn.close()

    @property
    def latest(self) -> int:
        return self.samples[-1] if self.samples else 0

    def _run(self) -> None:
        while True:
            try:
                self.samples.append(count_connections(self._conn, self._databases))
                stats = [pool.get_stats() for pool in self._pools.values()]
            except psycopg.Error as exc:
                self.error = str(exc)
                return
            self.max_waiting = max(self.max_waiting,
                                   sum(s.get("requests_waiting", 0) for s in stats))
            self.max_checked_out = max(self.max_checked_out, sum(
                s.get("pool_size", 0) - s.get("pool_available", 0) for s in stats))
            if self._stop.wait(self._every):
                return


# ---------------------------------------------------------------- the load


@dataclass(frozen=True)
class LoadConfig:
    users: int = USERS
    seconds: float = SECONDS
    logins: tuple[str, ...] = LOGINS
    per_login: int = QUESTIONS_PER_LOGIN
    data_share: float = DATA_SHARE
    sample_every_s: float = SAMPLE_EVERY_S
    seed: int = SEED


@dataclass(frozen=True)
class PoolUse:
    requests: int
    waited: int
    wait_ms: int
    timeouts: int


@dataclass
class LoadResult:
    config: LoadConfig
    mix: dict[str, list[Question]]
    sequential: AskStats
    concurrent: AskStats
    # Connections of the benchmark's databases, the counting connection left out.
    outside_pools: int  # not held by the pools in play when the load starts (the baseline)
    before: int  # when the load starts, pools warmed by the sequential passes
    during_max: int
    after_load: int  # right after the last thread ended, pools still open
    checked_out_after_load: int  # connections given out by a pool and never given back
    after_close: int | None  # once resources.close() ran (None: the caller keeps them open)
    bound: int  # outside_pools + the pools' max sizes
    bound_formula: str
    # Per pool, during the load: checkouts, those that had to wait, ms waited, timeouts.
    pool_use: dict[str, PoolUse]
    max_waiting: int  # most clients waiting for a pool at one sample
    stuck_threads: int
    samples: int
    monitor_error: str | None = None

    @property
    def errors(self) -> int:
        return self.concurrent.count("error") + self.concurrent.count("exception")

    @property
    def pool_timeouts(self) -> int:
        return sum(use.timeouts for use in self.pool_use.values())


def _dump_stuck(threads: Sequence[threading.Thread]) -> None:
    frames = sys._current_frames()
    for thread in threads:
        frame = frames.get(thread.ident or -1)
        _progress(f"thread {thread.name} is still inside ask():")
        if frame is not None:
            print("".join(traceback.format_stack(frame)), file=sys.stderr, flush=True)


def _settle(conn: psycopg.Connection, databases: Sequence[str], target: int) -> int:
    """The connection count, polled until it falls to `target` or CLOSE_SETTLE_S passes."""
    deadline = time.monotonic() + CLOSE_SETTLE_S
    count = count_connections(conn, databases)
    while count > target and time.monotonic() < deadline:
        time.sleep(0.1)
        count = count_connections(conn, databases)
    return count


def measure(resources: Resources, config: LoadConfig, *,
            close: Callable[[], None] | None = None) -> LoadResult:
    """Warm up, ask the mix sequentially (the peer), then load it from `config.users` threads.

    `close`, when given, closes the resources after the load, and the connection count is taken
    again once it has: it must fall back to the count outside the pools.
    """
    logins = tuple(config.logins[i % len(config.logins)] for i in range(config.users))
    used = tuple(dict.fromkeys(logins))
    mix = build_mix(used, config.per_login, config.data_share, config.seed)
    order = sequential_order(mix)

    _progress(f"warm-up: the mix once, sequentially ({len(order)} questions)")
    _, expected = run_sequential(order, resources, None, "warm-up")
    _progress("peer: the same mix again, sequentially, timed")
    sequential, _ = run_sequential(order, resources, expected, "peer")

    pools = pools_in_play(resources, used)
    databases = database_names(resources)
    bound_pools = sum(pool.max_size for pool in pools.values())
    readers = len(pools) - 1
    max_size = resources.settings.pool_max_size
    with psycopg.connect(resources.urls.app, autocommit=True) as conn:
        before_stats = pool_stats(pools)
        before = count_connections(conn, databases)
        in_pools = sum(s.get("pool_size", 0) for s in before_stats.values())
        outside = max(0, before - in_pools)
        bound = outside + bound_pools
        formula = (f"{outside} outside the pools + app pool {resources.app_pool.max_size}"
                   f" + {readers} reader pool(s) x {max_size}")

        per_thread = [AskStats() for _ in range(config.users)]
        stop = threading.Event()
        window_end = [0.0]

        def user(index: int) -> None:
            asks = mix[logins[index]]
            stats = per_thread[index]
            # The threads of one login start at different places of its list.
            start = index // len(used) * len(asks) // logins.count(logins[index])
            n = 0
            while not stop.is_set():
                question = asks[(start + n) % len(asks)]
                n += 1
                latency, _ = ask_once(question, resources, stats, expected)
                if time.perf_counter() <= window_end[0]:
                    stats.latencies_ms.append(latency)

        threads = [threading.Thread(target=user, args=(i,), name=f"user-{i}-{logins[i]}",
                                    daemon=True) for i in range(config.users)]
        _progress(f"load: {config.users} users for {config.seconds:g} s "
                  f"({before} connections, bound {bound})")
        with Monitor(resources.urls.app, databases, pools, config.sample_every_s) as monitor:
            started = time.perf_counter()
            window_end[0] = started + config.seconds
            for thread in threads:
                thread.start()
            while (left := window_end[0] - time.perf_counter()) > 0:
                time.sleep(min(PROGRESS_EVERY_S, left))
                done = sum(s.answers for s in per_thread)
                failed = sum(len(s.failures) for s in per_thread)
                _progress(f"load: {time.perf_counter() - started:5.1f} s, {done} answers, "
                          f"{failed} failures, {monitor.latest} connections "
                          f"(max {max(monitor.samples, default=0)})")
            stop.set()
            join_deadline = time.monotonic() + JOIN_GRACE_S
            for thread in threads:
                thread.join(max(0.0, join_deadline - time.monotonic()))
            stuck = [t for t in threads if t.is_alive()]
            if stuck:
                _dump_stuck(stuck)
        after_stats = pool_stats(pools)
        after_load = count_connections(conn, databases)
        checked_out = sum(s.get("pool_size", 0) - s.get("pool_available", 0)
                          for s in after_stats.values())
        after_close = None
        if close is not None:
            close()
            after_close = _settle(conn, databases, outside)

    concurrent = AskStats(seconds=config.seconds)
    for stats in per_thread:
        concurrent.merge(stats)

    def delta(name: str, key: str) -> int:
        return after_stats[name].get(key, 0) - before_stats[name].get(key, 0)

    return LoadResult(
        config=config, mix=mix, sequential=sequential, concurrent=concurrent,
        outside_pools=outside, before=before,
        during_max=max([before, *monitor.samples, after_load]),
        after_load=after_load, checked_out_after_load=checked_out, after_close=after_close,
        bound=bound, bound_formula=formula,
        pool_use={name: PoolUse(delta(name, "requests_num"), delta(name, "requests_queued"),
                                delta(name, "requests_wait_ms"), delta(name, "requests_errors"))
                  for name in pools},
        max_waiting=monitor.max_waiting, stuck_threads=len(stuck),
        samples=len(monitor.samples), monitor_error=monitor.error,
    )


# ---------------------------------------------------------------- figures


def _failure_summary(stats: AskStats) -> str:
    kinds = Counter(f.kind if f.kind != "error" else f.detail.split(":")[0]
                    for f in stats.failures if f.kind != "mismatch")
    return ", ".join(f"{k} {n}" for k, n in kinds.most_common()) or "none"


def figures(result: LoadResult) -> list[Figure]:
    config, seq, load = result.config, result.sequential, result.concurrent
    questions = [q for qs in result.mix.values() for q in qs]
    kinds = Counter(q.kind for q in questions)
    langs = Counter(q.lang for q in questions)
    spread = Counter(config.logins[i % len(config.logins)] for i in range(config.users))
    low, high = min(spread.values()), max(spread.values())
    threads_per_login = str(low) if low == high else f"{low} to {high}"
    seq_p50, p50 = median(seq.latencies_ms), median(load.latencies_ms)
    speedup = load.throughput / seq.throughput if seq.throughput else float("nan")
    expected = ", ".join(f"{k} {n}" for k, n in sorted(load.expected.items())) or "none"
    after_close = ("not closed" if result.after_close is None else str(result.after_close))
    return [
        Figure("load", "users x seconds",
               f"{config.users} x {config.seconds:g} s",
               "", f"{threads_per_login} thread(s) per login: {', '.join(result.mix)}"),
        Figure("load", "mix (questions)",
               f"{len(questions)}: data {kinds['data']}, docs {kinds['docs']}; "
               f"en {langs['en']}, fr {langs['fr']}"),
        Figure("load", "throughput (answers/s)", f"{load.throughput:.2f}", "",
               f"1 user sequential {seq.throughput:.2f} (x{speedup:.2f} with "
               f"{config.users} users)"),
        Figure("load", "p50 latency (ms)", f"{p50:.0f}", "",
               f"1 user sequential {seq_p50:.0f} (x{p50 / seq_p50:.2f})"),
        Figure("load", "p95 latency (ms)", f"{percentile(load.latencies_ms, 95):.0f}", "",
               f"1 user sequential {percentile(seq.latencies_ms, 95):.0f}"),
        Figure("load", "p99 latency (ms)", f"{percentile(load.latencies_ms, 99):.0f}", "",
               f"1 user sequential {percentile(seq.latencies_ms, 99):.0f}"),
        Figure("load", "errors (answers)",
               f"{result.errors} of {load.answers} ({_failure_summary(load)})", "0",
               f"1 user sequential {seq.count('error') + seq.count('exception')}",
               result.errors == 0),
        Figure("load", "answers unlike the same user's alone",
               str(load.count("mismatch")), "0", f"1 user sequential {seq.count('mismatch')}",
               load.count("mismatch") == 0),
        Figure("load", "expected refusals (answers)", expected),
        Figure("load", "threads stuck after the clock", str(result.stuck_threads), "0", "",
               result.stuck_threads == 0),
        Figure("load", "pg connections before", str(result.before), "",
               f"{result.outside_pools} outside the pools"),
        Figure("load", "pg connections during (max)", str(result.during_max),
               f"<= {result.bound}", f"{result.bound_formula}; {result.samples} samples",
               result.during_max <= result.bound and result.monitor_error is None),
        Figure("load", "pg connections after load", str(result.after_load), "",
               f"{result.checked_out_after_load} still checked out of a pool",
               result.checked_out_after_load == 0),
        Figure("load", "pg connections after close", after_close,
               f"== {result.outside_pools}", "baseline: outside the pools",
               None if result.after_close is None
               else result.after_close == result.outside_pools),
        *(Figure("load", f"{name} pool: checkouts that waited",
                 f"{use.waited} of {use.requests}", "no timeout",
                 f"{use.wait_ms / 1000:.1f} s waited in all"
                 + (f", {use.wait_ms / use.waited:.0f} ms each" if use.waited else "")
                 + f"; timeouts {use.timeouts}",
                 use.timeouts == 0)
          for name, use in result.pool_use.items()),
        Figure("load", "clients waiting for a pool (max)", str(result.max_waiting)),
    ]


# ---------------------------------------------------------------- the benchmark's database


def save_verified_queries(resources: Resources, count: int) -> int:
    """Save `count` questions of the SQL set with their gold SQL, as the analyst chloe would.

    A deployed app has some: with one in the table, every question is compared to them.
    """
    from agents.commands.evaluation import SQL_QUESTIONS, load_sql_questions
    from agents.sql.verified import save_verified

    analyst = resources.directory.get("chloe")
    saved = 0
    for question in load_sql_questions(SQL_QUESTIONS):
        if saved >= count:
            break
        if question.user is None:
            save_verified(resources.app_pool, resources.embedder, analyst, question.question,
                          question.gold_sql, resources.policy_for(analyst))
            saved += 1
    return saved


@contextlib.contextmanager
def load_resources(verified: int = VERIFIED_QUERIES) -> Iterator[Resources]:
    """bench.ask's fresh seeded database, plus the demo documents and a few verified queries."""
    from agents.docs.ingest import ingest_folder
    from bench.ask import bench_resources
    from seed_data import build_docs

    _progress("seeding a database of its own")
    with bench_resources() as resources:
        build_docs.main(["--quiet"])
        _progress("ingesting the demo documents")
        with resources.app_pool.connection() as conn:
            report = ingest_folder(conn, resources.settings.docs_dir, resources.embedder)
        _progress(f"documents: {report.summary()}")
        if verified:
            _progress(f"verified queries saved: {save_verified_queries(resources, verified)}")
        yield resources


def seconds_from_env(default: float = SECONDS) -> float:
    value = os.environ.get(SECONDS_ENV)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise SystemExit(f"{SECONDS_ENV}={value!r} is not a number of seconds") from None
    if seconds <= 0:
        raise SystemExit(f"{SECONDS_ENV} must be positive")
    return seconds


def run(users: int = USERS, seconds: float | None = None,
        verified: int = VERIFIED_QUERIES) -> list[Figure]:
    """Seed, ingest, warm up, load; return the figures for print_table."""
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    config = LoadConfig(users=users, seconds=seconds_from_env() if seconds is None else seconds)
    with load_resources(verified) as resources:
        result = measure(resources, config, close=resources.close)
    for failure in (result.sequential.failures + result.concurrent.failures)[:10]:
        _progress(f"{failure.kind} for {failure.question.login}: {failure.question.text!r}: "
                  f"{failure.detail}")
    return figures(result)


if __name__ == "__main__":
    print_table(run())
