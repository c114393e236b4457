"""`sourced model draft|check|import-dbt`: write, check or import the semantic model.

- `check [--model FILE]`: the model against the warehouse as the reader role; exit 0 valid,
  1 with one line per problem.
- `draft [--schema NAME] [--output FILE]`: a model drafted from the warehouse's catalog.
- `import-dbt PATH [--output FILE]`: a model converted from dbt semantic models and metrics.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg

from agents.config import Settings
from agents.errors import ConfigError

EXIT_OK, EXIT_FAILED = 0, 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    model = sub.add_parser("model", help="draft, check or import the semantic model")
    what = model.add_subparsers(dest="model_command", required=True)
    check = what.add_parser("check", help="check the semantic model against the warehouse "
                            "(as the reader role); exit 1 with one line per problem")
    check.add_argument("--model", type=Path, help="the model file (default: the configured one)")
    draft = what.add_parser("draft", help="draft a semantic model from the warehouse's catalog")
    draft.add_argument("--schema", help="the schema to read (default: SOURCED_WAREHOUSE_SCHEMA)")
    draft.add_argument("--output", type=Path, help="where to write it (default: standard output)")
    dbt = what.add_parser("import-dbt", help="convert dbt semantic models and metrics")
    dbt.add_argument("path", type=Path, help="a dbt project folder or a YAML file")
    dbt.add_argument("--output", type=Path, help="where to write it (default: standard output)")
    dbt.add_argument("--schema", help="the schema the dbt models are built in (default: the "
                     "first of SOURCED_WAREHOUSE_SCHEMA)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.model_command == "check":
        return _check(settings, args.model or Path(settings.semantic_model_file))
    if args.model_command == "draft":
        return _draft(settings, args.schema, args.output)
    return _import_dbt(args.path, args.output, args.schema or settings.warehouse_schemas[0])


def _warehouse_url(settings: Settings) -> str:
    from agents.store import database

    return database.resolve_urls(settings).warehouse


def _check(settings: Settings, path: Path) -> int:
    from agents.sql.model_check import check_model, locator
    from agents.sql.semantic_model import load_with_lines

    try:
        model, lines = load_with_lines(path)
    except ConfigError as exc:
        print(exc.user_message, file=sys.stderr)
        return EXIT_FAILED
    with psycopg.connect(_warehouse_url(settings), autocommit=True) as conn:
        problems = check_model(model, conn, locator(path, lines))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return EXIT_FAILED
    print(f"{path}: valid ({len(model.metrics)} metrics, {len(model.dimensions)} dimensions, "
          f"{len(model.sources)} sources checked against the warehouse).")
    return EXIT_OK


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    print(f"Wrote {output}.", file=sys.stderr)


def _draft(settings: Settings, schema: str | None, output: Path | None) -> int:
    from agents.sql.catalog import read_catalog
    from agents.sql.model_draft import draft_model

    schemas = (schema,) if schema else settings.warehouse_schemas

    def progress(done: int, total: int, name: str) -> None:
        if total >= 20 and (done % 10 == 0 or done == total):
            print(f"  read {done}/{total} tables ({name})", file=sys.stderr)

    catalog = read_catalog(_warehouse_url(settings), schemas, progress=progress)
    _write(draft_model(catalog), output)
    return EXIT_OK


def _import_dbt(path: Path, output: Path | None, schema: str) -> int:
    from agents.sql.dbt_import import import_dbt

    converted = import_dbt(path, schema)
    _write(converted.text, output)
    for item in converted.skipped:
        print(f"not converted: {item}", file=sys.stderr)
    return EXIT_OK
