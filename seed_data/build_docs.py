"""Build the binary demo documents (PDF, DOCX) of the Lumen & Co corpus.

Sources live in ``seed_data/doc_sources/`` as readable Markdown-like text files
named ``<name>.<format>.md`` (``format`` is ``pdf`` or ``docx``).  Each source is
rendered to ``seed_data/docs/<same relative folder>/<name>.<format>``.

Source syntax (a small Markdown subset):

* ``% key: value`` lines at the very top: metadata (title, author, subject,
  date as YYYY-MM-DD, classification, version).
* ``#``, ``##``, ``###`` headings (Word styles Heading 1/2/3 in DOCX, bold
  sized headings in PDF).
* ``---`` alone on a line: page break.
* ``- item`` bullets, ``1. item`` numbered items (kept as typed).
* ``| a | b |`` tables (the ``|---|---|`` separator line is ignored).
* ``**bold**`` inline (bold runs in DOCX, plain text in PDF).
* anything else: paragraphs (consecutive lines are joined).

The build is deterministic: fixed creation/modification dates taken from the
``% date:`` metadata, fixed ZIP timestamps in DOCX files.  A target is skipped
when it is newer than both its source and this script (use ``--force`` to
rebuild everything).

Usage::

    python -m seed_data.build_docs [--force] [--quiet]
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SOURCES = ROOT / "doc_sources"
DOCS = ROOT / "docs"
COMPANY = "Lumen & Co"
DEFAULT_DATE = "2024-01-15"
FORMATS = ("pdf", "docx")

# Characters outside latin-1 that the PDF core fonts cannot encode.
_PDF_REPLACEMENTS = {
    "\u0153": "oe",  # œ
    "\u0152": "OE",  # Œ
    "\u2019": "'",
    "\u2018": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2022": "-",
    "\u20ac": "EUR",  # € is not latin-1
    "\u00a0": " ",
    "\u202f": " ",
    "\u2192": "->",
    "\u2264": "<=",
    "\u2265": ">=",
}


def pdf_safe(text: str) -> str:
    for bad, good in _PDF_REPLACEMENTS.items():
        text = text.replace(bad, good)
    return text.encode("latin-1", errors="replace").decode("latin-1")


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


@dataclass
class Block:
    kind: str  # heading | para | bullet | number | table | pagebreak
    text: str = ""
    level: int = 0
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Source:
    path: Path
    meta: dict[str, str]
    blocks: list[Block]

    @property
    def title(self) -> str:
        return self.meta.get("title") or self.path.name.split(".")[0]

    @property
    def date(self) -> datetime:
        raw = self.meta.get("date", DEFAULT_DATE)
        return datetime.strptime(raw, "%Y-%m-%d").replace(hour=9, tzinfo=UTC)


_NUMBERED = re.compile(r"^(\d+[.)]|[a-z][.)])\s+")


def parse_source(path: Path) -> Source:
    meta: dict[str, str] = {}
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines) and lines[i].startswith("%"):
        key, _, value = lines[i][1:].partition(":")
        meta[key.strip().lower()] = value.strip()
        i += 1
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(Block("para", " ".join(s.strip() for s in para)))
            para.clear()

    while i < len(lines):
        line = lines[i].rstrip()
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped == "---":
            flush()
            blocks.append(Block("pagebreak"))
        elif stripped.startswith("#"):
            flush()
            level = len(stripped) - len(stripped.lstrip("#"))
            blocks.append(Block("heading", stripped[level:].strip(), level=min(level, 3)))
        elif stripped.startswith("|"):
            flush()
            rows: list[list[str]] = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells):
                    rows.append(cells)
                i += 1
            blocks.append(Block("table", rows=rows))
            continue
        elif stripped.startswith(("- ", "* ")):
            flush()
            blocks.append(Block("bullet", stripped[2:].strip()))
        elif _NUMBERED.match(stripped):
            flush()
            blocks.append(Block("number", stripped))
        else:
            # continuation of a bullet written on several lines
            if (
                not para
                and blocks
                and blocks[-1].kind in ("bullet", "number")
                and line.startswith("  ")
            ):
                blocks[-1].text += " " + stripped
            else:
                para.append(stripped)
        i += 1
    flush()
    return Source(path, meta, blocks)


def strip_bold(text: str) -> str:
    return text.replace("**", "")


# --------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------


def build_pdf(src: Source, target: Path) -> None:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    title = pdf_safe(src.title)
    classification = pdf_safe(src.meta.get("classification", "Internal"))
    version = pdf_safe(src.meta.get("version", ""))
    lang = src.meta.get("lang", "en")
    page_word = "Page"
    of_word = "of" if lang != "fr" else "sur"

    class Doc(FPDF):
        def header(self) -> None:
            self.set_font("helvetica", "", 8)
            self.set_text_color(110, 110, 110)
            self.cell(0, 5, pdf_safe(COMPANY), new_x=XPos.LEFT, new_y=YPos.TOP)
            self.cell(0, 5, title[:90], align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_draw_color(200, 200, 200)
            self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
            self.ln(6)
            self.set_text_color(0, 0, 0)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("helvetica", "", 8)
            self.set_text_color(110, 110, 110)
            left = classification + (f"  -  v{version}" if version else "")
            self.cell(0, 8, left, new_x=XPos.LEFT, new_y=YPos.TOP)
            self.cell(0, 8, f"{page_word} {self.page_no()} {of_word} {{nb}}", align="R")
            self.set_text_color(0, 0, 0)

    pdf = Doc(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=22)
    pdf.set_creation_date(src.date)
    pdf.set_title(title)
    pdf.set_author(pdf_safe(src.meta.get("author", COMPANY)))
    pdf.set_subject(pdf_safe(src.meta.get("subject", "")))
    pdf.set_creator("Lumen & Co document builder")
    pdf.set_producer("fpdf2")
    pdf.set_lang(lang)
    pdf.alias_nb_pages()
    pdf.add_page()

    # Title block
    pdf.set_font("helvetica", "B", 18)
    pdf.multi_cell(0, 9, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    sub = pdf_safe(src.meta.get("subtitle", ""))
    if sub:
        pdf.set_font("helvetica", "", 12)
        pdf.multi_cell(0, 7, sub, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)

    body_size = float(src.meta.get("fontsize", "10.5"))
    line_h = body_size * 0.5
    for block in src.blocks:
        if block.kind == "pagebreak":
            pdf.add_page()
        elif block.kind == "heading":
            size = {1: 15, 2: 12.5, 3: 11}[block.level]
            if pdf.get_y() > pdf.h - 50:
                pdf.add_page()
            pdf.ln(3 if block.level > 1 else 4)
            pdf.set_font("helvetica", "B", size)
            pdf.multi_cell(
                0,
                size * 0.55,
                pdf_safe(strip_bold(block.text)),
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            pdf.ln(1.5)
        elif block.kind == "para":
            pdf.set_font("helvetica", "", body_size)
            pdf.multi_cell(
                0, line_h, pdf_safe(strip_bold(block.text)), new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            pdf.ln(2)
        elif block.kind in ("bullet", "number"):
            pdf.set_font("helvetica", "", body_size)
            indent = 6
            pdf.set_x(pdf.l_margin + 2)
            if block.kind == "bullet":
                pdf.cell(indent - 2, line_h, "-")
                text = block.text
            else:
                m = _NUMBERED.match(block.text)
                pdf.cell(indent + 2, line_h, m.group(1) if m else "")
                text = block.text[m.end() :] if m else block.text
            pdf.multi_cell(
                0, line_h, pdf_safe(strip_bold(text)), new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            pdf.ln(0.8)
        elif block.kind == "table":
            pdf.ln(1)
            pdf.set_font("helvetica", "", body_size - 1.5)
            with pdf.table(
                line_height=(body_size - 1.5) * 0.5,
                text_align="LEFT",
                first_row_as_headings=True,
            ) as table:
                for row in block.rows:
                    r = table.row()
                    for cell in row:
                        r.cell(pdf_safe(strip_bold(cell)))
            pdf.ln(3)
    target.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(target))


# --------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _add_runs(paragraph, text: str) -> None:
    pos = 0
    for m in _BOLD.finditer(text):
        if m.start() > pos:
            paragraph.add_run(text[pos : m.start()])
        paragraph.add_run(m.group(1)).bold = True
        pos = m.end()
    if pos < len(text):
        paragraph.add_run(text[pos:])


def build_docx(src: Source, target: Path) -> None:
    from docx import Document
    from docx.enum.section import WD_SECTION  # noqa: F401 - imported for clarity
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)

    props = doc.core_properties
    props.title = src.title
    props.author = src.meta.get("author", COMPANY)
    props.last_modified_by = src.meta.get("author", COMPANY)
    props.subject = src.meta.get("subject", "")
    props.comments = f"Classification: {src.meta.get('classification', 'Internal')}"
    props.language = src.meta.get("lang", "en")
    props.created = src.date.replace(tzinfo=None)
    props.modified = src.date.replace(tzinfo=None)
    props.revision = 1
    props.keywords = src.meta.get("keywords", "")
    if "version" in src.meta:
        props.version = src.meta["version"]

    section = doc.sections[0]
    header_p = section.header.paragraphs[0]
    header_p.text = f"{COMPANY} - {src.title}"
    footer_p = section.footer.paragraphs[0]
    footer_p.text = src.meta.get("classification", "Internal")

    doc.add_heading(src.title, level=0)  # "Title" style
    if src.meta.get("subtitle"):
        doc.add_paragraph(src.meta["subtitle"], style="Subtitle")

    for block in src.blocks:
        if block.kind == "pagebreak":
            doc.add_page_break()
        elif block.kind == "heading":
            doc.add_heading(strip_bold(block.text), level=block.level)
        elif block.kind == "para":
            _add_runs(doc.add_paragraph(), block.text)
        elif block.kind == "bullet":
            _add_runs(doc.add_paragraph(style="List Bullet"), block.text)
        elif block.kind == "number":
            _add_runs(
                doc.add_paragraph(style="List Number"), _NUMBERED.sub("", block.text, count=1)
            )
        elif block.kind == "table":
            ncols = max(len(r) for r in block.rows)
            table = doc.add_table(rows=0, cols=ncols)
            table.style = "Table Grid"
            for r_idx, row in enumerate(block.rows):
                cells = table.add_row().cells
                for c_idx in range(ncols):
                    text = strip_bold(row[c_idx]) if c_idx < len(row) else ""
                    cells[c_idx].text = text
                    if r_idx == 0:
                        for run in cells[c_idx].paragraphs[0].runs:
                            run.bold = True
            doc.add_paragraph()

    buf = io.BytesIO()
    doc.save(buf)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(_normalise_zip(buf.getvalue(), src.date))


def _normalise_zip(data: bytes, when: datetime) -> bytes:
    """Rewrite a ZIP container with fixed timestamps so output is reproducible."""
    stamp = (when.year, when.month, when.day, 9, 0, 0)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for item in zin.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, zin.read(item.filename))
    return out.getvalue()


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

BUILDERS = {"pdf": build_pdf, "docx": build_docx}


def target_for(source: Path) -> Path | None:
    rel = source.relative_to(SOURCES)
    name = rel.name
    if not name.endswith(".md"):
        return None
    stem = name[: -len(".md")]
    fmt = stem.rsplit(".", 1)[-1] if "." in stem else ""
    if fmt not in FORMATS:
        return None
    return DOCS / rel.parent / stem


def is_up_to_date(source: Path, target: Path) -> bool:
    if not target.exists():
        return False
    newest_input = max(source.stat().st_mtime, Path(__file__).stat().st_mtime)
    return target.stat().st_mtime >= newest_input


def build_all(force: bool = False, quiet: bool = False) -> list[Path]:
    built: list[Path] = []
    for source in sorted(SOURCES.rglob("*.md")):
        target = target_for(source)
        if target is None:
            continue
        rel = target.relative_to(DOCS)
        if not force and is_up_to_date(source, target):
            if not quiet:
                print(f"up to date  {rel}")
            continue
        fmt = target.suffix.lstrip(".")
        BUILDERS[fmt](parse_source(source), target)
        built.append(target)
        if not quiet:
            print(f"built       {rel}")
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    if not SOURCES.is_dir():
        print(f"no sources directory: {SOURCES}", file=sys.stderr)
        return 1
    built = build_all(force=args.force, quiet=args.quiet)
    if not args.quiet:
        print(f"{len(built)} document(s) built")
    return 0


if __name__ == "__main__":
    sys.exit(main())
