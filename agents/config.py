"""The one configuration object: environment first, then `.streamlit/secrets.toml`, then defaults.

Nothing else in `agents/` reads `os.environ`; every limit and endpoint is a field here and is
documented in the README (a test checks that every field name appears there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"


class Variant(BaseModel):
    """One arm of an A/B test: a model and the prompt versions it is asked with."""

    name: str
    model: str | None = None  # None: the main llm_model
    base_url: str | None = None  # None: the main llm_base_url
    # The key of this variant's own endpoint; without one, only a key known to belong to that
    # endpoint is sent (see Settings.key_for).
    api_key: SecretStr | None = None
    sql_prompt: str = "sql_writer_v1"
    answer_prompt: str = "doc_answer_v1"
    temperature: float = Field(default=0.0, ge=0, le=2)


class Settings(BaseSettings):
    """Every setting of Sourced. Environment variables are `SOURCED_<FIELD>` (upper case)."""

    model_config = SettingsConfigDict(
        env_prefix="SOURCED_",
        extra="ignore",
        toml_file=SECRETS_FILE,
    )

    # Databases. Unset database_url: the embedded PostgreSQL under data_dir is started on demand.
    database_url: SecretStr | None = None
    warehouse_url: SecretStr | None = None
    # The warehouse's schema, or several separated by commas (the first qualifies bare table
    # names): generated SQL reads these only, reader roles get USAGE on them, `sourced model
    # draft` reads their catalog. The demo's is `warehouse`.
    warehouse_schema: str = "warehouse"
    data_dir: Path = PROJECT_ROOT / ".sourced"
    database_name: str = "sourced"

    # Files that hold the business truth.
    users_file: Path = PROJECT_ROOT / "seed_data" / "users.yaml"
    semantic_model_file: Path = PROJECT_ROOT / "seed_data" / "semantic_model.yaml"
    docs_dir: Path = PROJECT_ROOT / "seed_data" / "docs"

    # Limits of the read-only executor.
    statement_timeout_ms: int = Field(default=15_000, ge=100)
    max_rows: int = Field(default=5_000, ge=1)
    pool_max_size: int = Field(default=10, ge=1)
    max_question_chars: int = Field(default=2_000, ge=10)

    # Retrieval.
    retrieval_k: int = Field(default=5, ge=1, le=50)

    # Model provider (any OpenAI-compatible endpoint). Unset llm_model: offline mode.
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    llm_timeout_s: float = Field(default=30.0, gt=0)
    llm_max_retries: int = Field(default=2, ge=0, le=5)
    # The OpenAI key from the environment, used only when the endpoint is OpenAI's own.
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "SOURCED_OPENAI_API_KEY")
    )

    # Embeddings: the offline encoder unless an OpenAI-compatible embeddings model is named.
    embed_model: str | None = None
    embed_base_url: str | None = None
    embed_api_key: SecretStr | None = None

    # A/B of two variants (JSON list in SOURCED_AB_VARIANTS); ab_enabled draws one per question.
    ab_enabled: bool = False
    ab_variants: list[Variant] = Field(default_factory=list, max_length=2)

    # LLM writer: the schema part of the prompt is cut to this many tokens (about 4 characters
    # each), so a warehouse of hundreds of tables still gives a bounded prompt.
    prompt_token_budget: int = Field(default=3_000, ge=500)
    # Cosine similarity above which a new question may reuse an analyst's verified query; it must
    # also name the same metrics, dimensions, filters, periods and numbers. Calibrated for the
    # offline encoder in tests/test_verified.py (near-misses reach 0.77 when those agree).
    verified_threshold: float = Field(default=0.80, gt=0, le=1)

    log_json: bool = False
    # The demo's user picker instead of sign-in: only on purpose (it is also on for the embedded
    # demo database); never a fallback for a missing or broken [auth] section.
    demo_mode: bool = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment wins over secrets.toml so an operator can override a file on one host.
        return (init_settings, env_settings, _SecretsTomlSource(settings_cls))

    @property
    def warehouse_schemas(self) -> tuple[str, ...]:
        """`warehouse_schema` as a tuple of names, in order."""
        names = tuple(n.strip() for n in self.warehouse_schema.split(",") if n.strip())
        return names or ("public",)

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_model)

    @property
    def mode(self) -> str:
        return f"llm:{self.llm_model}" if self.llm_enabled else "offline"

    def llm_key(self) -> str | None:
        """The key sent to the main model endpoint (`llm_base_url`)."""
        return self.key_for(self.llm_base_url)

    def key_for(self, base_url: str | None, variant: Variant | None = None) -> str | None:
        """The key for one endpoint: a key goes only to the endpoint it was given for.

        A variant's own `api_key` goes to its endpoint; `llm_api_key` only to `llm_base_url`;
        the OpenAI key only to OpenAI's own endpoint. A custom base URL (a vLLM box, Mistral,
        Ollama, an A/B variant's server) never silently receives another provider's key.
        """
        if variant is not None and variant.api_key is not None:
            return variant.api_key.get_secret_value()
        target = _endpoint(base_url)
        if self.llm_api_key is not None and target == _endpoint(self.llm_base_url):
            return self.llm_api_key.get_secret_value()
        if self.openai_api_key is not None and target == _endpoint(None):
            return self.openai_api_key.get_secret_value()
        return None


def _endpoint(base_url: str | None) -> str:
    """A base URL compared as endpoints are: no trailing slash, scheme and host in lower case."""
    url = (base_url or OPENAI_DEFAULT_BASE_URL).strip().rstrip("/")
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}{sep}{host.lower()}{slash}{path}"


class _SecretsTomlSource(TomlConfigSettingsSource):
    """`.streamlit/secrets.toml`: top-level keys named like the fields, or a `[sourced]` table."""

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        nested = data.get("sourced")
        merged = {k: v for k, v in data.items() if k in Settings.model_fields}
        if isinstance(nested, dict):
            merged.update({k: v for k, v in nested.items() if k in Settings.model_fields})
        return merged


def load_settings(**overrides: Any) -> Settings:
    """Read the settings once; callers pass the object on (no module-level singleton)."""
    return Settings(**overrides)
