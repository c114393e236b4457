"""Document answers on real documents written by others: the right document, and the fact shown.

`seed_data/eval/rag_real_questions.yaml` names a corpus folder (public handbooks and guides, see
its README) and questions over it, each with the document expected and answer keys: regular
expressions the extract shown to the user must all match. Questions no document answers must
get the "no document" answer. About a third of the questions are a holdout, reported apart.

The corpus is indexed for the run under a group no user has, and searched with that group only,
so neither the demo documents nor the user's own documents take part; it is removed afterwards.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agents.config import PROJECT_ROOT
from agents.errors import ConfigError
from agents.language import detect_language
from agents.store.users import read_yaml

if TYPE_CHECKING:
    from agents.resources import Resources

REAL_QUESTIONS = PROJECT_ROOT / "seed_data" / "eval" / "rag_real_questions.yaml"
# The only group the corpus is indexed under for the run: no directory user is in it.
EVAL_GROUP = "sourced-eval-real-docs"
# The documents of the corpus folder; its README and licences are not documents.
DOCUMENT_GLOB = "[a-z][a-z]_*.*"


@dataclass(frozen=True)
class RealQuestion:
    question: str
    expected: str | None  # None: no document answers it
    keys: tuple[str, ...] = ()
    holdout: bool = False

    @property
    def lang(self) -> str:
        return detect_language(self.question)


@dataclass(frozen=True)
class RealOutcome:
    question: RealQuestion
    rank: int | None  # 1-based rank of the expected document among the sources
    answered: bool  # some source was shown (not the "no document" answer)
    extract: str
    paths: tuple[str, ...]

    @property
    def has_fact(self) -> bool:
        return self.answered and bool(self.question.keys) and all(
            re.search(key, self.extract, re.IGNORECASE) for key in self.question.keys)


@dataclass(frozen=True)
class RealSlice:
    """The figures of one part of the set (shipped or holdout)."""

    outcomes: tuple[RealOutcome, ...]

    @property
    def answerable(self) -> list[RealOutcome]:
        return [o for o in self.outcomes if o.question.expected is not None]

    @property
    def unanswerable(self) -> list[RealOutcome]:
        return [o for o in self.outcomes if o.question.expected is None]

    def hit_at(self, k: int) -> float:
        scored = self.answerable
        return sum(1 for o in scored if o.rank and o.rank <= k) / len(scored) if scored else 0.0

    @property
    def fact_rate(self) -> float:
        scored = self.answerable
        return sum(1 for o in scored if o.has_fact) / len(scored) if scored else 0.0

    @property
    def refused_rate(self) -> float:
        off = self.unanswerable
        return sum(1 for o in off if not o.answered) / len(off) if off else 0.0


@dataclass(frozen=True)
class RealEvalReport:
    outcomes: tuple[RealOutcome, ...]
    k: int

    @property
    def shipped(self) -> RealSlice:
        return RealSlice(tuple(o for o in self.outcomes if not o.question.holdout))

    @property
    def holdout(self) -> RealSlice:
        return RealSlice(tuple(o for o in self.outcomes if o.question.holdout))


def load_real_questions(path: Path) -> tuple[Path, list[RealQuestion]]:
    """The corpus folder and the questions of a real-documents evaluation file."""
    data = read_yaml(path)
    if not isinstance(data, dict) or not data.get("corpus") or \
            not isinstance(data.get("questions"), list):
        raise ConfigError(f"{path}: expected `corpus:` and `questions:` (and `unanswerable:`).")
    corpus = (path.parent / str(data["corpus"])).resolve()
    if not corpus.is_dir():
        raise ConfigError(f"{path}: the corpus folder {corpus} does not exist.")
    found: list[RealQuestion] = []
    for n, item in enumerate(data["questions"], start=1):
        if not isinstance(item, dict) or not item.get("question") or not item.get("expected") \
                or not item.get("keys"):
            raise ConfigError(f"{path}: question {n} needs `question`, `expected` and `keys`.")
        found.append(RealQuestion(str(item["question"]), str(item["expected"]),
                                  tuple(str(k) for k in item["keys"]),
                                  bool(item.get("holdout"))))
    for n, item in enumerate(data.get("unanswerable") or [], start=1):
        if not isinstance(item, dict) or not item.get("question"):
            raise ConfigError(f"{path}: unanswerable entry {n} needs `question`.")
        found.append(RealQuestion(str(item["question"]), None, (), bool(item.get("holdout"))))
    return corpus, found


def is_real_questions_file(path: Path) -> bool:
    data = read_yaml(path)
    return isinstance(data, dict) and "corpus" in data


def evaluate_real_docs(questions_path: Path, resources: Resources) -> RealEvalReport:
    """Index the corpus for the run, ask each question as the offline documents answer does."""
    from agents.ask.extracts import extractive_answer, sources_from
    from agents.docs.ingest import ingest_folder
    from agents.docs.retrieval import retrieve_chunks

    corpus, questions = load_real_questions(questions_path)
    k = resources.settings.retrieval_k
    groups = frozenset({EVAL_GROUP})
    embedder = resources.embedder
    with tempfile.TemporaryDirectory(prefix="sourced-eval-") as scratch:
        root = Path(scratch) / corpus.name
        root.mkdir()
        for document in sorted(corpus.glob(DOCUMENT_GLOB)):
            shutil.copy2(document, root / document.name)
        with resources.app_pool.connection() as conn:
            ingest_folder(conn, root, embedder, groups_override=(EVAL_GROUP,))
        try:
            vectors = embedder.embed([q.question for q in questions])
            outcomes = []
            for question, vector in zip(questions, vectors, strict=True):
                lang = question.lang
                with resources.app_pool.connection() as conn:
                    passages = retrieve_chunks(conn, embedder, question.question, groups, k=k,
                                               lang=lang, query_vector=vector)
                sources = sources_from(passages)
                extract = extractive_answer(question.question, sources, lang, embedder,
                                            vector) if sources else ""
                paths = tuple(p.path for p in passages)
                rank = next((i for i, p in enumerate(paths, start=1)
                             if question.expected and p.endswith("/" + question.expected)), None)
                outcomes.append(RealOutcome(question, rank, bool(sources), extract, paths))
        finally:
            with resources.app_pool.connection() as conn, conn.transaction():
                where = (str(root.resolve()),)
                conn.execute("DELETE FROM app.documents WHERE source_root = %s", where)
                conn.execute("DELETE FROM app.document_sources WHERE source_root = %s", where)
    return RealEvalReport(tuple(outcomes), k)
