"""Offline evaluation: SQL answers against gold SQL or an honest answer, and retrieval quality.

- `compare`: do an answer's rows answer like the gold rows (the comparison rule in full).
- `verdicts`: every SQL answer is correct, honest or confidently wrong (or failed), and why.
- `sql_sets`: the SQL evaluation files (gold SQL or `expect: honest`), the three shipped sets
  and their targets, asking each question through the pipeline as a user would.
- `conversations`: conversations of 2-3 turns, each turn asked with the previous answer as
  context; turn accuracy, follow-up turns right and context leaks.
- `rag_set`: hit@1, hit@5 and MRR of the expected document, and the leak check.
- `real_docs`: real documents written by others: hit@1, hit@5, whether the extract shown holds
  the fact asked for, and refusals of what no document answers (shipped and holdout apart).
- `report`: what `sourced eval sql` and `sourced eval rag` print.
"""

from __future__ import annotations

from agents.commands.evaluation.compare import (
    MAX_MAPPINGS,
    REL_TOL,
    Comparison,
    compare_results,
    normalize_value,
    values_equal,
)
from agents.commands.evaluation.conversations import (
    SQL_CONVERSATIONS,
    Conversation,
    ask_turn,
    evaluate_conversations,
    evaluate_conversations_file,
    is_conversations_file,
    load_conversations,
    takes_follow_up,
)
from agents.commands.evaluation.rag_set import (
    DEFAULT_USER,
    RAG_DEPTH,
    RAG_QUESTIONS,
    RagEvalReport,
    RagOutcome,
    RagQuestion,
    evaluate_rag,
    load_rag_questions,
)
from agents.commands.evaluation.real_docs import (
    REAL_QUESTIONS,
    RealEvalReport,
    evaluate_real_docs,
    is_real_questions_file,
    load_real_questions,
)
from agents.commands.evaluation.report import (
    conversation_lines,
    format_rag_report,
    format_real_report,
    format_set,
    format_sets_report,
    format_sql_report,
)
from agents.commands.evaluation.sql_sets import (
    EVAL_SETS,
    SQL_HOLDOUT,
    SQL_OUT_OF_MODEL,
    SQL_QUESTIONS,
    EvalSet,
    SetResult,
    SqlEvalReport,
    SqlOutcome,
    SqlQuestion,
    evaluate_questions,
    evaluate_sets,
    evaluate_sql,
    load_sql_questions,
    run_gold,
)
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
    Judgement,
    is_stated_limit,
    judge_answer,
    judge_document,
)

__all__ = [
    "CORRECT", "DEFAULT_USER", "ERROR", "EVAL_SETS", "FAILED", "HONEST", "MAX_MAPPINGS", "MISS",
    "PASS", "RAG_DEPTH", "RAG_QUESTIONS", "REAL_QUESTIONS", "REFUSED", "REL_TOL",
    "SQL_CONVERSATIONS", "SQL_HOLDOUT", "SQL_OUT_OF_MODEL", "SQL_QUESTIONS", "VERDICTS",
    "WRONG", "Comparison", "Conversation", "EvalSet", "Judgement", "RagEvalReport",
    "RagOutcome", "RagQuestion", "RealEvalReport", "SetResult", "SqlEvalReport", "SqlOutcome",
    "SqlQuestion", "ask_turn", "compare_results", "conversation_lines",
    "evaluate_conversations", "evaluate_conversations_file", "evaluate_questions",
    "evaluate_rag", "evaluate_real_docs", "evaluate_sets", "evaluate_sql", "format_rag_report",
    "format_real_report", "format_set", "format_sets_report", "format_sql_report",
    "is_conversations_file", "is_real_questions_file", "is_stated_limit", "judge_answer",
    "judge_document", "load_conversations", "load_rag_questions", "load_real_questions",
    "load_sql_questions", "normalize_value", "run_gold", "takes_follow_up", "values_equal",
]
