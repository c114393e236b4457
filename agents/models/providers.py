"""Model providers: any OpenAI-compatible chat endpoint, through langchain-openai.

OpenAI, Mistral, vLLM, Ollama, Scaleway and Groq all speak `/v1/chat/completions`; the customer
picks one with SOURCED_LLM_BASE_URL / SOURCED_LLM_MODEL / SOURCED_LLM_API_KEY. Timeouts are
always finite and retries bounded: the openai client retries 429, 5xx and timeouts
`llm_max_retries` times with exponential backoff, then this module turns the failure into a
ProviderError whose message a user can read.

A/B variants: two named variants (a model and prompt versions each) may be configured; each
question draws one, which is recorded with the answer.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from agents.config import Settings, Variant
from agents.errors import ConfigError, ProviderError

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import BaseMessage

TokenSink = Callable[[str], None]


@dataclass(frozen=True)
class Completion:
    text: str
    tokens: int | None


@dataclass(frozen=True)
class ChatModel:
    """A configured chat model plus the variant it serves (prompt versions, temperature)."""

    client: BaseChatModel
    variant: Variant

    @property
    def name(self) -> str:
        return self.variant.model or "?"


def variants(settings: Settings) -> list[Variant]:
    """The variants in play: the configured A/B pair, else one default variant."""
    if settings.ab_variants:
        return list(settings.ab_variants)
    return [Variant(name="default", model=settings.llm_model)]


def pick_variant(settings: Settings, rng: random.Random | None = None,
                 exclude: str | None = None) -> Variant:
    """One variant at random when A/B is on (recorded with the answer), else the default."""
    pool = variants(settings)
    if exclude is not None and len(pool) > 1:
        pool = [v for v in pool if v.name != exclude] or pool
    return (rng or random).choice(pool) if settings.ab_enabled else pool[0]


def variant_named(settings: Settings, name: str | None) -> Variant:
    for variant in variants(settings):
        if variant.name == name:
            return variant
    return variants(settings)[0]


def build_chat_model(settings: Settings, variant: Variant | None = None, *,
                     temperature: float | None = None) -> ChatModel | None:
    """The chat model of a variant, or None in offline mode (no model configured)."""
    variant = variant or variants(settings)[0]
    model = variant.model or settings.llm_model
    if not model:
        return None
    from langchain_openai import ChatOpenAI

    base_url = variant.base_url or settings.llm_base_url
    try:
        client = ChatOpenAI(
            model=model,
            base_url=base_url,
            # The key of this variant's endpoint, never the main one's (see Settings.key_for).
            api_key=settings.key_for(base_url, variant) or "not-needed",  # type: ignore[arg-type]
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            temperature=variant.temperature if temperature is None else temperature,
            stream_usage=True,
        )
    except Exception as exc:  # pydantic validation of a malformed URL or option
        raise ConfigError(f"The model settings are invalid: {exc}") from exc
    return ChatModel(client=client, variant=variant)


def _messages(system: str, user: str) -> list[BaseMessage]:
    from langchain_core.messages import HumanMessage, SystemMessage

    return [SystemMessage(content=system), HumanMessage(content=user)]


def complete(model: ChatModel, system: str, user: str) -> Completion:
    """One chat completion (no streaming)."""
    with provider_errors(model):
        message = model.client.invoke(_messages(system, user))
    return Completion(text=_text_of(message.content), tokens=_tokens(message))


def stream(model: ChatModel, system: str, user: str, on_token: TokenSink | None) -> Completion:
    """A chat completion streamed token by token to `on_token`; returns the whole text."""
    parts: list[str] = []
    tokens: int | None = None
    with provider_errors(model):
        for chunk in model.client.stream(_messages(system, user)):
            piece = _text_of(chunk.content)
            if piece:
                parts.append(piece)
                if on_token is not None:
                    on_token(piece)
            tokens = _tokens(chunk) or tokens
    return Completion(text="".join(parts), tokens=tokens)


def complete_json(model: ChatModel, system: str, user: str) -> tuple[dict[str, Any], int | None]:
    """A completion asked for as one JSON object (JSON mode works on every endpoint we target)."""
    import json

    from langchain_core.messages import HumanMessage, SystemMessage

    bound = model.client.bind(response_format={"type": "json_object"})
    with provider_errors(model):
        message = bound.invoke([SystemMessage(content=system), HumanMessage(content=user)])
    text = _text_of(message.content).strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProviderError("The model's answer could not be read.", detail=text[:500]) from exc
    if not isinstance(data, dict):
        raise ProviderError("The model's answer could not be read.", detail=text[:500])
    return data, _tokens(message)


def check_connection(settings: Settings) -> str:
    """The sidebar's "test connection": one tiny completion, or a ProviderError saying why not."""
    model = build_chat_model(settings)
    if model is None:
        raise ProviderError("No model is configured: the assistant runs offline.")
    reply = complete(model, "Reply with the single word: ok", "ping")
    return f"{model.name} answered ({reply.text.strip()[:40]!r})."


class provider_errors:
    """Turn the client's exceptions into a ProviderError with a message a user can act on."""

    def __init__(self, model: ChatModel) -> None:
        self.model = model

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> Literal[False]:
        # Never True: a client error is let through or replaced by a ProviderError, not hidden.
        if exc is None or isinstance(exc, ProviderError):
            return False
        import openai

        name = self.model.name
        if isinstance(exc, openai.APITimeoutError):
            message = f"The model ({name}) did not answer in time."
        elif isinstance(exc, openai.RateLimitError):
            message = f"The model ({name}) is busy (rate limited)."
        elif isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            message = f"The model ({name}) refused the API key; check SOURCED_LLM_API_KEY."
        elif isinstance(exc, openai.NotFoundError):
            message = f"The model endpoint does not know the model {name!r}."
        elif isinstance(exc, openai.APIStatusError):
            message = f"The model ({name}) failed (HTTP {exc.status_code})."
        elif isinstance(exc, openai.APIConnectionError):
            message = f"The model endpoint ({name}) cannot be reached."
        elif isinstance(exc, openai.OpenAIError | ValueError):
            message = f"The model ({name}) returned something unusable."
        else:
            return False
        raise ProviderError(message, detail=f"{type(exc).__name__}: {exc}") from exc


def _text_of(content: str | Sequence[Any]) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)


def _tokens(message: Any) -> int | None:
    usage = getattr(message, "usage_metadata", None)
    if usage and usage.get("total_tokens"):
        return int(usage["total_tokens"])
    return None
