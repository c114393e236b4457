"""The `sourced` command: setup, seed, db url, ingest, ask, verify, review, eval, doctor, model.

Exit codes: 0 answered (a polite refusal is an answer), 2 bad input or configuration, 1 when the
database or another service failed. No traceback reaches the terminal.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from agents.commands import model
from agents.config import Settings, load_settings
from agents.errors import AssistantError, BadInput, ConfigError
from agents.logs import setup_logging

if TYPE_CHECKING:
    from agents.resources import Resources

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sourced", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help="start the database, migrate, seed and ingest the demo if needed")
    seed = sub.add_parser("seed", help="generate the demo warehouse (no-op when already seeded)")
    seed.add_argument("--force", action="store_true", help="reload even if already seeded")
    db = sub.add_parser("db", help="database helpers")
    db.add_argument("what", choices=["url"], help="url: print the app database URL")
    db.add_argument("--show-password", action="store_true",
                    help="print the password too (it is masked by default: terminals get logged)")
    ingest = sub.add_parser("ingest", help="index a folder of documents incrementally")
    ingest.add_argument("path", type=Path)
    ingest.add_argument("--groups", help="comma-separated groups for every file (else acl.yaml)")
    ingest.add_argument("--watch", action="store_true", help="re-scan periodically")
    ingest.add_argument("--interval", type=float, default=300.0, help="seconds between scans")
    ask = sub.add_parser("ask", help="ask a question ('-' reads it from standard input)")
    ask.add_argument("question")
    ask.add_argument("--user", default="alice")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--after", metavar="ANSWER_ID",
                     help="a follow-up of this earlier answer of the same user")
    verify = sub.add_parser("verify", help="save a question and its SQL as a verified query "
                            "(analysts)")
    verify.add_argument("question")
    verify.add_argument("--sql", required=True, help="the SQL that answers it ('-' reads stdin)")
    verify.add_argument("--user", required=True, help="the analyst saving it")
    review = sub.add_parser("review", help="the review queue of thumbs-down and corrections")
    review.add_argument("action", choices=["list", "approve", "reject"])
    review.add_argument("review_id", nargs="?", type=int)
    review.add_argument("--user", help="the analyst deciding (approve, reject)")
    review.add_argument("--sql", help="approve with this corrected SQL instead of the proposed")
    review.add_argument("--note", help="why it was rejected")
    evaluate = sub.add_parser("eval", help="measure the offline pipeline on evaluation sets")
    evaluate.add_argument("what", choices=["sql", "rag"],
                          help="sql: correct / honest / confidently wrong answers; rag: hit@1, "
                          "hit@5 and MRR of retrieval")
    evaluate.add_argument("--questions", type=Path,
                          help="one evaluation file, with its per-question table (a file of "
                          "`conversations:` is asked turn by turn; default: sql runs the "
                          "in-model, out-of-model, holdout and conversation sets; rag its set)")
    evaluate.add_argument("--user", help="who asks (default alice; a question's own user wins)")
    sub.add_parser("doctor", help="check the database, roles, embedder, index and model "
                   "endpoint; exit 1 when something needs fixing")
    model.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        # JSON lines are for a log collector: the per-question INFO line included. A person at
        # a terminal sees warnings and errors only. Secrets are redacted either way.
        setup_logging(settings, level=logging.INFO if settings.log_json else logging.WARNING)
        return _run(args, settings)
    except BadInput as exc:
        print(f"sourced: {exc.user_message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ConfigError as exc:
        print(f"sourced: {exc.user_message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except AssistantError as exc:
        print(f"sourced: {exc.user_message}", file=sys.stderr)
        return EXIT_FAILED
    except psycopg.Error as exc:
        print(f"sourced: database error: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (`sourced ask ... | head`): the answer was logged; say nothing,
        # and point stdout at devnull so the interpreter's own flush at exit does not fail too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # last resort: one line, never a traceback
        print(f"sourced: unexpected error ({type(exc).__name__}: {exc})", file=sys.stderr)
        return EXIT_FAILED


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from agents.resources import build_resources, prepare_database
    from agents.store import database
    from agents.store.users import load_directory

    if args.command == "model":
        return model.run(args, settings)
    if args.command == "doctor":
        from agents.commands.doctor import run_doctor

        return run_doctor(settings)
    if args.command == "db":
        url = database.resolve_urls(settings).app
        print(url if args.show_password else database.masked_url(url))
        return EXIT_OK
    if args.command == "seed":
        directory = load_directory(Path(settings.users_file))
        urls = database.resolve_urls(settings)
        prepare_database(settings, urls, directory)
        report = seed_warehouse(urls.app, force=args.force)
        print(report)
        return EXIT_OK
    if args.command == "setup":
        return _setup(settings)
    if args.command == "ingest":
        resources = build_resources(settings)
        try:
            return _ingest(resources, args)
        finally:
            resources.close()
    if args.command == "ask":
        # Bytes: invalid UTF-8 on stdin becomes a plain "not valid UTF-8" from the pipeline.
        question = sys.stdin.buffer.read() if args.question == "-" else args.question
        return _ask(settings, question, args.user, args.json, args.after)
    if args.command == "eval":
        return _eval(settings, args)
    if args.command in ("verify", "review"):
        resources = build_resources(settings)
        try:
            return _verify(resources, args) if args.command == "verify" else \
                _review(resources, args)
        finally:
            resources.close()
    return EXIT_BAD_INPUT


def seed_warehouse(app_url: str, *, force: bool = False) -> str:
    from seed_data import warehouse

    started = time.perf_counter()
    with psycopg.connect(app_url) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('sourced-seed'))")
        if warehouse.is_seeded(conn) and not force:
            return "The warehouse is already seeded (use --force to reload it)."
        counts = warehouse.load(conn, warehouse.generate())
        conn.commit()
    total = ", ".join(f"{name} {count:,}" for name, count in counts.items())
    return f"Seeded the warehouse in {time.perf_counter() - started:.1f} s: {total}."


def _setup(settings: Settings) -> int:
    from agents.resources import build_resources, prepare_database
    from agents.store import database
    from agents.store.users import load_directory

    directory = load_directory(Path(settings.users_file))
    urls = database.resolve_urls(settings)
    prepare_database(settings, urls, directory)
    if settings.warehouse_url is not None:
        # A warehouse of its own: the demo's data is not loaded anywhere.
        print("SOURCED_WAREHOUSE_URL is set: the demo warehouse is not seeded "
              "(`sourced model check` checks the semantic model against yours).")
    else:
        print(seed_warehouse(urls.app))
        from seed_data import build_docs

        build_docs.main(["--quiet"])
    resources = build_resources(settings, prepare=False)
    demo_docs = Path(settings.docs_dir) == Settings.model_fields["docs_dir"].default
    if settings.warehouse_url is not None and demo_docs:
        print("Documents: the demo's are not indexed with a warehouse of your own "
              "(set SOURCED_DOCS_DIR, or run `sourced ingest FOLDER`).")
        resources.close()
        return EXIT_OK
    try:
        with resources.app_pool.connection() as conn:
            from agents.docs.ingest import ingest_folder

            report = ingest_folder(conn, Path(settings.docs_dir), resources.embedder)
        print(f"Documents: {report.summary()}")
        for path, reason in report.skipped:
            print(f"  skipped {path}: {reason}")
    finally:
        resources.close()
    return EXIT_OK


def _ingest(resources: object, args: argparse.Namespace) -> int:
    from agents.docs.ingest import ingest_folder
    from agents.resources import Resources

    assert isinstance(resources, Resources)
    root: Path = args.path
    if not root.is_dir():
        raise BadInput(f"{root} is not a folder.")
    groups = tuple(g.strip() for g in args.groups.split(",") if g.strip()) if args.groups else None

    def progress(done: int, total: int, name: str) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        bar = "#" * filled + "-" * (width - filled)
        print(f"\r[{bar}] {done}/{total} {name[:40]:<40}", end="", file=sys.stderr, flush=True)

    while True:
        with resources.app_pool.connection() as conn:
            report = ingest_folder(conn, root, resources.embedder, groups_override=groups,
                                   progress=progress)
        print(file=sys.stderr)
        print(report.summary())
        for path, reason in report.skipped:
            print(f"  skipped {path}: {reason}")
        if not args.watch:
            return EXIT_OK
        time.sleep(max(args.interval, 1.0))


def _verify(resources: Resources, args: argparse.Namespace) -> int:
    from agents.sql.verified import save_verified

    user = resources.directory.get(args.user)
    sql = sys.stdin.read() if args.sql == "-" else args.sql
    saved = save_verified(resources.app_pool, resources.embedder, user, args.question, sql,
                          resources.policy_for(user))
    print(f"Saved verified query #{saved.verified_id}: {saved.question!r} "
          f"({saved.badge('en').lower()}).")
    return EXIT_OK


def _review(resources: Resources, args: argparse.Namespace) -> int:
    from agents.sql.verified import approve_review, pending_reviews, reject_review

    if args.action == "list":
        reviews = pending_reviews(resources.app_pool)
        if not reviews:
            print("No answer is waiting for review.")
        for item in reviews:
            print(f"#{item.review_id} {item.created_at:%Y-%m-%d} by {item.proposed_by}: "
                  f"{item.question}")
            if item.comment:
                print(f"    comment: {item.comment}")
            if item.proposed_sql:
                print(f"    proposed SQL: {item.proposed_sql}")
            elif item.original_sql:
                print(f"    original SQL: {item.original_sql}")
        return EXIT_OK
    if args.review_id is None or not args.user:
        raise BadInput(f"`sourced review {args.action}` needs a review id and --user.")
    analyst = resources.directory.get(args.user)
    if args.action == "approve":
        saved = approve_review(resources.app_pool, resources.embedder, args.review_id, analyst,
                               resources.policy_for(analyst), sql=args.sql)
        print(f"Approved review #{args.review_id}: verified query #{saved.verified_id}.")
    else:
        reject_review(resources.app_pool, args.review_id, analyst, args.note)
        print(f"Rejected review #{args.review_id}.")
    return EXIT_OK


def _ask(settings: Settings, question: str | bytes, user: str, as_json: bool,
         after: str | None = None) -> int:
    from agents.ask.pipeline import ask
    from agents.resources import build_resources

    resources = build_resources(settings)
    try:
        answer = ask(question, user, resources, follow_up_of=after)
    finally:
        resources.close()
    if answer.error == "bad_input":
        print(f"sourced: {answer.text}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if as_json:
        print(json.dumps(answer.as_json(), ensure_ascii=False))
        return EXIT_OK
    print(answer.text)
    if answer.columns:
        print()
        print(" | ".join(answer.column_labels.get(c, c) for c in answer.columns))
        for row in answer.rows[:50]:
            print(" | ".join("" if v is None else str(v) for v in row))
        if len(answer.rows) > 50:
            print(f"... {len(answer.rows) - 50} more rows")
    if answer.explanation:
        print(f"\n{answer.explanation}")
    if answer.sql:
        print(f"\nSQL: {answer.sql}")
    for source in answer.sources:
        from agents.ask.answer import source_line

        print(source_line(source, answer.lang))
    return EXIT_OK


def _eval(settings: Settings, args: argparse.Namespace) -> int:
    from agents.commands import evaluation
    from agents.resources import build_resources

    # The offline pipeline is what is measured, even where the environment names a model.
    resources = build_resources(settings.model_copy(update={"llm_model": None}))
    try:
        if args.what == "rag":
            # A file with a top-level `corpus:` key is a real-documents set (its own corpus).
            if args.questions is None or not evaluation.is_real_questions_file(args.questions):
                rag_report = evaluation.evaluate_rag(args.questions or evaluation.RAG_QUESTIONS,
                                                     resources, args.user)
                print(evaluation.format_rag_report(rag_report))
            if args.questions is None or evaluation.is_real_questions_file(args.questions):
                real = evaluation.evaluate_real_docs(args.questions or evaluation.REAL_QUESTIONS,
                                                     resources)
                print()
                print(evaluation.format_real_report(real))
            return EXIT_OK
        if args.questions is not None:
            # A file with a top-level `conversations:` key is asked turn by turn.
            sql_report = (
                evaluation.evaluate_conversations_file(args.questions, resources, args.user)
                if evaluation.is_conversations_file(args.questions)
                else evaluation.evaluate_sql(args.questions, resources, args.user))
            print(evaluation.format_sql_report(sql_report))
            return EXIT_OK
        results = evaluation.evaluate_sets(resources, args.user)
        # The sample warehouses (drafted models), each in a database of its own.
        from agents.commands.evaluation.samples import evaluate_samples

        results += evaluate_samples(settings, args.user)
        print(evaluation.format_sets_report(results))
    finally:
        resources.close()
    # The figures are the result, targets met or not; a question that crashed (or a gold SQL
    # that did not run) is not a figure, and a script running the sets must notice it.
    return EXIT_FAILED if any(r.report.failed for r in results) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
