"""Offline evaluation: SQL execution accuracy and document retrieval quality.

- `evaluate_sql`: each question of `seed_data/eval/sql_questions.yaml` goes through
  `agents.ask.pipeline.ask`, exactly as a user's would; its rows are compared with those of the gold
  SQL, which runs through the same guard and read-only executor under the same user's role (a
  scoped user's row level security applies to both sides).
- `evaluate_rag`: hit@1, hit@5 and MRR of the expected document in `retrieve_chunks`, with the
  user's groups, for `seed_data/eval/rag_questions.yaml`; restricted questions the user may not
  read are checked for leaks instead.

Result comparison (`compare_results`), the rule in full:
1. Values are normalized: every number (int, Decimal, float, bool) becomes a float; a date, or a
   datetime at midnight, becomes its ISO date; other datetimes their ISO text; strings are
   stripped and case-folded, and a string that spells a number becomes that number.
2. Numbers are equal within 0.01 relative (math.isclose(rel_tol=0.01)); other values exactly.
3. Column names are ignored and columns are matched by content: every gold column must be
   matched by a distinct candidate column holding the same multiset of values, and the rows must
   be equal under that mapping. The candidate may carry extra columns (the change and % change
   of a comparison, the share beside a breakdown): they add context without changing the answer.
   The row count must be equal, so an extra or a missing row always fails.
4. Rows are compared as multisets, unless the question is marked `ordered` (top N, "by month"
   when the order is the question), where they are compared position by position; rows tied
   on every number (two countries with 103 new customers each) may come in either order.
A refusal, a question the planner did not understand, or an error counts as a miss.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.config import PROJECT_ROOT
from agents.errors import AssistantError, ConfigError
from agents.language import detect_language
from agents.store.users import read_yaml

if TYPE_CHECKING:
    from agents.ask.answer import Answer
    from agents.resources import Resources

SQL_QUESTIONS = PROJECT_ROOT / "seed_data" / "eval" / "sql_questions.yaml"
RAG_QUESTIONS = PROJECT_ROOT / "seed_data" / "eval" / "rag_questions.yaml"
DEFAULT_USER = "alice"
REL_TOL = 0.01
# Past this many candidate column mappings the answer is reported as a miss rather than searched
# for ever (only happens with many columns of identical values).
MAX_MAPPINGS = 5_000
RAG_DEPTH = 10  # MRR is computed over this many passages; hit@5 over the first five

PASS, MISS, REFUSED, ERROR = "pass", "miss", "refused", "error"


# ---------------------------------------------------------------- comparison


def normalize_value(value: Any) -> Any:
    """A value as compared: floats for numbers, ISO text for dates, folded text for strings."""
    if value is None:
        return None
    if isinstance(value, bool | int | float | Decimal):
        return float(value)
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip().casefold()
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def values_equal(a: Any, b: Any, rel_tol: float = REL_TOL) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-9)
    return bool(a == b)


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0.0)
    if isinstance(value, float):
        return (1, value)
    return (2, str(value))


def _rows_equal(a: Sequence[Any], b: Sequence[Any], rel_tol: float) -> bool:
    return all(values_equal(x, y, rel_tol) for x, y in zip(a, b, strict=True))


def _same_multiset(a: list[Any], b: list[Any], rel_tol: float) -> bool:
    return all(
        values_equal(x, y, rel_tol)
        for x, y in zip(sorted(a, key=_sort_key), sorted(b, key=_sort_key), strict=True)
    )


def _same_row_multiset(gold: list[tuple[Any, ...]], got: list[tuple[Any, ...]],
                       rel_tol: float) -> bool:
    def key(row: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
        return tuple(_sort_key(v) for v in row)

    if all(_rows_equal(g, c, rel_tol)
           for g, c in zip(sorted(gold, key=key), sorted(got, key=key), strict=True)):
        return True
    # Sorting can pair rows wrongly when values straddle the tolerance; match them one by one.
    unused = list(got)
    for row in gold:
        for i, candidate in enumerate(unused):
            if _rows_equal(row, candidate, rel_tol):
                del unused[i]
                break
        else:
            return False
    return True


def _tie_blocks(rows: list[tuple[Any, ...]], rel_tol: float) -> list[tuple[int, int]]:
    """Runs of consecutive rows equal in every number: a ranking may list ties in any order."""
    def numbers(row: tuple[Any, ...]) -> list[Any]:
        return [v for v in row if isinstance(v, float)]

    blocks: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or not (numbers(rows[i]) and _rows_equal(numbers(rows[i]),
                                                                   numbers(rows[start]),
                                                                   rel_tol)):
            blocks.append((start, i))
            start = i
    return blocks


def _mappings(options: list[list[int]]) -> Iterator[tuple[int, ...]]:
    """Injective choices of one candidate column per gold column."""
    for choice in itertools.product(*options):
        if len(set(choice)) == len(choice):
            yield choice


@dataclass(frozen=True)
class Comparison:
    match: bool
    reason: str


def compare_results(gold_rows: Sequence[Sequence[Any]], got_rows: Sequence[Sequence[Any]], *,
                    ordered: bool = False, rel_tol: float = REL_TOL) -> Comparison:
    """Do the candidate's rows answer like the gold rows? (The rule is in the module docstring.)"""
    gold = [tuple(normalize_value(v) for v in row) for row in gold_rows]
    got = [tuple(normalize_value(v) for v in row) for row in got_rows]
    if len(gold) != len(got):
        return Comparison(False, f"{len(got)} rows, expected {len(gold)}")
    if not gold:
        return Comparison(True, "both empty")
    n_gold, n_got = len(gold[0]), len(got[0])
    if n_got < n_gold:
        return Comparison(False, f"{n_got} columns, expected at least {n_gold}")
    gold_cols = [[row[i] for row in gold] for i in range(n_gold)]
    got_cols = [[row[j] for row in got] for j in range(n_got)]
    options = [[j for j in range(n_got) if _same_multiset(g, got_cols[j], rel_tol)]
               for g in gold_cols]
    for i, found in enumerate(options):
        if not found:
            sample = ", ".join(str(v) for v in sorted(gold_cols[i], key=_sort_key)[:3])
            return Comparison(False, f"no column holds the values of gold column {i + 1} "
                                     f"({sample}{', ...' if len(gold) > 3 else ''})")
    unordered_match = False
    for count, mapping in enumerate(_mappings(options)):
        if count >= MAX_MAPPINGS:
            break
        projected = [tuple(row[j] for j in mapping) for row in got]
        if ordered and all(_same_row_multiset(gold[a:b], projected[a:b], rel_tol)
                           for a, b in _tie_blocks(gold, rel_tol)):
            return Comparison(True, "")
        if _same_row_multiset(gold, projected, rel_tol):
            if not ordered:
                return Comparison(True, "")
            unordered_match = True
    if unordered_match:
        return Comparison(False, "right rows in the wrong order")
    return Comparison(False, "the columns match one by one but not row by row")


# ---------------------------------------------------------------- the SQL set


@dataclass(frozen=True)
class SqlQuestion:
    id: str
    question: str
    gold_sql: str
    lang: str
    ordered: bool = False
    user: str | None = None


def load_sql_questions(path: Path) -> list[SqlQuestion]:
    """Read an SQL evaluation file; ConfigError names the file and the faulty entry."""
    data = read_yaml(path)
    items = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{path}: expected `questions:` with a list of questions.")
    questions: list[SqlQuestion] = []
    seen: set[str] = set()
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not item.get("question") or not item.get("gold_sql"):
            raise ConfigError(f"{path}: question {n} needs `question` and `gold_sql`.")
        qid = str(item.get("id") or f"q{n}")
        if qid in seen:
            raise ConfigError(f"{path}: question id {qid!r} is used twice.")
        seen.add(qid)
        text = str(item["question"])
        questions.append(SqlQuestion(
            id=qid,
            question=text,
            gold_sql=str(item["gold_sql"]).strip(),
            lang=str(item.get("lang") or detect_language(text)),
            ordered=bool(item.get("ordered", False)),
            user=str(item["user"]) if item.get("user") else None,
        ))
    return questions


@dataclass(frozen=True)
class SqlOutcome:
    question: SqlQuestion
    user: str
    outcome: str  # pass | miss | refused | error
    reason: str = ""
    sql: str | None = None
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class SqlEvalReport:
    outcomes: tuple[SqlOutcome, ...]
    mode: str

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    @property
    def accuracy(self) -> float:
        """Execution accuracy: passes over all questions (refusals and errors are misses)."""
        return self.count(PASS) / len(self.outcomes) if self.outcomes else 0.0

    def accuracy_for(self, lang: str) -> float:
        subset = [o for o in self.outcomes if o.question.lang == lang]
        return sum(o.outcome == PASS for o in subset) / len(subset) if subset else 0.0


Rows = list[tuple[Any, ...]]


def run_gold(question: SqlQuestion, user_login: str,
             resources: Resources) -> tuple[list[str], Rows]:
    """The gold rows, through the guard and the read-only executor, as the user's role."""
    from agents.sql.executor import run_query
    from sql_guard import check

    user = resources.directory.get(user_login)
    verdict = check(question.gold_sql, resources.policy_for(user))
    if not verdict.allowed:
        raise AssistantError(f"the guard refused the gold SQL: {verdict.reason}")
    result = run_query(verdict, resources.reader_pool(user),
                       statement_timeout_ms=resources.settings.statement_timeout_ms,
                       max_rows=resources.settings.max_rows)
    return result.columns, result.rows


def evaluate_sql(questions_path: Path, resources: Resources, user: str | None = None, *,
                 progress: Callable[[SqlOutcome], None] | None = None) -> SqlEvalReport:
    """Ask every question of the file through the pipeline and compare with its gold rows.

    `resources` are the shared agents.resources.Resources (the mode they were built in is the
    mode evaluated: offline unless a model is configured). A question's own `user` wins over
    `user`, which defaults to alice. Never raises for a failing question: it becomes an outcome.
    Each answer is logged in app.query_log like any other (bench/ask.py uses its own database).
    BadInput when a user is unknown, ConfigError when the file is malformed.
    """
    from agents.ask.pipeline import ask

    questions = load_sql_questions(questions_path)
    for login in {q.user or user or DEFAULT_USER for q in questions}:
        resources.directory.get(login)  # an unknown user stops the run before it starts
    outcomes: list[SqlOutcome] = []
    for question in questions:
        login = question.user or user or DEFAULT_USER
        started = time.perf_counter()
        answer = ask(question.question, login, resources)
        elapsed = (time.perf_counter() - started) * 1000
        outcome = _judge(question, login, answer, resources, elapsed)
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    return SqlEvalReport(outcomes=tuple(outcomes), mode=resources.settings.mode)


def _judge(question: SqlQuestion, login: str, answer: Answer, resources: Resources,
           elapsed: float) -> SqlOutcome:
    def out(outcome: str, reason: str) -> SqlOutcome:
        return SqlOutcome(question, login, outcome, reason, answer.sql, elapsed)

    if answer.route == "refused":
        return out(REFUSED, f"refused: {answer.refusal_reason or answer.text[:80]}")
    if answer.error == "not_understood":
        return out(REFUSED, f"not understood: {answer.explanation or 'no plan'}")
    if answer.error and answer.error != "log_failed":
        return out(ERROR, f"{answer.error}: {answer.text.splitlines()[0][:120]}")
    if not answer.columns:
        return out(MISS, f"no table in the answer (route {answer.route})")
    try:
        _, gold_rows = run_gold(question, login, resources)
    except AssistantError as exc:
        return out(ERROR, f"gold SQL failed: {exc.user_message}")
    verdict = compare_results(gold_rows, answer.rows, ordered=question.ordered)
    return out(PASS if verdict.match else MISS, verdict.reason)


# ---------------------------------------------------------------- retrieval


@dataclass(frozen=True)
class RagQuestion:
    question: str
    expected: str
    lang: str
    groups: frozenset[str] | None = None  # set for restricted documents


@dataclass(frozen=True)
class RagOutcome:
    question: RagQuestion
    rank: int | None  # 1-based rank of the first passage of the expected document
    paths: tuple[str, ...]
    # retrieval: the user may read the document; hidden: they may not and nothing may leak.
    kind: str = "retrieval"

    @property
    def leaked(self) -> bool:
        return self.kind == "hidden" and self.rank is not None


@dataclass(frozen=True)
class RagEvalReport:
    outcomes: tuple[RagOutcome, ...]
    user: str
    depth: int = RAG_DEPTH

    @property
    def _scored(self) -> list[RagOutcome]:
        return [o for o in self.outcomes if o.kind == "retrieval"]

    def hit_at(self, k: int) -> float:
        scored = self._scored
        return sum(1 for o in scored if o.rank and o.rank <= k) / len(scored) if scored else 0.0

    @property
    def mrr(self) -> float:
        scored = self._scored
        return sum(1 / o.rank for o in scored if o.rank) / len(scored) if scored else 0.0

    @property
    def scored(self) -> int:
        return len(self._scored)

    @property
    def hidden(self) -> int:
        return sum(1 for o in self.outcomes if o.kind == "hidden")

    @property
    def leaks(self) -> int:
        return sum(1 for o in self.outcomes if o.leaked)


def load_rag_questions(path: Path) -> list[RagQuestion]:
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise ConfigError(f"{path}: expected `questions:` (and optionally `restricted:`).")
    found: list[RagQuestion] = []
    for section in ("questions", "restricted"):
        for n, item in enumerate(data.get(section) or [], start=1):
            if not isinstance(item, dict) or not item.get("question") or not item.get("expected"):
                raise ConfigError(f"{path}: {section} entry {n} needs `question` and `expected`.")
            groups = item.get("groups")
            if section == "restricted" and not groups:
                raise ConfigError(f"{path}: restricted entry {n} needs `groups`.")
            found.append(RagQuestion(
                question=str(item["question"]),
                expected=str(item["expected"]),
                lang=str(item.get("lang") or detect_language(str(item["question"]))),
                groups=frozenset(str(g) for g in groups) if groups else None,
            ))
    return found


def _is_document(path: str, expected: str) -> bool:
    # Stored paths carry the ingested folder's name ("docs/hr/x.md"); expected ones do not.
    return path == expected or path.endswith("/" + expected)


def evaluate_rag(questions_path: Path, resources: Resources,
                 user: str | None = None) -> RagEvalReport:
    """Rank of each expected document in `retrieve_chunks` for the user, as the pipeline calls it.

    Restricted questions count as ordinary ones when the user is in their groups; otherwise the
    expected document must not appear at all (a leak is reported, not scored).
    """
    from agents.docs.retrieval import retrieve_chunks

    login = user or DEFAULT_USER
    reader = resources.directory.get(login)
    questions = load_rag_questions(questions_path)
    # The pipeline detects the language itself; the file's `lang` only documents the question.
    texts = [q.question for q in questions]
    vectors = resources.embedder.embed(texts)
    outcomes: list[RagOutcome] = []
    for question, vector in zip(questions, vectors, strict=True):
        with resources.app_pool.connection() as conn:
            passages = retrieve_chunks(conn, resources.embedder, question.question,
                                       reader.all_groups, k=RAG_DEPTH,
                                       lang=detect_language(question.question),
                                       query_vector=vector)
        paths = tuple(p.path for p in passages)
        rank = next((i for i, p in enumerate(paths, start=1)
                     if _is_document(p, question.expected)), None)
        hidden = question.groups is not None and not (question.groups & reader.all_groups)
        outcomes.append(RagOutcome(question, rank, paths, "hidden" if hidden else "retrieval"))
    return RagEvalReport(outcomes=tuple(outcomes), user=login)


# ---------------------------------------------------------------- reports


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    line = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
    return [line.format(*header), line.format(*("-" * w for w in [*widths, len(header[-1])])),
            *(line.format(*r) for r in rows)]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_sql_report(report: SqlEvalReport) -> str:
    """The per-question outcome table, then the execution accuracy (overall and per language)."""
    rows = [(o.outcome, o.question.lang, o.user, f"{o.elapsed_ms:.0f}", o.question.id,
             _clip(o.question.question, 60) + (f"  [{o.reason}]" if o.reason else ""))
            for o in report.outcomes]
    lines = _table(("outcome", "lang", "user", "ms", "id", "question  [reason]"), rows)
    total = len(report.outcomes)
    per_lang = ", ".join(
        f"{lang} {sum(o.outcome == PASS for o in report.outcomes if o.question.lang == lang)}/"
        f"{sum(1 for o in report.outcomes if o.question.lang == lang)}"
        f" ({100 * report.accuracy_for(lang):.1f}%)"
        for lang in sorted({o.question.lang for o in report.outcomes})
    )
    lines += [
        "",
        f"Execution accuracy: {report.count(PASS)}/{total} ({100 * report.accuracy:.1f}%)"
        f" — {per_lang}; mode {report.mode}",
        f"Misses: {report.count(MISS)}, refused: {report.count(REFUSED)},"
        f" errors: {report.count(ERROR)}",
    ]
    return "\n".join(lines)


def format_rag_report(report: RagEvalReport) -> str:
    """The rank of each expected document, then hit@1, hit@5, MRR and the leak check."""
    rows = []
    for o in report.outcomes:
        if o.kind == "hidden":
            status = "LEAK" if o.leaked else "hidden"
        else:
            status = str(o.rank) if o.rank else "-"
        rows.append((status, o.question.lang, o.question.expected,
                     _clip(o.question.question, 70)))
    lines = _table(("rank", "lang", "expected document", "question"), rows)
    lines += [
        "",
        f"hit@1 {report.hit_at(1):.3f}  hit@5 {report.hit_at(5):.3f}  MRR@{report.depth}"
        f" {report.mrr:.3f}  over {report.scored} questions (user {report.user})",
        f"Restricted documents the user may not read: {report.hidden} checked,"
        f" {report.leaks} leaked",
    ]
    return "\n".join(lines)
