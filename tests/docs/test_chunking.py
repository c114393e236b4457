"""Chunk hygiene: front matter, template lines and near-empty sections do not become chunks;
a timestamped transcript becomes paragraphs cited by their time."""

from __future__ import annotations

from pathlib import Path

from agents.docs.chunking import MIN_SECTION_CHARS, split_document
from agents.docs.loaders import load_document

FAQ = """---
title: People ops FAQ
updated: 2024-03-15
---
# People ops FAQ

::: tip
{% slack_channel "#people-ops" %}
:::
- {% slack_channel "#people-ops" %}
<!-- hidden note -->

## Who do I ask?
Ask people-ops.

## How many days of leave?
""" + "Everyone takes at least thirty days of paid time off in a calendar year. " * 5 + "\n"

TALK = "\n".join(f"{m:02d}:{s:02d} phrase numéro {m * 60 + s} de la conférence sur le RAG"
                 for m in range(27, 31) for s in range(0, 60, 4))


def test_front_matter_and_template_lines_are_not_indexed(tmp_path: Path) -> None:
    path = tmp_path / "faq.md"
    path.write_text(FAQ, encoding="utf-8")
    document = load_document(path)
    assert document.title == "People ops FAQ" and str(document.date) == "2024-03-15"
    chunks = split_document(document)
    text = "\n".join(c.content for c in chunks)
    assert "{%" not in text and "title:" not in text and ":::" not in text
    assert "hidden note" not in text and "slack_channel" not in text
    # The one-line answer is merged into the next section, its heading kept as a line.
    assert all(len(c.content) >= MIN_SECTION_CHARS for c in chunks)
    assert any("Who do I ask?\nAsk people-ops." in c.content for c in chunks)


def test_a_timestamped_transcript_is_joined_into_cited_paragraphs(tmp_path: Path) -> None:
    path = tmp_path / "talk.txt"
    path.write_text(TALK, encoding="utf-8")
    chunks = split_document(load_document(path))
    assert 1 < len(chunks) < 15
    assert chunks[0].section is not None and chunks[0].section.startswith("27:00–")
    assert "27:04" not in chunks[0].content and "phrase numéro 1624" in chunks[0].content


def test_subtitles_are_read_as_a_transcript(tmp_path: Path) -> None:
    path = tmp_path / "talk.srt"
    path.write_text("1\n00:28:07,000 --> 00:28:10,500\nnous, chez Blend, on a créé un rag\n\n"
                    "2\n00:28:10,500 --> 00:28:14,000\nqui est mis à jour chaque nuit.\n",
                    encoding="utf-8")
    [chunk] = split_document(load_document(path))
    assert chunk.section == "28:07–28:10"
    assert chunk.content == "nous, chez Blend, on a créé un rag qui est mis à jour chaque nuit."
