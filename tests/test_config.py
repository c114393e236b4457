"""Configuration: every setting is documented; a custom endpoint never gets the OpenAI key."""

from __future__ import annotations

from pathlib import Path

from agents.config import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    missing = [name for name in Settings.model_fields if f"`{name}`" not in README]
    assert missing == []


def test_openai_key_never_sent_to_a_custom_endpoint(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-secret")
    monkeypatch.delenv("SOURCED_LLM_API_KEY", raising=False)
    custom = Settings(llm_base_url="http://vllm.internal:8000/v1", llm_model="m")
    assert custom.llm_key() is None
    openai = Settings(llm_model="gpt-4o-mini")
    assert openai.llm_key() == "sk-openai-secret"
    explicit = Settings(llm_base_url="http://x/v1", llm_api_key="k", llm_model="m")
    assert explicit.llm_key() == "k"


def test_environment_overrides_defaults(monkeypatch) -> None:
    monkeypatch.setenv("SOURCED_MAX_ROWS", "123")
    assert Settings().max_rows == 123
    assert Settings().mode == "offline" or Settings().llm_model
