"""HTML: the main text only (no navigation, scripts or forms), one section per h1 to h4."""

from __future__ import annotations

from pathlib import Path

from agents.docs.loaders.document import LoadedDocument, Section, read_text, title_from_name


def load_html(path: Path) -> LoadedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(read_text(path), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "noscript", "form"]):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    title_tag = soup.find("title")
    h1 = root.find("h1")
    title = (
        (h1.get_text(" ", strip=True) if h1 else None)
        or (title_tag.get_text(" ", strip=True) if title_tag else None)
        or title_from_name(path)
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
