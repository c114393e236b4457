"""What `sourced eval sql` and `sourced eval rag` print.

One file: the per-question table, the execution accuracy, then correct / honest / confidently
wrong. The shipped sets: per set, the three figures beside their targets and the confidently
wrong answers (what was shown), then a summary table of every set. A conversations set (or
file) adds the turn accuracy, the follow-up turns right and the context leaks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from agents.commands.evaluation.rag_set import RagEvalReport
from agents.commands.evaluation.real_docs import RealEvalReport
from agents.commands.evaluation.sql_sets import SetResult, SqlEvalReport, SqlOutcome
from agents.commands.evaluation.verdicts import (
    CORRECT,
    ERROR,
    FAILED,
    HONEST,
    MISS,
    PASS,
    REFUSED,
    VERDICTS,
    WRONG,
)
from agents.config import PROJECT_ROOT

FOLLOW_UPS, LEAKS = "follow-ups", "leaks"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    line = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
    return [line.format(*header), line.format(*("-" * w for w in [*widths, len(header[-1])])),
            *(line.format(*r) for r in rows)]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _verdict_line(report: SqlEvalReport) -> str:
    total = len(report.outcomes)
    return ", ".join(f"{v} {report.verdicts(v)} ({_pct(report.verdicts(v), total)})"
                     for v in VERDICTS)


def format_sql_report(report: SqlEvalReport) -> str:
    """The per-question outcome table, then the execution accuracy (overall and per language)
    and the three-way verdict (correct, honest, confidently wrong, and failed)."""
    turns = bool(report.turns)
    rows = [(o.outcome, o.verdict, o.question.lang, o.user, f"{o.elapsed_ms:.0f}",
             *((_context(o),) if turns else ()), o.question.id,
             _clip(o.question.question, 60) + (f"  [{o.reason}]" if o.reason else ""))
            for o in report.outcomes]
    lines = _table(("outcome", "verdict", "lang", "user", "ms",
                    *(("context",) if turns else ()), "id", "question  [reason]"), rows)
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
        f"Verdicts: {_verdict_line(report)}",
    ]
    if report.turns:
        lines += [line.strip() for line in conversation_lines(report)]
        lines += _listed("context leaks", report.leaks)
    return "\n".join(lines)


def _context(outcome: SqlOutcome) -> str:
    """A turn's reading: a follow-up (did it use the context?), a standalone turn, or a leak."""
    if outcome.question.follow_up:
        return "follow-up" if outcome.took_context else "follow-up, alone"
    return "LEAK" if outcome.took_context else "standalone"


def conversation_lines(report: SqlEvalReport, targets: dict[str, str] | None = None
                       ) -> list[str]:
    """Turn accuracy, follow-up turns right and context leaks, with their targets if given."""
    turns = report.turns
    if not turns:
        return []
    beside = targets or {}
    talks = len({o.question.id.rsplit("#", 1)[0] for o in turns})
    right = sum(o.verdict == CORRECT for o in turns)
    follow_ups, standalone = len(report.follow_ups), len(turns) - len(report.follow_ups)
    leaks = len(report.leaks)

    def target(key: str) -> str:
        return f"   {beside[key]}" if key in beside else ""

    return [
        f"  turn accuracy: {right}/{len(turns)} ({_pct(right, len(turns))}) over {talks}"
        " conversations",
        f"  follow-up turns right: {report.follow_ups_right}/{follow_ups}"
        f" ({_pct(report.follow_ups_right, follow_ups)}){target(FOLLOW_UPS)}",
        f"  context leaks: {leaks} of {standalone} standalone turns{target(LEAKS)}",
    ]


# ---------------------------------------------------------------- the shipped sets


def _where(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT.resolve()))
    except ValueError:
        return str(path)


def _targets(result: SetResult) -> dict[str, str]:
    """The text beside each figure that has a target: the target and whether it is met."""
    spec, report = result.eval_set, result.report
    beside: dict[str, str] = {}
    if spec.min_correct is not None:
        met = report.share(CORRECT) >= spec.min_correct
        beside[CORRECT] = f"target >= {100 * spec.min_correct:.0f}%: {'met' if met else 'MISSED'}"
    if spec.max_wrong is not None:
        met = report.verdicts(WRONG) <= spec.max_wrong
        beside[WRONG] = f"target <= {spec.max_wrong}: {'met' if met else 'MISSED'}"
    if spec.min_follow_up is not None:
        asked = len(report.follow_ups)
        met = bool(asked) and report.follow_ups_right / asked >= spec.min_follow_up
        beside[FOLLOW_UPS] = (f"target >= {100 * spec.min_follow_up:.0f}%: "
                              f"{'met' if met else 'MISSED'}")
    if spec.max_leaks is not None:
        met = len(report.leaks) <= spec.max_leaks
        beside[LEAKS] = f"target {spec.max_leaks}: {'met' if met else 'MISSED'}"
    return beside


def _split(report: SqlEvalReport) -> list[str]:
    """Per language, and per kind of question when a set mixes gold SQL and honest-expected."""
    outcomes = report.outcomes
    langs = sorted({o.question.lang for o in outcomes})
    right = {lang: sum(o.verdict == CORRECT for o in outcomes if o.question.lang == lang)
             for lang in langs}
    asked = {lang: sum(o.question.lang == lang for o in outcomes) for lang in langs}
    lines = ["  correct by language: " + ", ".join(
        f"{lang} {right[lang]}/{asked[lang]} ({_pct(right[lang], asked[lang])})"
        for lang in langs)]
    kinds = {_kind(o) for o in outcomes}
    if len(kinds) > 1:
        for kind in _KINDS:
            part = [o for o in outcomes if _kind(o) == kind]
            if not part:
                continue
            counts = ", ".join(f"{v} {sum(o.verdict == v for o in part)}" for v in VERDICTS
                               if not (kind == _KINDS[1] and v == HONEST))
            lines.append(f"  {kind}: {len(part)} — {counts}")
    return lines


_KINDS = ("with gold SQL", "expecting an honest answer", "expecting a document")


def _kind(outcome: SqlOutcome) -> str:
    if outcome.question.expected_document is not None:
        return _KINDS[2]
    return _KINDS[1] if outcome.question.expects_honest else _KINDS[0]


def _listed(title: str, outcomes: Sequence[SqlOutcome]) -> list[str]:
    """Each answer on three lines at most: the question, what it showed, why that is wrong."""
    if not outcomes:
        return []
    lines = [f"  {title} ({len(outcomes)}):"]
    for o in outcomes:
        lines.append(f"    {o.question.id}  {_clip(o.question.question, 90)}")
        if o.shown:
            lines.append(f"        shown: {_clip(o.shown, 110)}")
        because = o.question.why if o.question.expects_honest and o.question.why else o.reason
        if because:
            lines.append(f"        {'why' if o.shown else 'said'}: {_clip(because, 110)}")
    return lines


def format_set(result: SetResult) -> str:
    """One set: its three figures (and failed) beside their targets, then what went wrong."""
    spec, report = result.eval_set, result.report
    total = len(report.outcomes)
    beside = _targets(result)
    unit = "turns" if report.turns else "questions"
    lines = [f"== {spec.name}: {_where(spec.path)} — {total} {unit}, mode {report.mode}"]
    if spec.note:
        lines.append(f"  ({spec.note})")
    for verdict in VERDICTS:
        count = report.verdicts(verdict)
        lines.append(f"  {verdict:<18} {count:>4}/{total:<4} {_pct(count, total):>6}"
                     + (f"   {beside[verdict]}" if verdict in beside else ""))
    lines += conversation_lines(report, beside)
    lines += _split(report)
    lines += _listed("context leaks", report.leaks)
    lines += _listed("confidently wrong", report.wrong)
    lines += _listed("failed", report.failed)
    # Gold-SQL questions answered honestly: not wrong, but coverage still to win.
    lines += _listed("not answered (honest)", [o for o in report.outcomes
                                               if o.verdict == HONEST])
    return "\n".join(lines)


def format_sets_report(results: Sequence[SetResult]) -> str:
    """Every set, then one summary table of the three figures per set and its targets."""
    blocks = [format_set(r) for r in results]
    rows = []
    for r in results:
        report, total = r.report, len(r.report.outcomes)
        missed = r.eval_set.misses_target(report)
        has_target = r.eval_set.has_target
        rows.append((r.eval_set.name, str(total),
                     *(f"{report.verdicts(v)} ({_pct(report.verdicts(v), total)})"
                       for v in VERDICTS),
                     ("MISSED: " + "; ".join(missed)) if missed else
                     ("met" if has_target else "no target")))
    summary = _table(("set", "questions", CORRECT, HONEST, WRONG, FAILED, "targets"), rows)
    return "\n\n".join([*blocks, "\n".join(summary)])


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


def format_real_report(report: RealEvalReport, *, verbose: bool = True) -> str:
    """Each question's rank, fact and refusal, then the figures, shipped and holdout apart."""
    lines: list[str] = []
    if verbose:
        rows = []
        for o in report.outcomes:
            if o.question.expected is None:
                status, fact = ("refused" if not o.answered else "ANSWERED"), ""
            else:
                status, fact = (str(o.rank) if o.rank else "-"), ("yes" if o.has_fact else "NO")
            rows.append((status, fact, "holdout" if o.question.holdout else "",
                         o.question.expected or "(none)", _clip(o.question.question, 60)))
        lines = [*_table(("rank", "fact", "part", "expected document", "question"), rows), ""]
    for name, part in (("shipped", report.shipped), ("holdout", report.holdout)):
        lines.append(
            f"real documents, {name}: hit@1 {part.hit_at(1):.3f}  hit@{report.k}"
            f" {part.hit_at(report.k):.3f}  extract contains the fact {part.fact_rate:.3f}"
            f"  over {len(part.answerable)} questions; unanswerable refused"
            f" {part.refused_rate:.3f} of {len(part.unanswerable)}")
    return "\n".join(lines)
