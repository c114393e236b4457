"""HTML: the main text only (no navigation, scripts or forms), one section per h1 to h4; a
table's rows become Markdown table rows (the header first), so an extract reads a row with its
header and the app can show the table as one."""

from __future__ import annotations

from pathlib import Path

from agents.docs.dates import header_date, metadata_date
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
    for element in root.find_all(["h1", "h2", "h3", "h4", "p", "li", "tr", "pre", "blockquote"]):
        if element.name != "tr" and element.find_parent("tr") is not None:
            continue  # read with its row
        if element.name == "tr":
            cells = [c.get_text(" ", strip=True).replace("|", "/")
                     for c in element.find_all(["th", "td"])]
            if not any(cells):
                continue
            if element.find_previous_sibling("tr") is None:  # the header row
                buffer += ["| " + " | ".join(cells) + " |", "|" + " --- |" * len(cells)]
            else:
                buffer.append("| " + " | ".join(cells) + " |")
            continue
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
    meta = {str(m.get("name") or m.get("property") or "").split(":")[-1].lower():
            str(m.get("content") or "") for m in soup.find_all("meta")}
    day = metadata_date(meta) or header_date("\n".join(s.text for s in sections[:2]))
    return LoadedDocument(title, sections, day)
