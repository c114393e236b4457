"""Retrieval quality: hit@1, hit@5 and MRR of the expected document in `retrieve_chunks`.

Each question of `seed_data/eval/rag_questions.yaml` is searched with the user's groups, as the
pipeline searches; restricted questions the user may not read are checked for leaks instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agents.config import PROJECT_ROOT
from agents.errors import ConfigError
from agents.language import detect_language
from agents.store.users import read_yaml

if TYPE_CHECKING:
    from agents.resources import Resources

RAG_QUESTIONS = PROJECT_ROOT / "seed_data" / "eval" / "rag_questions.yaml"
RAG_DEPTH = 10  # MRR is computed over this many passages; hit@5 over the first five
# Who asks when no --user is given (the SQL sets use the same default).
DEFAULT_USER = "alice"


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


def is_document(path: str, expected: str) -> bool:
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
                     if is_document(p, question.expected)), None)
        hidden = question.groups is not None and not (question.groups & reader.all_groups)
        outcomes.append(RagOutcome(question, rank, paths, "hidden" if hidden else "retrieval"))
    return RagEvalReport(outcomes=tuple(outcomes), user=login)
