"""Logging for the CLI and the app: JSON lines or readable text, with secrets redacted.

`setup_logging(settings)` installs one handler on the root logger (stderr). With
`SOURCED_LOG_JSON=1` every record is one JSON object per line: ts, level, logger, message, and
the `extra` fields the code passes (answer_id, route, user, timings_ms, error...). Otherwise the
same content as text.

Whatever the format, a redaction filter runs first: the configured API keys, passwords in
database URLs and conninfo strings, and `Authorization` headers become `***` in the message,
its arguments, the extra fields and tracebacks. A provider's error body that echoes the key, or
a psycopg error quoting a DSN, therefore never reaches a log file.

The function is idempotent: Streamlit re-runs its script on every interaction and tests call it
repeatedly; each call replaces the handler it installed before instead of adding a second one.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from agents.config import Settings

HANDLER_NAME = "sourced"
MASK = "***"
# Shorter "secrets" are not masked as literals: replacing every "ok" or "abc" in every line
# would shred the logs and protect nothing (URL passwords are masked by pattern, any length).
MIN_LITERAL_SECRET = 4

# Our own code logs under these names; they carry the per-question INFO lines.
OWN_LOGGERS = ("sourced", "agents", "sql_guard")
# Clients that log every request at INFO (httpx: "HTTP Request: POST ..."; openai: retries, and
# at DEBUG the request options including headers). WARNING keeps their failures only.
QUIET_LOGGERS = ("httpx", "httpcore", "openai", "urllib3")
# sqlglot warns "'<the user's SQL>' contains unsupported syntax. Falling back to parsing as a
# 'Command'" - it echoes whole statements (and whatever literals they hold) into the log, and the
# guard already reports what it refuses. Only its errors are kept.
SQLGLOT_LOGGER = "sqlglot"

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {
    "message", "asctime", "taskName",
}
_REDACTED_MARK = "_sourced_redacted"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # scheme://user:PASSWORD@host (postgresql://, postgres://, http basic auth...).
    (re.compile(r"(?P<keep>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/?#@]*:)[^\s/@]+(?=@)"),
     rf"\g<keep>{MASK}"),
    # libpq conninfo ("host=... password=secret") as psycopg prints it, quoted or not.
    (re.compile(r"(?P<keep>\b(?:password|passwd|pgpassword)\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^\s'\"]+)",
                re.IGNORECASE),
     rf"\g<keep>{MASK}"),
    # Header dumps: "Authorization: Bearer sk-...", {'authorization': 'Bearer ...'}, api-key: ...
    (re.compile(r"(?P<keep>\b(?:proxy-)?(?:authorization|x-api-key|api-key)[\"']?\s*[:=]\s*[\"']?"
                r"(?:(?:bearer|basic|token)\s+)?)[^\s\"',;}]+", re.IGNORECASE),
     rf"\g<keep>{MASK}"),
    # A bare bearer token anywhere else.
    (re.compile(r"(?P<keep>\bbearer\s+)[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE), rf"\g<keep>{MASK}"),
    # Python reprs and JSON of option dicts: 'api_key': 'sk-...', "password": "...".
    (re.compile(r"(?P<keep>[\"']?\b(?:api_key|apikey|password|secret|access_token|token)[\"']?"
                r"\s*[:=]\s*)(?P<q>[\"'])(?:(?!(?P=q)).)+(?P=q)", re.IGNORECASE),
     rf"\g<keep>\g<q>{MASK}\g<q>"),
    # OpenAI-style keys even when they are not ours (a key pasted into a question or an error).
    (re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}"), MASK),
]


class Redactor:
    """Replaces known secret values and secret-looking patterns with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: tuple[str, ...] = ()
        self.set_secrets(secrets)

    def set_secrets(self, secrets: Iterable[str]) -> None:
        unique = {s for s in secrets if s and len(s) >= MIN_LITERAL_SECRET}
        # Longest first, so a secret containing another is masked whole.
        self.secrets = tuple(sorted(unique, key=len, reverse=True))

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor:
        return cls(secrets_of(settings))

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def found_in(self, text: str) -> list[str]:
        """The secret-looking values the patterns would mask in `text` (to mask their echoes)."""
        found = []
        for pattern, _ in _PATTERNS:
            for match in pattern.finditer(text):
                keep = match.groupdict().get("keep") or ""
                value = match.group(0)[len(keep):].strip("\"' ")
                if len(value) >= MIN_LITERAL_SECRET:
                    found.append(value)
        return found

    def value(self, value: Any) -> Any:
        """Redact strings inside an extra field (dicts, lists and tuples are walked)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(v) for v in value]
        if isinstance(value, bool | int | float | Decimal | UUID | datetime | date | type(None)):
            return value
        # Anything else (an exception, a custom object) is logged through its text, redacted.
        return self(str(value))


def secrets_of(settings: Settings) -> list[str]:
    """The secret values a configuration holds: API keys and database passwords."""
    found: list[str] = []
    for field in ("llm_api_key", "embed_api_key", "openai_api_key"):
        secret = getattr(settings, field, None)
        if secret is not None:
            found.append(secret.get_secret_value())
    found.extend(v.api_key.get_secret_value() for v in settings.ab_variants if v.api_key)
    for field in ("database_url", "warehouse_url"):
        secret = getattr(settings, field, None)
        if secret is not None:
            password = _password_of(secret.get_secret_value())
            if password:
                found.append(password)
    return found


def _password_of(url: str) -> str | None:
    from psycopg.conninfo import conninfo_to_dict

    try:
        value = conninfo_to_dict(url).get("password")
    except Exception:  # a malformed URL: the patterns still mask what looks like a password
        return None
    return str(value) if value else None


class RedactingFilter(logging.Filter):
    """Rewrites a record in place, before any formatter sees it.

    The message is merged with its arguments first (an exception or a dict passed as `%s`
    argument can hold a key), and the traceback is formatted and redacted into `exc_text`, which
    every standard formatter then uses instead of formatting the exception again.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _REDACTED_MARK, False):
            return True
        redact = self.redactor
        try:
            message = record.getMessage()
        except Exception:  # mismatched %-arguments: keep both parts rather than lose the line
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message).rstrip("\n"), None
        for key, value in list(vars(record).items()):
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                setattr(record, key, redact.value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        setattr(record, _REDACTED_MARK, True)
        return True


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The `extra=` fields of a record (what the standard attributes are not)."""
    return {k: v for k, v in vars(record).items()
            if k not in _RECORD_ATTRS and not k.startswith("_")}


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)  # UUID, Path, anything else


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the extra fields, exc."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            payload.setdefault(key, value)  # the core fields win over a same-named extra
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exc"] = record.exc_text
        if record.stack_info:
            payload["stack"] = record.stack_info
        # Redact values, not the serialised line: a pattern run over JSON text could eat a
        # closing quote. json.dumps escapes newlines, so a traceback stays on one line.
        return json.dumps(self.redactor.value(payload), ensure_ascii=False, default=_json_default)


class TextFormatter(logging.Formatter):
    """`2025-01-01 12:00:00,000 INFO sourced.ask: answered route=sql timings_ms={...}`."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = extra_fields(record)
        if extras:
            fields = " ".join(f"{k}={json.dumps(v, ensure_ascii=False, default=_json_default)}"
                              for k, v in extras.items())
            head, sep, tail = text.partition("\n")  # after the message, before a traceback
            text = f"{head} {fields}{sep}{tail}"
        return self.redactor(text)


class StderrHandler(logging.Handler):
    """Writes to whatever `sys.stderr` is when a record comes.

    Streamlit and pytest replace sys.stderr; a StreamHandler would keep writing to the stream
    it was created with, possibly closed by then.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            stream = sys.stderr
            stream.write(line + "\n")
            stream.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def setup_logging(settings: Settings, *, level: int = logging.INFO) -> logging.Handler:
    """Configure logging for this process (idempotent); return the handler installed.

    `level` applies to Sourced's own loggers (the per-question "answered" line is INFO); other
    libraries log their warnings and errors only. The CLI passes WARNING in text mode so a
    person at a terminal sees problems, not one line per question.
    """
    redactor = Redactor.from_settings(settings)
    handler = StderrHandler()
    handler.set_name(HANDLER_NAME)
    handler.addFilter(RedactingFilter(redactor))
    handler.setFormatter(JsonFormatter(redactor) if settings.log_json else TextFormatter(redactor))

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger(SQLGLOT_LOGGER).setLevel(logging.ERROR)
    # Python warnings (a library's DeprecationWarning...) go through the same handler, so in
    # JSON mode every line on stderr is JSON and a warning quoting a secret is redacted too.
    logging.captureWarnings(True)
    return handler

