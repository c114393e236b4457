"""What a viewer may see of the answers others were given: the documents' rule, applied to rows.

One rule, the same as retrieval and the Documents list: a viewer may read a document when its
groups meet the viewer's (`agents.app.documents.readable_paths`, row level security as
`sourced_docs_reader`). A logged answer cited its documents by path (query_log.sources).

For a row whose answer cited a document the viewer may not read (or a source with no path, or
one no longer indexed, which cannot be checked), the row shows what it would show had that
document not existed:
- its sources list only the documents the viewer may read (so it may be empty);
- everything written from or about that answer is withheld, shown empty with no marker: the
  answer text, the feedback comments, and in the review queue who raised it and their comment.
The row itself stays, with its question, route, SQL and counts: the figures of the page are the
same for every viewer, and a question is what its asker typed, not document text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from agents.app.monitoring.figures import RatedAnswer


def hides_a_document(paths: Iterable[str], readable: frozenset[str]) -> bool:
    """Whether any cited document (by path; "" for a source without one) is not readable."""
    return any(p not in readable for p in paths)


def visible_to(answers: Sequence[RatedAnswer], readable: frozenset[str]) -> list[RatedAnswer]:
    """The worst-rated answers as a viewer reading `readable` (paths) may see them."""
    shown: list[RatedAnswer] = []
    for answer in answers:
        if not hides_a_document(answer.documents, readable):
            shown.append(answer)
            continue
        kept = tuple(label for label, path in zip(answer.sources, answer.documents, strict=True)
                     if path in readable)
        shown.append(replace(answer, sources=kept,
                             documents=tuple(p for p in answer.documents if p in readable),
                             answer_text=None, comments=()))
    return shown
