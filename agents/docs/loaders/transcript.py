"""Transcripts: one utterance a line ('28:07 nous, chez Blend, on a créé un rag'), or subtitles
(.srt, .vtt), joined into paragraphs whose section is the time they start at.

Cut line by line, a talk gave broken sentences ('40:18 vous savez pas.') as answers. Joined
into paragraphs of about PARAGRAPH_CHARS, each cites the time range it covers ('28:07–29:40'),
the transcript's "page".
"""

from __future__ import annotations

import re
from pathlib import Path

from agents.docs.loaders.document import LoadedDocument, Section, read_text, title_from_name

PARAGRAPH_CHARS = 900
# A transcript when at least this share of its non-empty lines open with a time (and 5 do).
TIMESTAMPED_SHARE = 0.6
_STAMP = r"\[?(\d{1,2}:\d{2}(?::\d{2})?)(?:[.,]\d+)?\]?"
_LINE = re.compile(rf"^\s*{_STAMP}\s*[-–:]?\s+(.*\S)\s*$")
_CUE = re.compile(rf"^\s*{_STAMP}\s*-->\s*{_STAMP}")


def is_transcript(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    stamped = sum(1 for line in lines if _LINE.match(line) or _CUE.match(line))
    return stamped >= 5 and stamped >= TIMESTAMPED_SHARE * len(lines)


def _short(stamp: str) -> str:
    """'00:28:07' -> '28:07'; hours are kept when there are some."""
    parts = stamp.split(":")
    if len(parts) == 3 and parts[0].strip("0") == "":
        parts = parts[1:]
    return ":".join(parts)


def utterances(text: str) -> list[tuple[str, str]]:
    """(start time, words) of each utterance, from timestamped lines or subtitle cues."""
    found: list[tuple[str, str]] = []
    cue: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if (match := _CUE.match(stripped)) is not None:
            cue = _short(match.group(1))
            continue
        if cue is not None:
            if not stripped:
                cue = None
            elif not stripped.isdigit():
                found.append((cue, re.sub(r"<[^>]+>", "", stripped)))
            continue
        if (match := _LINE.match(stripped)) is not None:
            found.append((_short(match.group(1)), match.group(2)))
        elif found and stripped and not stripped.isdigit() and stripped != "WEBVTT":
            start, words = found[-1]
            found[-1] = (start, f"{words} {stripped}")
    return found


def transcript_sections(text: str) -> list[Section]:
    """Paragraphs of consecutive utterances, each with the time range it covers."""
    sections: list[Section] = []
    words: list[str] = []
    start = end = ""
    for stamp, said in utterances(text):
        if words and sum(len(w) + 1 for w in words) + len(said) > PARAGRAPH_CHARS:
            sections.append(Section(" ".join(words), f"{start}–{end}" if end != start else start))
            words = []
        if not words:
            start = stamp
        words.append(said)
        end = stamp
    if words:
        sections.append(Section(" ".join(words), f"{start}–{end}" if end != start else start))
    return sections


def load_transcript(path: Path) -> LoadedDocument:
    """A .srt or .vtt file; its title is its file name."""
    return LoadedDocument(title_from_name(path), transcript_sections(read_text(path)))
