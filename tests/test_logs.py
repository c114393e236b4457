"""Structured logs: one JSON line per record, one line per question, and no secret in them.

The end-to-end tests run `sourced ask` in a subprocess with SOURCED_LOG_JSON=1 against the
scripted model server, as an operator would, and read everything the process wrote.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from psycopg.conninfo import conninfo_to_dict

from agents.config import load_settings
from agents.logs import OWN_LOGGERS, QUIET_LOGGERS, Redactor, setup_logging
from tests.fake_openai import Reply, asks_about_documents, asks_for_route

API_KEY = "sk-log-test-0123456789abcdef"
DB_PASSWORD = "pg-pass-9f8e7d6c"
DOCS_QUESTION = "How many days of remote work are allowed per week?"


def _url_with_password(database_url: str) -> str:
    """The test database's URL with a password (the embedded server trusts, so it still works)."""
    params = conninfo_to_dict(database_url)
    host, port = str(params.get("host", "localhost")), params.get("port", 5432)
    user, dbname = params.get("user", "postgres"), params["dbname"]
    if host.startswith("/"):  # a socket directory goes in the query string
        socket = quote(host, safe="")
        return f"postgresql://{user}:{DB_PASSWORD}@/{dbname}?host={socket}&port={port}"
    return f"postgresql://{user}:{DB_PASSWORD}@{host}:{port}/{dbname}"


def ask_cli(fake: Any, database_url: str, question: str = DOCS_QUESTION,
            json_logs: bool = True) -> subprocess.CompletedProcess[str]:
    env = os.environ.copy()
    env.update({
        "SOURCED_LOG_JSON": "1" if json_logs else "0",
        "SOURCED_LLM_MODEL": "fake-model",
        "SOURCED_LLM_BASE_URL": fake.base_url,
        "SOURCED_LLM_API_KEY": API_KEY,
        "SOURCED_LLM_MAX_RETRIES": "0",
        "SOURCED_LLM_TIMEOUT_S": "10",
        "SOURCED_DATABASE_URL": _url_with_password(database_url),
        "PYTHONIOENCODING": "utf-8",
    })
    return subprocess.run([sys.executable, "-m", "agents.commands.cli", "ask", question, "--json"],
                          capture_output=True, text=True, env=env, timeout=180)


def json_lines(stderr: str) -> list[dict[str, Any]]:
    records = []
    for line in stderr.splitlines():
        if line.strip():
            record = json.loads(line)  # fails the test on any line that is not JSON
            assert {"ts", "level", "logger", "message"} <= set(record), record
            records.append(record)
    return records


def assert_no_secret(*outputs: str) -> None:
    for output in outputs:
        assert API_KEY not in output
        assert DB_PASSWORD not in output


def test_one_json_line_per_question_with_timings(resources, fake_llm, database_url) -> None:
    fake_llm.on(asks_for_route, '{"route": "docs", "reason": "a policy question"}')
    fake_llm.on(asks_about_documents, "Two days of remote work per week are allowed [1].")
    done = ask_cli(fake_llm, database_url)
    assert done.returncode == 0, done.stderr
    assert fake_llm.chat_requests(asks_about_documents), "the model was never asked"
    answer = json.loads(done.stdout)
    records = json_lines(done.stderr)
    answered = [r for r in records if r["message"] == "answered"]
    assert len(answered) == 1, records
    line = answered[0]
    assert line["logger"] == "sourced.ask" and line["level"] == "INFO"
    assert line["answer_id"] == answer["answer_id"]
    assert line["route"] == "docs" and line["user"] == "alice" and line["error"] is None
    assert line["timings_ms"]["total"] > 0
    assert_no_secret(done.stdout, done.stderr)


@pytest.mark.parametrize("status", [401, 500])
def test_provider_error_echoing_the_key_is_redacted(resources, fake_llm, database_url,
                                                     status: int) -> None:
    # A provider that quotes the key back (OpenAI does, partly, on a 401) and a header dump.
    body = (f"Incorrect API key provided: {API_KEY}. "
            f"Request headers: {{'Authorization': 'Bearer {API_KEY}'}}")
    fake_llm.on(lambda request: True, Reply(body, status=status))
    done = ask_cli(fake_llm, database_url)
    assert done.returncode == 0, done.stderr
    assert fake_llm.chat_requests(), "the model was never asked"
    records = json_lines(done.stderr)
    assert len([r for r in records if r["message"] == "answered"]) == 1
    # The error body did reach the log (so the redaction was exercised), masked.
    echoed = [r for r in records if "Incorrect API key provided" in json.dumps(r)]
    assert echoed, records
    assert any("***" in json.dumps(r) for r in echoed)
    assert_no_secret(done.stdout, done.stderr)


def test_text_logs_are_redacted_too(resources, fake_llm, database_url) -> None:
    fake_llm.on(lambda request: True,
                Reply(f"Incorrect API key provided: {API_KEY}", status=401))
    done = ask_cli(fake_llm, database_url, json_logs=False)
    assert done.returncode == 0, done.stderr
    assert "Incorrect API key provided: ***" in done.stderr
    assert "Traceback" not in done.stderr
    assert_no_secret(done.stdout, done.stderr)


# ---------------------------------------------------------------- in process


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    names = (*OWN_LOGGERS, *QUIET_LOGGERS, "sqlglot")
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    for name, level in saved_levels.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(False)


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("connect postgresql://bob:s3cr3t-pw@db.internal:5432/sourced failed", "s3cr3t-pw"),
        ("dsn: user=bob password=s3cr3t-pw host=db", "s3cr3t-pw"),
        ("dsn: user=bob password='s3 cr3t' host=db", "s3 cr3t"),
        ("Authorization: Bearer abc.def-ghi_jkl", "abc.def-ghi_jkl"),
        ("{'authorization': 'Bearer tok123456'}", "tok123456"),
        ('{"api_key": "k-99887766"}', "k-99887766"),
        ("pasted sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX into the chat", "ABCDEFGHIJKLMNOPQRSTUVWX"),
        (f"configured key {API_KEY} echoed", API_KEY),
    ],
)
def test_redactor(text: str, hidden: str) -> None:
    redacted = Redactor([API_KEY])(text)
    assert hidden not in redacted and "***" in redacted


def test_redactor_leaves_ordinary_text_alone() -> None:
    redact = Redactor([API_KEY, "ab"])  # too short to mask as a literal
    for text in ("http://127.0.0.1:8080/v1", "postgresql://bob@db/sourced",
                 "answered route=sql in 12 ms", "about tables"):
        assert redact(text) == text


def test_settings_secrets_are_masked_in_messages_args_extras_and_tracebacks(
        restore_logging, capsys) -> None:
    settings = load_settings(llm_api_key=API_KEY, embed_api_key="emb-key-5566",
                             openai_api_key="oa-key-7788", log_json=True,
                             database_url=f"postgresql://bob:{DB_PASSWORD}@db:5432/sourced")
    setup_logging(settings)
    handler = setup_logging(settings)  # idempotent: still one handler of ours
    assert [h for h in logging.getLogger().handlers if h.get_name() == "sourced"] == [handler]
    log = logging.getLogger("sourced.test")
    log.info("answered", extra={"answer_id": "a1", "route": "sql", "user": "alice",
                                "timings_ms": {"total": 12.5}, "error": f"key {API_KEY}"})
    log.warning("embedding call with %s and %r", "emb-key-5566", {"key": "oa-key-7788"})
    log.warning("pool error for host=db password=%s", DB_PASSWORD)
    try:
        raise RuntimeError(f"Error code: 401 - {{'message': 'Incorrect API key {API_KEY}'}}")
    except RuntimeError:
        log.exception("provider failed")
    err = capsys.readouterr().err
    records = json_lines(err)
    assert len(records) == 4
    assert records[0]["timings_ms"] == {"total": 12.5} and records[0]["answer_id"] == "a1"
    assert records[0]["error"] == "key ***"
    assert "Incorrect API key ***" in records[3]["exc"]
    for secret in (API_KEY, DB_PASSWORD, "emb-key-5566", "oa-key-7788"):
        assert secret not in err


def test_noisy_loggers_are_quieted(restore_logging, capsys) -> None:
    import sqlglot

    setup_logging(load_settings(log_json=True))
    # sqlglot echoes a statement it cannot parse; that statement may be a user's SQL.
    sqlglot.parse_one(f"CREATE USER x WITH PASSWORD '{DB_PASSWORD}'", read="postgres")
    logging.getLogger("httpx").info("HTTP Request: POST http://x/v1/chat/completions")
    assert capsys.readouterr().err == ""
    assert logging.getLogger("sqlglot").getEffectiveLevel() == logging.ERROR
    for name in QUIET_LOGGERS:
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING


def test_a_secret_pasted_into_a_question_is_not_kept_in_the_query_log(resources: Any) -> None:
    from agents.ask import pipeline

    key = "sk-proj-" + "Q" * 12 + "abcdefghijklmnop"
    question = f"revenue in 2018 password=hunter2-secret and my key {key}"

    answer = pipeline.ask(question, "alice", resources)

    with resources.app_pool.connection() as conn:
        logged, text = conn.execute("SELECT question, answer_text FROM app.query_log"
                                    " WHERE answer_id = %s", (answer.answer_id,)).fetchone()
    assert "hunter2-secret" not in logged and key not in logged
    assert "hunter2-secret" not in (text or "") and key not in (text or "")
    assert logged.startswith("revenue in 2018 password=***")
