"""Sample warehouses the assistant was never tuned on (`seed_data/sample_warehouses/*/`), each
asked offline through a semantic model drafted from its catalog.

A sample folder holds a SQL script, `sample.yaml` (how to load it, its schema), the few edits a
person makes to the draft (`model_edits.yaml`, each documented there) and its questions with
gold SQL. `prepare_sample` loads the script into a database of its own on the same server
(reused when already loaded), with an app database of its own (no documents), gives the
reader roles of users.yaml read access to it, drafts the model (`sourced model draft`) and
merges the edits; `build_resources` checks it (`sourced model check`); `sourced eval sql` and
the tests then ask its questions.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql
from pydantic import SecretStr

from agents.config import PROJECT_ROOT, Settings
from agents.errors import ConfigError
from agents.store.users import read_yaml

SAMPLES_DIR = PROJECT_ROOT / "seed_data" / "sample_warehouses"


@dataclass(frozen=True)
class Sample:
    name: str
    directory: Path
    script: Path
    skip_through: str
    schema: str
    model_edits: Path | None
    questions: Path
    holdout: Path | None = None  # reported apart, with no target

    @property
    def database(self) -> str:
        return f"sourced_sample_{self.name}"


def load_sample(directory: Path) -> Sample:
    spec = read_yaml(directory / "sample.yaml")
    if not isinstance(spec, dict) or not spec.get("script") or not spec.get("questions"):
        raise ConfigError(f"{directory / 'sample.yaml'}: needs `script` and `questions`.")
    edits = spec.get("model_edits")
    return Sample(
        name=str(spec.get("name") or directory.name), directory=directory,
        script=directory / str(spec["script"]), skip_through=str(spec.get("skip_through") or ""),
        schema=str(spec.get("schema") or "public"),
        model_edits=directory / str(edits) if edits else None,
        questions=directory / str(spec["questions"]),
        holdout=directory / str(spec["holdout"]) if spec.get("holdout") else None,
    )


def samples() -> list[Sample]:
    """Every sample folder, by name."""
    return [load_sample(d) for d in sorted(SAMPLES_DIR.iterdir())
            if (d / "sample.yaml").is_file()] if SAMPLES_DIR.is_dir() else []


def _script_body(sample: Sample) -> str:
    text = sample.script.read_text(encoding="utf-8")
    if sample.skip_through:
        _, found, body = text.partition(sample.skip_through)
        if not found:
            raise ConfigError(f"{sample.script}: the line {sample.skip_through!r} is missing.")
        return body
    return text


def load_sample_database(server_url: str, sample: Sample) -> str:
    """The owner URL of the sample's database on this server, loaded once (trusted script)."""
    from agents.store.database import ensure_database, with_database

    ensure_database(server_url, sample.database)
    url = with_database(server_url, sample.database)
    with psycopg.connect(url) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('sourced-sample'))")
        loaded = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s",
                              (sample.schema,)).fetchone()
        if not loaded or not loaded[0]:
            if sample.schema != "public":
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(sample.schema)))
                conn.execute(sql.SQL("SET LOCAL search_path = {}").format(
                    sql.Identifier(sample.schema)))
            conn.execute(_script_body(sample).encode())
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")  # the statistics the draft reads (pg_stats)
    return url


def grant_readers(owner_url: str, sample: Sample, users_file: Path) -> None:
    """The reader roles of users.yaml, reading the sample's schema (their scopes do not apply:
    its tables are not theirs)."""
    from agents.store.roles import AccessProfile, access_profile, sync_reader_roles
    from agents.store.users import load_directory

    directory = load_directory(users_file)
    profiles = {access_profile(u, directory.restricted_tables) for u in directory.users.values()}
    profiles.add(AccessProfile())
    with psycopg.connect(owner_url, autocommit=True) as conn:
        sync_reader_roles(conn, profiles, directory.restricted_tables, schemas=(sample.schema,),
                          scopes=directory.scopes)


def merge(base: Any, edits: Any) -> Any:
    """Mappings merged key by key; anything else replaced."""
    if isinstance(base, dict) and isinstance(edits, dict):
        merged = dict(base)
        for key, value in edits.items():
            merged[key] = merge(base.get(key), value)
        return merged
    return edits


def edited_model(draft: str, sample: Sample) -> str:
    """The draft with the sample's documented edits merged in."""
    from agents.sql.model_yaml import dump_model

    data = yaml.safe_load(draft)
    if sample.model_edits is not None:
        data = merge(data, read_yaml(sample.model_edits))
    return dump_model(data, {}, [f"The drafted model of the sample {sample.name}, with the "
                                 f"edits of {sample.model_edits}."])


def prepare_sample(settings: Settings, server_url: str, sample: Sample,
                   work_dir: Path) -> Settings:
    """Load, grant, draft, edit: the settings that ask the sample's questions."""
    from agents.sql.catalog import read_catalog
    from agents.sql.model_draft import draft_model
    from agents.store.database import READER_ROLE, ensure_database, with_database, with_user

    owner = load_sample_database(server_url, sample)
    # An app database of its own too: the demo's documents and query log are not this
    # company's (a question the model cannot answer must not find the demo's documents).
    ensure_database(server_url, f"{sample.database}_app")
    grant_readers(owner, sample, Path(settings.users_file))
    reader = with_user(owner, READER_ROLE)
    draft = draft_model(read_catalog(reader, (sample.schema,)))
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / f"{sample.name}_draft.yaml").write_text(draft, encoding="utf-8")
    model = work_dir / f"{sample.name}_model.yaml"
    model.write_text(edited_model(draft, sample), encoding="utf-8")
    return settings.model_copy(update={
        "database_url": SecretStr(with_database(server_url, f"{sample.database}_app")),
        "warehouse_url": SecretStr(reader), "warehouse_schema": sample.schema,
        "semantic_model_file": model,
    })


def server_url(settings: Settings) -> str | None:
    """A URL of the app's server that may create databases (None when it may not)."""
    from agents.store.database import resolve_urls, start_embedded

    if settings.database_url is None:
        return start_embedded(settings.data_dir)
    url = resolve_urls(settings).app
    with contextlib.suppress(psycopg.Error), psycopg.connect(url) as conn:
        row = conn.execute("SELECT rolcreatedb OR rolsuper FROM pg_roles "
                           "WHERE rolname = current_user").fetchone()
        if row and row[0]:
            return url
    return None


def evaluate_samples(settings: Settings, user: str | None = None) -> tuple[Any, ...]:
    """Each sample's questions as a SetResult (target: >= 80% correct, 0 confidently wrong);
    none when the app's role may not create databases."""
    from agents.commands.evaluation.sql_sets import (
        EvalSet,
        SetResult,
        check_users,
        evaluate_questions,
        load_sql_questions,
    )
    from agents.resources import build_resources

    server = server_url(settings)
    if server is None:
        return ()
    results = []
    for sample in samples():
        prepared = prepare_sample(settings, server, sample,
                                  Path(settings.data_dir) / "samples")
        edits = sample.model_edits.name if sample.model_edits else "(none)"
        sets = [EvalSet(f"sample warehouse {sample.name} (drafted model)", sample.questions,
                        min_correct=0.80, max_wrong=0,
                        note=f"the model drafted from its catalog, with the edits of {edits}")]
        if sample.holdout is not None:
            sets.append(EvalSet(f"sample warehouse {sample.name}, holdout", sample.holdout,
                                note="no target: never tried before the draft was fixed"))
        resources = build_resources(prepared.model_copy(update={"llm_model": None}))
        try:
            for spec in sets:
                questions = load_sql_questions(spec.path)
                check_users(questions, resources, user)
                results.append(SetResult(spec, evaluate_questions(questions, resources, user)))
        finally:
            resources.close()
    return tuple(results)
