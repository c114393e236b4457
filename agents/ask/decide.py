"""Which branch answers a question: the offline router's route, turned to the warehouse when an
analyst's verified query matches, or the model's route when the planner is unsure."""

from __future__ import annotations

import logging

from agents.ask.router import Route, RouteName, route_question, route_with_model
from agents.ask.turn import Turn
from agents.errors import ProviderError
from agents.models.providers import ChatModel
from agents.sql.planner import Plan, plan_question
from agents.sql.verified import VerifiedQuery, match_verified, question_terms, signature_from_plan

log = logging.getLogger("sourced.ask")


def decide_route(turn: Turn, plan: Plan) -> tuple[Route, VerifiedQuery | None]:
    """The route, and the verified query that answers the question if one does."""
    resources = turn.resources
    route = turn.timed("route", lambda: route_question(
        turn.question, has_metric=bool(plan.metrics),
        has_period=plan.period is not None or plan.comparison is not None,
        nearest=lambda: resources.route_examples().nearest(turn.vector)))
    if route.route == "refused":
        return route, None
    verified = _verified_match(turn)
    if verified is not None:
        answering: RouteName = "both" if route.route == "both" else "sql"
        return Route(answering, "matches a verified query"), verified
    if turn.model is not None and not plan.confident:
        # The model may see what the rules cannot; the rules' refusals always stand.
        return _model_route(turn, turn.model, route), None
    return route, None


def _verified_match(turn: Turn) -> VerifiedQuery | None:
    resources = turn.resources

    def terms(question: str) -> frozenset[str]:
        return question_terms(question, resources.model, lambda q: signature_from_plan(
            plan_question(q, resources.planning)))

    def terms_of(verified: VerifiedQuery) -> frozenset[str]:
        return resources.verified_terms(verified.verified_id, verified.question, terms)

    with resources.app_pool.connection() as conn:
        saved = conn.execute("SELECT verified_id, question FROM app.verified_queries"
                             " WHERE embedding IS NOT NULL").fetchall()
    if not saved:
        return None
    # Only a verified query naming the same terms can match: when none does, the question
    # is not embedded at all (the encoder is the throughput ceiling under load).
    wanted = terms(turn.question)
    if not any(resources.verified_terms(vid, q, terms) == wanted for vid, q in saved):
        return None
    # Embed with no connection held: the encoder serialises calls, and a pool connection
    # kept idle meanwhile starves every other question's log write and retrieval.
    vector = turn.vector
    with resources.app_pool.connection() as conn:
        return turn.timed("verified", lambda: match_verified(
            conn, vector, resources.embedder.name, resources.settings.verified_threshold,
            wanted, terms_of))


def _model_route(turn: Turn, model: ChatModel, offline: Route) -> Route:
    try:
        route, tokens = turn.timed("route_llm", lambda: route_with_model(
            turn.question, model, turn.resources.model))
    except ProviderError as exc:
        log.warning("model router unavailable, offline route kept: %s", exc.detail)
        return offline
    turn.timings.count(tokens)
    return route
