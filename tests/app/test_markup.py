"""Document-derived text on a page: plain_text shows it as written, safe_markdown keeps an
answer's emphasis and citations but never an image, a clickable link or HTML."""

from __future__ import annotations

import re

import pytest

from agents.app.markup import domain_of, plain_text, safe_markdown

HOSTILE = [
    "![x](http://127.0.0.1:8999/pixel.png?from=emma_upload)",
    "[click](/phish)",
    "[a [nested] link](http://evil.example/a)",
    "[[[deep]]](http://evil.example/deep)",
    "[x][1]\n\n[1]: http://evil.example/ref",
    "[1]\n\n[1]: http://evil.example/citation",
    "![logo][img]\n\n[img]: http://evil.example/logo.png",
    "<http://evil.example/auto>",
    "<img src=http://evil.example/i.png onerror=alert(1)>",
    "<IMG SRC='http://evil.example/i.png'",
    "<script>alert(1)</script><a href='http://evil.example'>x</a>",
    "[data](data:text/html;base64,PHNjcmlwdD4=)",
    "![d](data:image/png;base64,iVBORw0KGgo=)",
    "[js](javascript:alert(document.cookie))",
    "see www.evil.example/path and https://evil.example/x?y=1",
    "write to mallory@evil.example",
    "[x]( http://evil.example/spaced 'title' )",
    "[x](<http://evil.example/angle>)",
    ":red[coloured] :material/home:",
]


def unescaped(text: str, chars: str) -> list[str]:
    """The characters of `chars` in `text` that Markdown would read as syntax."""
    found, escaped = [], False
    for ch in text:
        if not escaped and ch in chars:
            found.append(ch)
        escaped = ch == "\\" and not escaped
    return found


@pytest.mark.parametrize("text", HOSTILE)
def test_safe_markdown_leaves_no_link_image_or_tag(text: str) -> None:
    shown = safe_markdown(text)
    # Citations stay as written; no bracket else is left, so none can start a link or image.
    assert not unescaped(re.sub(r"(?<!\\)\[\d{1,3}\](?![:(\[])", "", shown), "[]<"), shown
    assert not re.search(r"^\s*\[[^\]]*\]:", shown, re.MULTILINE), shown  # no definition
    assert "://" not in shown and not re.search(r"(?<!\\)www\.", shown), shown
    assert "pixel.png" not in shown and "logo.png" not in shown and "i.png" not in shown
    assert not re.search(r"(?<!\\)@", shown), shown


@pytest.mark.parametrize("text", HOSTILE)
def test_plain_text_escapes_every_special_character(text: str) -> None:
    shown = plain_text(text)
    assert not unescaped(shown, "[]()!*_`#<>:.@|~"), shown
    # Read back (escapes and entities undone), it is the text as written.
    back = re.sub(r"\\(.)", r"\1", shown)
    back = back.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert back == text


def test_links_show_their_text_and_domain() -> None:
    assert safe_markdown("See [the report](https://intranet.example/r.pdf) now.") == (
        r"See the report (intranet\.example) now.")
    assert safe_markdown("[click](/phish)") == "click"
    assert safe_markdown("[js](javascript:alert(1))") == "js"
    assert safe_markdown("[x][1]\n\n[1]: http://evil.example/ref").strip() == (
        r"x (evil\.example)")
    assert safe_markdown("<http://evil.example/auto>") == r"evil\.example"
    assert safe_markdown("[a [nested] link](http://evil.example/a)") == (
        r"a \[nested\] link (evil\.example)")


def test_images_are_dropped() -> None:
    assert safe_markdown("before ![x](http://h.example/p.png) after") == "before  after"
    assert safe_markdown('a <img src="http://h.example/p.png"> b') == "a  b"
    assert safe_markdown("![logo][img]\n\n[img]: http://h.example/l.png").strip() == ""


def test_emphasis_lists_code_and_citations_stay() -> None:
    answer = ("**Remote work**: up to *two* days a week [1].\n\n- one `code` item [2]\n"
              "- another_one")
    shown = safe_markdown(answer)
    assert "**Remote work**" in shown and "*two*" in shown and "`code`" in shown
    assert "[1]" in shown and "[2]" in shown
    assert "\n- one" in shown and "another_one" in shown


def test_plain_text_of_ordinary_text_reads_the_same() -> None:
    assert plain_text("Travel policy") == "Travel policy"
    assert plain_text("Meals & drinks: <50 EUR>") == r"Meals &amp; drinks\: &lt;50 EUR&gt;"
    assert plain_text(None) == ""


def test_domain_of() -> None:
    assert domain_of("https://Intranet.Example:8443/x") == "intranet.example"
    assert domain_of("www.evil.example/x") == "www.evil.example"
    assert domain_of("/phish") is None
    assert domain_of("javascript:alert(1)") is None
    assert domain_of("data:text/html,hi") is None
    assert domain_of("http://[::1") is None


def test_a_planted_definition_does_not_turn_a_citation_into_a_link() -> None:
    assert safe_markdown("Two days [1].\n\n[1]: http://evil.example/c").strip() == (
        "Two days [1].")
