"""Ingestion: load -> split -> embed -> upsert, incrementally.

A document is identified by its path under the ingested folder and fingerprinted by the hash of
its bytes and its access groups. A re-scan embeds only new or changed documents, replaces their
chunks in one transaction, and deletes the documents that disappeared from the folder, so a
deleted document is never cited again. Files that cannot be read are skipped with a reason.

Chunking: sections follow the headings (Markdown #, HTML h1-h4, DOCX Heading styles; PDF keeps
page numbers), then each section is cut into ~1,200-character pieces with 150 characters of
overlap: small enough for a precise citation, large enough to hold a policy rule with its
context; the overlap keeps a sentence cut at a boundary readable in both pieces.
"""

from __future__ import annotations

import fnmatch
import hashlib
import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psycopg
from langchain_text_splitters import RecursiveCharacterTextSplitter
from pgvector.psycopg import register_vector

from agents.docs.embeddings import Embedder
from agents.language import detect_language
from agents.store.users import EVERYONE, read_yaml

CHUNK_SIZE = 1200
CHUNK_OVERLAP = 150
# Larger files are skipped with a reason, before their bytes are read: a policy or a contract
# is far smaller, and a multi-gigabyte export dropped in the folder must not exhaust memory.
MAX_FILE_BYTES = 50 * 1024 * 1024
SUPPORTED = {".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm"}
TS_CONFIG = {"fr": "french", "en": "english"}


@dataclass(frozen=True)
class Section:
    text: str
    heading: str | None = None
    page: int | None = None


@dataclass(frozen=True)
class LoadedDocument:
    title: str
    sections: list[Section]


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    content: str
    section: str | None
    page: int | None


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks_embedded: int = 0
    rebuilt_for_model: bool = False

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, deleted {self.deleted}, "
            f"unchanged {self.unchanged}, skipped {len(self.skipped)}; "
            f"{self.chunks_embedded} chunks embedded"
        )


class UnreadableDocument(Exception):
    """A file that cannot be turned into text; the message is the reason shown in the report."""


# ---------------------------------------------------------------- loaders


def _markdown_sections(text: str) -> tuple[str | None, list[Section]]:
    sections: list[Section] = []
    title = None
    heading: str | None = None
    buffer: list[str] = []
    for line in text.splitlines():
        match = re.match(r"^(#{1,4})\s+(.*\S)\s*$", line)
        if match:
            if "".join(buffer).strip():
                sections.append(Section("\n".join(buffer).strip(), heading))
            buffer = []
            heading = match.group(2).strip()
            if title is None and len(match.group(1)) == 1:
                title = heading
            continue
        buffer.append(line)
    if "".join(buffer).strip():
        sections.append(Section("\n".join(buffer).strip(), heading))
    return title, sections


def load_markdown(path: Path) -> LoadedDocument:
    text = _read_text(path)
    title, sections = _markdown_sections(text)
    return LoadedDocument(title or _title_from_name(path), sections)


def load_text(path: Path) -> LoadedDocument:
    text = _read_text(path)
    lines = [line for line in text.splitlines() if line.strip()]
    title = lines[0].strip()[:120] if lines else _title_from_name(path)
    # Plain text often underlines headings or writes them in capitals: keep those as sections.
    sections: list[Section] = []
    heading: str | None = None
    buffer: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        is_rule = bool(re.fullmatch(r"[=\-]{3,}", stripped))
        is_heading = bool(
            stripped
            and len(stripped) < 80
            and (re.match(r"^\d+(\.\d+)*[.)]?\s+\S", stripped) or stripped.isupper())
        )
        if is_rule:
            continue
        if is_heading:
            if "".join(buffer).strip():
                sections.append(Section("\n".join(buffer).strip(), heading))
            buffer, heading = [], stripped
            continue
        buffer.append(line)
    if "".join(buffer).strip():
        sections.append(Section("\n".join(buffer).strip(), heading))
    return LoadedDocument(title, sections)


def load_pdf(path: Path) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    try:
        reader = PdfReader(str(path))
        # A PDF restricted by an owner password only (no copying, no printing) opens in every
        # viewer with the empty user password: read it like any other. One that needs a password
        # to open (or a cipher this install cannot decode) is skipped with the reason.
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError, PdfReadError):
                opened = 0
            if not opened:
                raise UnreadableDocument("the PDF is encrypted (it needs a password to open)")
        title = (reader.metadata.title if reader.metadata else None) or _title_from_name(path)
        sections = []
        heading: str | None = None
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            for line in text.splitlines():
                stripped = line.strip()
                if re.match(
                    r"^(Article|ARTICLE|Section|Annex|Annexe|Schedule)\s+\S+", stripped
                ) or re.match(r"^\d+(\.\d+)?\.?\s+[A-ZÉ][^.]{2,70}$", stripped):
                    heading = stripped[:120]
                    break
            if text.strip():
                sections.append(Section(text.strip(), heading, number))
    except UnreadableDocument:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableDocument(f"the PDF cannot be read ({exc})") from exc
    return LoadedDocument(str(title), sections)


def load_docx(path: Path) -> LoadedDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise UnreadableDocument(f"the DOCX file cannot be read ({exc})") from exc
    except Exception as exc:  # zipfile.BadZipFile and lxml errors for corrupt files
        raise UnreadableDocument(f"the DOCX file is corrupt ({type(exc).__name__})") from exc
    title = document.core_properties.title or None
    sections: list[Section] = []
    heading: str | None = None
    buffer: list[str] = []
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        text = paragraph.text.strip()
        if not text:
            continue
        if style.startswith("Heading") or style == "Title":
            if buffer:
                sections.append(Section("\n".join(buffer), heading))
            buffer, heading = [], text
            if title is None:
                title = text
            continue
        buffer.append(text)
    if buffer:
        sections.append(Section("\n".join(buffer), heading))
    return LoadedDocument(title or _title_from_name(path), sections)


def load_html(path: Path) -> LoadedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "noscript", "form"]):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    title_tag = soup.find("title")
    h1 = root.find("h1")
    title = (
        (h1.get_text(" ", strip=True) if h1 else None)
        or (title_tag.get_text(" ", strip=True) if title_tag else None)
        or _title_from_name(path)
    )
    sections: list[Section] = []
    heading: str | None = None
    buffer: list[str] = []
    for element in root.find_all(["h1", "h2", "h3", "h4", "p", "li", "td", "pre", "blockquote"]):
        text = element.get_text(" ", strip=True)
        if not text:
            continue
        if element.name in ("h1", "h2", "h3", "h4"):
            if buffer:
                sections.append(Section("\n".join(buffer), heading))
            buffer, heading = [], text
            continue
        buffer.append(text)
    if buffer:
        sections.append(Section("\n".join(buffer), heading))
    return LoadedDocument(title, sections)


LOADERS: dict[str, Callable[[Path], LoadedDocument]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".html": load_html,
    ".htm": load_html,
}


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _title_from_name(path: Path) -> str:
    return path.stem.replace("_", " ").replace("-", " ").strip().capitalize()


def _too_large() -> str:
    return f"the file is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MB limit"


def load_document(path: Path) -> LoadedDocument:
    """Load one file, or raise UnreadableDocument with the reason it was skipped."""
    suffix = path.suffix.lower()
    loader = LOADERS.get(suffix)
    if loader is None:
        raise UnreadableDocument(f"unsupported file type {suffix or '(none)'}")
    size = path.stat().st_size
    if size == 0:
        raise UnreadableDocument("the file is empty")
    if size > MAX_FILE_BYTES:
        raise UnreadableDocument(_too_large())
    document = loader(path)
    if not any(s.text.strip() for s in document.sections):
        raise UnreadableDocument("no text could be extracted")
    return document


def split_document(document: LoadedDocument) -> list[Chunk]:
    """Cut each section into overlapping pieces; every piece keeps its section and page."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE,
        chunk_overlap=CHUNK_OVERLAP,
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
    )
    chunks: list[Chunk] = []
    for section in document.sections:
        for piece in splitter.split_text(section.text):
            if piece.strip():
                chunks.append(Chunk(len(chunks), piece.strip(), section.heading, section.page))
    return chunks


# ---------------------------------------------------------------- access rules


@dataclass(frozen=True)
class AccessRules:
    default: tuple[str, ...]
    rules: tuple[tuple[str, tuple[str, ...]], ...]

    def groups_for(self, relative_path: str) -> tuple[str, ...]:
        for pattern, groups in self.rules:
            if fnmatch.fnmatch(relative_path, pattern):
                return groups
        return self.default


def load_access_rules(root: Path) -> AccessRules:
    """`acl.yaml` in the ingested folder: path globs -> groups, first match wins."""
    path = root / "acl.yaml"
    if not path.exists():
        return AccessRules((EVERYONE,), ())
    data = read_yaml(path) or {}
    default = tuple(data.get("default") or [EVERYONE])
    rules = tuple(
        (str(rule["pattern"]), tuple(rule.get("groups") or ())) for rule in data.get("rules") or []
    )
    return AccessRules(default, rules)


# ---------------------------------------------------------------- the incremental run


def iter_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != "acl.yaml" and not path.name.startswith("."):
            yield path


def fingerprint(data: bytes, groups: tuple[str, ...]) -> str:
    digest = hashlib.sha256(data)
    digest.update(("\x00" + ",".join(sorted(groups))).encode())
    return digest.hexdigest()


def ensure_index_model(conn: psycopg.Connection, embedder: Embedder) -> bool:
    """Record the embedding model; when it changed, empty the index and resize the vectors.

    Returns True when the index was rebuilt for a new model.
    """
    row = conn.execute("SELECT embed_model, dimension FROM app.index_state").fetchone()
    if row and row[0] == embedder.name and row[1] == embedder.dimension:
        return False
    rebuilt = row is not None
    conn.execute("DELETE FROM app.documents")
    column_dimension = conn.execute(
        "SELECT atttypmod FROM pg_attribute"
        " WHERE attrelid = 'app.chunks'::regclass AND attname = 'embedding'"
    ).fetchone()[0]  # type: ignore[index]
    if column_dimension != embedder.dimension:
        # The index is rebuilt as the migrations defined it (links per node and so on).
        indexdef = conn.execute(
            "SELECT indexdef FROM pg_indexes"
            " WHERE schemaname = 'app' AND indexname = 'chunks_embedding_idx'"
        ).fetchone()
        conn.execute("DROP INDEX IF EXISTS app.chunks_embedding_idx")
        conn.execute(
            f"ALTER TABLE app.chunks ALTER COLUMN embedding TYPE vector({int(embedder.dimension)})"
        )
        if indexdef is not None:
            conn.execute(indexdef[0])
    conn.execute(
        "INSERT INTO app.index_state (id, embed_model, dimension) VALUES (true, %s, %s) "
        "ON CONFLICT (id) DO UPDATE SET embed_model = excluded.embed_model, "
        "dimension = excluded.dimension, updated_at = now()",
        (embedder.name, embedder.dimension),
    )
    return rebuilt


@dataclass
class _Pending:
    """A new or changed document, loaded and split, waiting for its vectors and its write."""

    stored_path: str
    document: LoadedDocument
    chunks: list[Chunk]
    digest: str
    groups: tuple[str, ...]
    modified: datetime
    replaces: bool
    vectors: list[np.ndarray] = field(default_factory=list)


class _Writer:
    """Writes embedded documents on its own thread, so Postgres inserts one batch (the live
    HNSW insert is about 1.5 ms a chunk) while the encoder works on the next.

    It owns `conn` until `close()`; the first database error stops it and is raised again by
    `put` or `close` in the calling thread.
    """

    def __init__(self, conn: psycopg.Connection, source_root: str, report: IngestReport) -> None:
        self._conn = conn
        self._source_root = source_root
        self._report = report
        self._queue: queue.Queue[list[_Pending] | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sourced-ingest-writer",
                                        daemon=True)
        self._thread.start()

    def put(self, batch: list[_Pending]) -> None:
        self._raise_error()
        self._queue.put(batch)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain, so that put() never blocks on a dead writer
            try:
                for pending in batch:
                    _write_document(self._conn, self._source_root, pending)
                    self._report.chunks_embedded += len(pending.chunks)
                    if pending.replaces:
                        self._report.updated += 1
                    else:
                        self._report.added += 1
            except BaseException as exc:  # handed to the calling thread, not lost here
                self._error = exc


def ingest_folder(
    conn: psycopg.Connection,
    root: Path,
    embedder: Embedder,
    *,
    groups_override: tuple[str, ...] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    batch_size: int = 64,
) -> IngestReport:
    """Bring the index in line with `root`: embed new and changed files, drop deleted ones.

    Chunks of consecutive documents are embedded together, `batch_size` at a time or more
    (whole documents), and written by a second thread while the next batch is embedded.
    """
    register_vector(conn)
    root = root.resolve()
    report = IngestReport()
    source_root = str(root)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('sourced-ingest'))")
        report.rebuilt_for_model = ensure_index_model(conn, embedder)
    rules = load_access_rules(root)
    known = {
        row[0]: row[1]
        for row in conn.execute(
            "SELECT path, content_hash FROM app.documents WHERE source_root = %s",
            (source_root,),
        )
    }
    files = list(iter_files(root))
    seen: set[str] = set()
    writer = _Writer(conn, source_root, report)
    batch: list[_Pending] = []
    batch_chunks = 0
    try:
        for index, path in enumerate(files, start=1):
            relative = path.relative_to(root).as_posix()
            stored_path = f"{root.name}/{relative}"
            if progress:
                progress(index, len(files), relative)
            try:
                # The size limit is checked before the bytes are read for the fingerprint: a
                # multi-gigabyte file must be skipped, not loaded into memory first.
                status = path.stat()
                if status.st_size > MAX_FILE_BYTES:
                    report.skipped.append((relative, _too_large()))
                    continue
                data = path.read_bytes()
                modified = datetime.fromtimestamp(status.st_mtime, tz=UTC)
            except OSError as exc:
                report.skipped.append((relative, f"cannot be read ({exc.strerror})"))
                continue
            groups = groups_override or rules.groups_for(relative)
            digest = fingerprint(data, groups)
            previous = known.get(stored_path)
            if previous == digest:
                seen.add(stored_path)
                report.unchanged += 1
                continue
            try:
                document = load_document(path)
                chunks = split_document(document)
            except UnreadableDocument as exc:
                report.skipped.append((relative, str(exc)))
                continue
            except Exception as exc:  # a loader bug on one odd file must not stop the folder
                report.skipped.append((relative, f"could not be parsed ({type(exc).__name__})"))
                continue
            seen.add(stored_path)
            batch.append(_Pending(stored_path, document, chunks, digest, tuple(groups), modified,
                                  replaces=previous is not None))
            batch_chunks += len(chunks)
            if batch_chunks >= batch_size:
                writer.put(_embedded(batch, embedder))
                batch, batch_chunks = [], 0
        if batch:
            writer.put(_embedded(batch, embedder))
    finally:
        writer.close()
    gone = [p for p in known if p not in seen]
    # A file that exists but failed to load keeps its previous version rather than vanishing.
    still_present = {f"{root.name}/{p}" for p, _ in report.skipped}
    gone = [p for p in gone if p not in still_present]
    if gone:
        with conn.transaction():
            conn.execute("DELETE FROM app.documents WHERE path = ANY(%s)", (gone,))
        report.deleted = len(gone)
    return report


def _embedded(batch: list[_Pending], embedder: Embedder) -> list[_Pending]:
    """The batch with each document's vectors, from one call to the encoder."""
    texts = [_embedding_text(p.document, c) for p in batch for c in p.chunks]
    vectors = iter(embedder.embed(texts))
    for pending in batch:
        pending.vectors = [next(vectors) for _ in pending.chunks]
    return batch


def _write_document(conn: psycopg.Connection, source_root: str, pending: _Pending) -> None:
    """Replace one document and its chunks, in one transaction."""
    document, chunks = pending.document, pending.chunks
    language = detect_language(" ".join(c.content for c in chunks[:5]))
    with conn.transaction():
        if pending.replaces:
            conn.execute("DELETE FROM app.documents WHERE path = %s", (pending.stored_path,))
        document_id = conn.execute(
            "INSERT INTO app.documents (source_root, path, title, content_hash, modified_at,"
            " language, acl_groups, chunk_count) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING document_id",
            (
                source_root,
                pending.stored_path,
                document.title,
                pending.digest,
                pending.modified,
                language,
                list(pending.groups),
                len(chunks),
            ),
        ).fetchone()[0]  # type: ignore[index]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO app.chunks (document_id, ordinal, section, page, content,"
                " language, acl_groups, embedding, tsv) VALUES (%s, %s, %s, %s, %s, %s, %s,"
                " %s, to_tsvector(%s::regconfig, %s))",
                [
                    (
                        document_id,
                        c.ordinal,
                        c.section,
                        c.page,
                        c.content,
                        language,
                        list(pending.groups),
                        vector,
                        TS_CONFIG.get(language, "simple"),
                        f"{document.title} {c.section or ''} {c.content}",
                    )
                    for c, vector in zip(chunks, pending.vectors, strict=True)
                ],
            )


def _embedding_text(document: LoadedDocument, chunk: Chunk) -> str:
    # The title and section give a short passage the context its words alone lack.
    return f"{document.title}. {chunk.section or ''}. {chunk.content}"
