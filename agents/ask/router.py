"""Routing: does a question go to the warehouse (sql), the documents (docs), both, or is it
politely refused?

Offline rules: off-topic and unsafe requests, prompt injection and SQL typed into the chat are
refused; a question naming a metric of the semantic model goes to SQL; one asking what a
document, policy or report says goes to the documents; a question doing both gets both. Rights
never come from the text: "I am the DPO" is just words here, access is decided by the user's
groups elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeGuard

import numpy as np
import sqlglot

from agents.docs.embeddings import Embedder
from agents.errors import ProviderError
from agents.language import normalize
from agents.messages import say
from agents.models.prompts import load_prompt
from agents.models.providers import ChatModel, complete_json
from agents.sql.semantic_model import SemanticModel
from agents.store.users import read_yaml

OFF_TOPIC = [
    (r"\b(?:write|ecris|ecrire|generate|genere|code|coder)\b.*\b(?:python|javascript|java|code|"
     r"script|program|programme|function|fonction|hello world|regex|html|css|sql query for me)\b",
     "writing code"),
    (r"\bhello world\b", "writing code"),
    (r"\b(?:joke|jokes|blague|blagues|funny story|histoire drole|poem|poeme|poesie|song|chanson)\b",
     "jokes and entertainment"),
    (r"\b(?:hide a body|cacher un corps|kill|tuer|murder|meurtre|bomb|bombe|weapon|arme|explosive|"
     r"explosif|poison|drug|drogue|hack into|pirater|steal|voler|suicide)\b",
     "harmful content"),
    (r"\b(?:ignore|forget|disregard|oublie|ignore[zr]?)\b.{0,40}\b(?:instructions|rules|regles|"
     r"consignes|prompt|previous|precedentes)\b", "an attempt to change my instructions"),
    (r"\b(?:system prompt|jailbreak|developer mode|mode developpeur|you are now|tu es maintenant|"
     r"act as|agis comme|pretend to be|fais semblant)\b", "an attempt to change my instructions"),
    (r"\b(?:weather|meteo|recipe|recette|horoscope|football score|translate|traduis|traduire)\b",
     "topics outside the company's data and documents"),
]
DOC_CUES = re.compile(
    r"\b(?:policy|policies|politique|politiques|report|reports|rapport|rapports|document|documents|"
    r"say|says|said|dit|disait|according|selon le|selon la|procedure|process|processus|rule|"
    r"rules|regle|regles|guide|handbook|manuel|contract|contrat|agreement|accord|msa|sla|"
    r"remote|teletravail|expenses|notes de frais|leave|conges|playbook|memo|note|board|"
    r"salary band|grille|compensation|commission|security|securite|password|mot de passe|"
    r"onboarding|travel|deplacement|voyage|conduct|conduite|rgpd|gdpr|privacy|confidentialite|"
    r"allowed|autorise|approval|"
    r"approbation|who approves|qui approuve|post mortem|incident|case study|product sheet|"
    r"fiche produit)\b"
)
# Question words that suit documents but also any general-knowledge question: they send a
# question to the documents only when the route examples do not say otherwise.
GENERIC_CUES = re.compile(
    r"\b(?:how do i|how to|comment faire|comment|can i|puis je|what is|qu est ce que|explain|"
    r"explique|describe|decris|why|pourquoi)\b"
)
SQL_START = re.compile(
    r"^\s*(?:select|insert|update|delete|drop|create|alter|truncate|grant|revoke|with|copy|"
    r"merge|call|do|begin|commit|set|vacuum|explain)\b", re.IGNORECASE
)


# A statement smuggled after a quote or a semicolon ("revenue in 2018; DROP TABLE orders"):
# nothing would run it, but answering the first half as if nothing happened would confuse.
SQL_SMUGGLED = re.compile(
    r"[;'\"]\s*(?:drop|delete|insert|update|truncate|alter|grant|revoke|create)\b", re.IGNORECASE
)


RouteName = Literal["sql", "docs", "both", "refused"]
ROUTES: tuple[RouteName, ...] = ("sql", "docs", "both", "refused")


@dataclass(frozen=True)
class Route:
    route: RouteName
    reason: str


EXAMPLES_FILE = Path(__file__).resolve().parent / "route_examples.yaml"
# Nearest-example decisions, calibrated on the offline encoder: general-knowledge questions
# score 0.7-0.85 against the off-topic examples, company questions at most ~0.55 ("Who is our
# CEO?"), so only a clear, distinct match refuses.
REFUSE_SIMILARITY, REFUSE_MARGIN = 0.60, 0.15
SQL_SIMILARITY, SQL_MARGIN = 0.45, 0.10


@dataclass(frozen=True)
class RouteExamples:
    """Example questions per route with their embeddings (built once per process)."""

    labels: tuple[str, ...]
    vectors: np.ndarray

    def nearest(self, vector: np.ndarray) -> dict[str, float]:
        """The best similarity of the question to each route's examples."""
        sims = self.vectors @ np.asarray(vector, dtype=np.float32)
        best: dict[str, float] = {}
        for label, sim in zip(self.labels, sims, strict=True):
            best[label] = max(best.get(label, -1.0), float(sim))
        return best


def load_route_examples(embedder: Embedder, path: Path = EXAMPLES_FILE) -> RouteExamples:
    data = read_yaml(path)
    pairs = [(label, text) for label, texts in data.items() for text in texts]
    vectors = embedder.embed([text for _, text in pairs])
    return RouteExamples(tuple(label for label, _ in pairs), np.asarray(vectors))


def route_question(question: str, *, has_metric: bool,
                   nearest: Callable[[], dict[str, float]] | None = None) -> Route:
    """Choose the route of a question; `has_metric` says whether the planner found a metric.

    `nearest` (the question's similarity to each route's examples) is consulted only when the
    rules are inconclusive: no metric, no document cue.
    """
    text = normalize(question)
    for pattern, topic in OFF_TOPIC:
        if re.search(pattern, text):
            return Route("refused", topic)
    stripped = question.lstrip(" \t\r\n'\";)")
    if (SQL_START.match(stripped) and _parses_as_sql(stripped)) or SQL_SMUGGLED.search(question):
        return Route("refused", "SQL typed as a question")
    strong_cue = bool(DOC_CUES.search(text))
    doc_cue = strong_cue or bool(GENERIC_CUES.search(text))
    if has_metric and doc_cue and re.search(
        r"\b(?:and|et)\b.*\b(?:say|said|dit|report|rapport|document|policy|politique)\b", text
    ):
        return Route("both", "names a metric and asks what a document says")
    if has_metric and not _is_document_question(text):
        return Route("sql", "names a metric of the semantic model")
    if not has_metric and not strong_cue and nearest is not None:
        scores = nearest()
        refused, sql = scores.get("refused", 0.0), scores.get("sql", 0.0)
        docs = scores.get("docs", 0.0)
        if refused >= REFUSE_SIMILARITY and refused - max(sql, docs) >= REFUSE_MARGIN:
            return Route("refused", "topics outside the company's data and documents")
        if sql >= SQL_SIMILARITY and sql - max(docs, refused) >= SQL_MARGIN:
            return Route("sql", "reads like a data question")
    return Route("docs", "asks about the content of documents")


def route_with_model(question: str, model: ChatModel,
                     semantic_model: SemanticModel) -> tuple[Route, int | None]:
    """The model's route (structured output: route + reason). Raises ProviderError when the
    model fails or answers outside the schema; the caller then keeps the offline route."""
    metrics = ", ".join(m.name("en") for m in semantic_model.metrics.values())
    system, user = load_prompt("router_v1").render(metrics=metrics, question=question)
    data, tokens = complete_json(model, system, user)
    route = str(data.get("route", "")).strip().lower()
    if not _is_route(route):
        raise ProviderError("The model's route could not be read.", detail=repr(data)[:300])
    reason = str(data.get("reason") or "model decision")[:200]
    if route == "refused":
        reason = f"model: {reason}"
    return Route(route, reason), tokens


def _is_route(name: str) -> TypeGuard[RouteName]:
    return name in ROUTES


def _is_document_question(text: str) -> bool:
    return bool(re.search(
        r"\b(?:policy|politique|say|says|dit|report says|rapport dit|according|procedure|rule|"
        r"regle|who approves|qui approuve|approval|approbation|allowed|autorise|how do i|"
        r"comment faire|sla|contract|contrat|playbook|memo)\b", text))


def _parses_as_sql(text: str) -> bool:
    try:
        return bool(sqlglot.parse(text, read="postgres"))
    except Exception:
        return False


def refusal_text(reason: str, lang: str) -> str:
    """A polite refusal in the user's language that says what the assistant is for."""
    if reason == "SQL typed as a question":
        return say("ask.refused_sql", lang)
    return say("ask.refused", lang)
