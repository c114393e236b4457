"""Document-derived text on a page: shown as text, never as markup a document can plant.

Streamlit renders Markdown (GitHub flavour: bare URLs and `www.` become links) in st.markdown,
st.caption, st.success, expander labels and the like. A passage, a title or a section comes from
a file someone uploaded, so it must not make the reader's browser fetch an image
(`![x](http://host/pixel.png)`), show a clickable link (`[click](/phish)`) or inject HTML.

- `plain_text(text)`: every Markdown and HTML special character escaped, so the text reads
  exactly as written. For passages, titles, sections, file names, comments.
- `safe_markdown(text)`: for model answers and extracts: emphasis, lists, code and the `[n]`
  citations stay; every image (`![..](..)`, `![..][ref]`, `<img>`) is dropped; a link shows as
  its text followed by its domain in plain text ("report (example.com)"), a link with no
  domain (relative, `javascript:`, `data:`) as its text alone; raw HTML is shown as text.

Both finish by escaping every remaining `[`, `]` and `<` (citations `[n]` aside) and breaking
bare URLs, so whatever the rewriting missed (deep nesting, odd spacing) can no longer form a
link, an image or a tag.
"""

from __future__ import annotations

import re
import string
from urllib.parse import urlsplit

# Backslash-escaped by plain_text: ASCII punctuation but &, < and >, which become entities.
_ESCAPED = frozenset(string.punctuation) - set("&<>")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}

# Link text: no brackets, or brackets nested one level ("[a [b] c]").
_TEXT = r"\[((?:[^\[\]\\]|\\.|\[(?:[^\[\]\\]|\\.)*\])*)\]"
# An inline destination with an optional title: (url), (<url>), (url "t"), nested parentheses.
_DEST = r"\(\s*(<[^>\n]*>|(?:[^()\s]|\([^()\s]*\))*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
_DEFINITION = re.compile(r"^ {0,3}\[([^\]\n]+)\]:[ \t]*\n?[ \t]*<?([^\s>]*)>?.*$", re.MULTILINE)
_IMAGE_INLINE = re.compile(r"!" + _TEXT + _DEST)
_IMAGE_REFERENCE = re.compile(r"!" + _TEXT + r"(?:\[([^\[\]]*)\])?")
_HTML_IMAGE = re.compile(r"<\s*img\b[^>]*>?", re.IGNORECASE)
_LINK_INLINE = re.compile(_TEXT + _DEST)
_LINK_REFERENCE = re.compile(_TEXT + r"\[([^\[\]]*)\]")
_LINK_SHORTCUT = re.compile(_TEXT)
_AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.\-]{1,31}:[^<>\s]*|[^<>\s@]+@[^<>\s@]+)>")
_BARE_URL = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.\-]*://|www\.)[^\s<>\[\]()\"']*")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
# A citation: a number in brackets, not opening a reference definition (`[1]: url`).
_CITATION = re.compile(r"(?<!\\)\[(\d{1,3})\](?![:(\[])")


def plain_text(text: str | None) -> str:
    """`text` escaped for Markdown and HTML: it is shown exactly as written, never rendered."""
    out: list[str] = []
    for ch in text or "":
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in _ESCAPED:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def domain_of(url: str) -> str | None:
    """The host a URL points to, or None (relative, javascript:, data:, malformed)."""
    url = url.strip().strip("<>")
    if url.lower().startswith("www."):
        url = "http://" + url
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host or None


def _labelled(text: str, url: str | None) -> str:
    domain = domain_of(url) if url else None
    text = text.strip()
    if domain is None:
        return text
    # The domain is escaped: `www.x.example` must not become a link of its own.
    return f"{text} ({plain_text(domain)})" if text else plain_text(domain)


def safe_markdown(text: str | None) -> str:
    """`text` as Markdown without images, clickable links or HTML (see the module doc)."""
    text = text or ""
    references: dict[str, str] = {}

    def definition(match: re.Match[str]) -> str:
        references.setdefault(_label(match.group(1)), match.group(2))
        return ""

    text = _DEFINITION.sub(definition, text)
    text = _IMAGE_INLINE.sub("", text)
    text = _IMAGE_REFERENCE.sub(
        lambda m: "" if _label(m.group(2) or m.group(1)) in references or m.group(2) is not None
        else m.group(0), text)
    text = _HTML_IMAGE.sub("", text)
    text = _LINK_INLINE.sub(lambda m: _labelled(m.group(1), m.group(2)), text)

    def reference(match: re.Match[str]) -> str:
        label = _label(match.group(2) or match.group(1))
        if label in references:
            return _labelled(match.group(1), references[label])
        return match.group(0)

    text = _LINK_REFERENCE.sub(reference, text)
    # `[1]` stays a citation whatever a planted `[1]: http://…` line said.
    text = _LINK_SHORTCUT.sub(
        lambda m: _labelled(m.group(1), references[_label(m.group(1))])
        if _label(m.group(1)) in references and not m.group(1).strip().isdigit()
        else m.group(0), text)
    text = _AUTOLINK.sub(lambda m: _labelled("", m.group(1)) if ":" in m.group(1)
                         else m.group(1), text)
    return _neutralised(text)


def _label(label: str) -> str:
    return " ".join(label.split()).lower()


def _neutralised(text: str) -> str:
    """The last line of defence: nothing left can form a link, an image or a tag.

    Citations (`[1]`) stay as they are: every bracket else is escaped, a `[1]: url` line
    included, so no reference definition is left for a citation to turn into a link.
    """
    text = _BARE_URL.sub(lambda m: plain_text(domain_of(m.group(0)) or ""), text)
    text = _EMAIL.sub(lambda m: plain_text(m.group(0)), text)
    pieces = _CITATION.split(text)
    # split keeps the captured numbers at the odd positions.
    return "".join(f"[{piece}]" if i % 2 else _escaped_brackets(piece)
                   for i, piece in enumerate(pieces))


def _escaped_brackets(text: str) -> str:
    out: list[str] = []
    previous = ""
    for ch in text:
        if ch in "[]" and previous != "\\":
            out.append("\\" + ch)
        elif ch == "<":
            out.append("&lt;")
        else:
            out.append(ch)
        previous = ch if previous != "\\" else ""
    return "".join(out)
