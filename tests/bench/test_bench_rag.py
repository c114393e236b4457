"""bench/rag.py at a tiny scale: the corpus, the recall computation and the ACL hold, so the
benchmark cannot rot between runs of `make bench`. No timing is asserted here."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import psycopg
from pgvector.psycopg import register_vector
from sqlalchemy.engine import make_url

from agents.docs.retrieval import HYBRID_SQL
from bench.rag import (
    RECALL_K,
    RagConfig,
    figures,
    measure,
    reader_settings,
    recall_at_k,
    sqlalchemy_url,
    uses_hnsw,
    vector_arm_sql,
    vector_search,
)
from bench.rag_corpus import (
    DEPARTMENTS,
    generate_corpus,
    generate_queries,
    write_corpus,
)


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def test_corpus_is_deterministic_bilingual_and_balanced(tmp_path: Path) -> None:
    first, again, other = generate_corpus(40, 7), generate_corpus(40, 7), generate_corpus(40, 8)
    assert first == again
    assert first != other
    assert {d.language for d in first} == {"en", "fr"}
    # Each department, hence each access group, owns the same share of the documents.
    assert set(Counter(d.department for d in first).values()) == {4}
    write_corpus(first, tmp_path / "a")
    write_corpus(again, tmp_path / "b")
    assert _tree_digest(tmp_path / "a") == _tree_digest(tmp_path / "b")
    assert "finance/*" in (tmp_path / "a" / "acl.yaml").read_text()
    assert generate_queries(20, 7) == generate_queries(20, 7)
    assert {q.group for q in generate_queries(20, 7)} == set(DEPARTMENTS)


def test_recall_and_the_shipped_query() -> None:
    assert recall_at_k([1, 2, 3], [3, 2, 1]) == 1.0
    assert recall_at_k([1, 9], [1, 2]) == 0.5
    assert recall_at_k([], [1, 2]) == 0.0
    assert recall_at_k([], []) == 1.0
    # The recall is measured on the kNN arm of the real query with the real settings.
    arm = vector_arm_sql()
    assert arm in HYBRID_SQL and "acl_groups && %(groups)s" in arm
    assert any("iterative_scan" in s for s in reader_settings())
    # The embedded server listens on a unix socket: its directory must survive the conversion.
    for conninfo in ("postgresql://postgres:@/db1?host=/tmp/pg%20data",
                     "user=postgres dbname=db1 host='/tmp/pg data'"):
        url = make_url(sqlalchemy_url(conninfo))
        assert (url.drivername, url.username, url.database) == ("postgresql+psycopg", "postgres",
                                                                "db1")
        assert url.host is None and url.query["host"] == "/tmp/pg data"


def test_bench_runs_at_tiny_scale(fresh_db: str) -> None:
    config = RagConfig(documents=20, total_chunks=300, queries=10, rounds=1)
    result = measure(fresh_db, config)

    assert result.total_chunks == 300
    assert 0.08 <= result.kept_share <= 0.12
    assert result.ingest.chunks > 0
    assert "unchanged 20" in result.reingest_summary
    assert "0 chunks embedded" in result.reingest_summary
    assert result.peer is not None and result.peer_ingest is not None, result.peer_error
    assert result.peer_hnsw is not None
    assert result.peer_ingest.chunks == result.ingest.chunks, "both index the same chunks"
    for name, searched in (("ours", result.ours), ("peer", result.peer),
                           ("peer+hnsw", result.peer_hnsw)):
        assert len(searched.recalls) == config.queries, name
        assert all(0.0 <= r <= 1.0 for r in searched.recalls), name
        assert len(searched.latencies_ms) == config.queries * config.rounds, name
        assert searched.results_checked > 0 and searched.outside_acl == 0, name
    assert 0 <= result.ours.hnsw_retrievals <= config.queries * (config.rounds + 1)
    # At 30 rows a group the iterative scan must find the true neighbours; the peer without an
    # index scans exactly.
    assert result.ours.recall >= 0.9
    assert result.peer.recall >= 0.99
    rows = figures(result)
    assert {f.name for f in rows} >= {"ingest throughput (chunks/s)", "corpus"}
    assert all(f.ok is not None for f in rows if f.target and f.target != "10%")

    # Independently of the bench's own bookkeeping: the filtered kNN only returns the group's rows.
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        register_vector(conn)
        row = conn.execute(
            "SELECT embedding FROM app.chunks WHERE acl_groups = ARRAY['legal'] LIMIT 1"
        ).fetchone()
        assert row is not None
        probe = row[0]
        found = vector_search(conn, probe, "finance", RECALL_K)
        exact = vector_search(conn, probe, "finance", RECALL_K, mode="exact")
        forced = vector_search(conn, probe, "finance", RECALL_K, mode="hnsw")
        forced_plan = vector_search(conn, probe, "finance", RECALL_K, mode="hnsw", explain=True)
        groups = conn.execute(
            "SELECT DISTINCT acl_groups FROM app.chunks WHERE chunk_id = ANY(%s)",
            (found + exact + forced,),
        ).fetchall()
    assert len(found) == len(exact) == len(forced) == RECALL_K
    assert groups == [(["finance"],)]
    assert uses_hnsw(forced_plan), "recall@10 would otherwise measure an exact scan"
    assert 0.0 <= recall_at_k(forced, exact) <= 1.0
