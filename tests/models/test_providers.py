"""Keys go only where they belong: each endpoint gets its own key, never another provider's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agents.ask import pipeline
from agents.config import Settings, Variant, load_settings
from agents.logs import secrets_of
from agents.models.providers import build_chat_model, complete
from tests.fake_openai import FakeOpenAI

OPENAI_KEY = "sk-openai-key-that-must-stay-home-0123456789"
MAIN_KEY = "sk-main-endpoint-key-abcdefghijklmnopqrstuv"
VARIANT_KEY = "sk-variant-b-own-key-abcdefghijklmnopqrstu"


def readme_ab_settings(variant_b_url: str, **extra: Any) -> Settings:
    """The README's A/B example: A on OpenAI's endpoint, B on a server of its own."""
    variants = [{"name": "A", "model": "gpt-4o-mini"},
                {"name": "B", "model": "mistral-small-latest", "sql_prompt": "sql_writer_v2",
                 "base_url": variant_b_url, **extra}]
    return load_settings(llm_model="gpt-4o-mini", ab_enabled=True,
                         ab_variants=json.loads(json.dumps(variants)),
                         openai_api_key=OPENAI_KEY, llm_max_retries=0, llm_timeout_s=10.0)


def test_the_readme_ab_example_sends_no_openai_key_to_variant_b(
    resources: Any, fake_llm: FakeOpenAI
) -> None:
    fake_llm.on(lambda r: True, "Nothing to add [1].")
    local = resources.with_settings(readme_ab_settings(fake_llm.base_url))

    answer = pipeline.ask("What is the remote work policy?", "emma", local, variant="B")

    assert answer.variant == "B"
    assert fake_llm.authorizations, "variant B's server was never called"
    assert all(OPENAI_KEY not in (a or "") for a in fake_llm.authorizations)
    assert set(fake_llm.authorizations) == {"Bearer not-needed"}


def test_a_variant_with_its_own_key_sends_that_key_to_its_own_server(
    fake_llm: FakeOpenAI
) -> None:
    fake_llm.on(lambda r: True, "ok")
    settings = readme_ab_settings(fake_llm.base_url, api_key=VARIANT_KEY)
    variant_b = settings.ab_variants[1]

    model = build_chat_model(settings, variant_b)
    assert model is not None
    complete(model, "Reply ok", "ping")

    assert fake_llm.authorizations == [f"Bearer {VARIANT_KEY}"]
    assert VARIANT_KEY in secrets_of(settings)  # and the logs mask it


def test_the_main_key_goes_to_the_main_endpoint_only() -> None:
    with FakeOpenAI() as main, FakeOpenAI() as other:
        main.on(lambda r: True, "ok")
        other.on(lambda r: True, "ok")
        settings = load_settings(
            llm_model="m", llm_base_url=main.base_url, llm_api_key=MAIN_KEY,
            openai_api_key=OPENAI_KEY, llm_max_retries=0,
            ab_variants=[{"name": "A"}, {"name": "B", "base_url": other.base_url}])
        for variant in settings.ab_variants:
            model = build_chat_model(settings, variant)
            assert model is not None
            complete(model, "Reply ok", "ping")

        assert main.authorizations == [f"Bearer {MAIN_KEY}"]
        assert other.authorizations == ["Bearer not-needed"]


@pytest.mark.parametrize("base_url, expected", [
    (None, OPENAI_KEY),
    ("https://api.openai.com/v1", OPENAI_KEY),
    ("https://API.OpenAI.com/v1/", OPENAI_KEY),
    ("https://api.mistral.ai/v1", None),
    ("https://api.openai.com.evil.example/v1", None),
    ("http://localhost:11434/v1", None),
])
def test_the_openai_key_goes_only_to_openai(base_url: str | None, expected: str | None) -> None:
    settings = load_settings(openai_api_key=OPENAI_KEY)
    assert settings.key_for(base_url) == expected
    assert settings.key_for(base_url, Variant(name="B", api_key=VARIANT_KEY)) == VARIANT_KEY
