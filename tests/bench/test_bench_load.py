"""bench/load.py at a tiny scale (3 users for 3 s) on the test database: no error, no answer that
differs from the same user's sequential one, connections within the pools' bound, none left
checked out, and back to the baseline once the resources close. No timing is asserted here."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.load import (
    LOGINS,
    LoadConfig,
    LoadResult,
    build_mix,
    figures,
    measure,
    seconds_from_env,
    sequential_order,
)

TINY = LoadConfig(users=3, seconds=3.0, per_login=4, sample_every_s=0.2)


def _check_load(result: LoadResult) -> None:
    load = result.concurrent
    assert load.answers > 0 and load.latencies_ms, "the threads answered during the window"
    assert result.errors == 0, load.failures[:3]
    assert load.count("mismatch") == 0, load.failures[:3]
    assert result.sequential.failures == [], result.sequential.failures[:3]
    assert result.stuck_threads == 0
    assert result.monitor_error is None and result.samples > 0
    assert 0 < result.during_max <= result.bound, (result.during_max, result.bound_formula)
    assert result.checked_out_after_load == 0, "every connection went back to its pool"
    assert result.pool_timeouts == 0
    # The bound is the app pool plus one reader pool per access profile asking.
    assert set(result.pool_use) == {"app", "reader sourced_reader", "reader sourced_reader_emea"}
    assert result.pool_use["app"].requests >= load.answers, "each answer logs through the app pool"
    rows = figures(result)
    assert not [f for f in rows if f.ok is False], [f for f in rows if f.ok is False]


def test_mix_is_bilingual_mixed_and_per_user() -> None:
    mix = build_mix(LOGINS, per_login=10, data_share=0.6)
    assert list(mix) == list(LOGINS)
    assert all(len(questions) == 10 for questions in mix.values())
    assert all(Counter(q.kind for q in questions) == {"data": 6, "docs": 4}
               for questions in mix.values())
    assert {q.lang for qs in mix.values() for q in qs} == {"en", "fr"}
    assert all(q.login == login for login, qs in mix.items() for q in qs)
    assert build_mix(LOGINS, per_login=10) == mix, "seeded: the same mix at every run"
    # A question the evaluation set ties to bruno (his EMEA scope) is never asked by another.
    full = build_mix(LOGINS, per_login=400, data_share=1.0)
    assert "Revenue by country in 2024" in {q.text for q in full["bruno"]}
    assert "Revenue by country in 2024" not in {q.text for q in full["alice"]}
    order = sequential_order(mix)
    assert len(order) == 50 and [q.login for q in order[:5]] == list(LOGINS)


def test_seconds_from_env(monkeypatch: Any) -> None:
    monkeypatch.delenv("SOURCED_BENCH_LOAD_SECONDS", raising=False)
    assert seconds_from_env() == 60.0
    monkeypatch.setenv("SOURCED_BENCH_LOAD_SECONDS", "2.5")
    assert seconds_from_env() == 2.5


def test_load_on_the_shared_resources(resources: Any) -> None:
    result = measure(resources, TINY)
    _check_load(result)
    assert result.after_close is None


def test_load_then_close_returns_to_the_baseline(resources: Any) -> None:
    from agents.resources import build_resources

    own = build_resources(resources.settings, prepare=False)
    try:
        result = measure(own, LoadConfig(users=2, seconds=2.0, per_login=3,
                                         sample_every_s=0.2), close=own.close)
    finally:
        own.close()
    assert result.concurrent.answers > 0 and result.errors == 0
    assert result.during_max <= result.bound
    # The shared fixture's pools stay open: they are outside this Resources' pools.
    assert result.after_close == result.outside_pools
