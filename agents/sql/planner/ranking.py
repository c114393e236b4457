"""Rankings: top or bottom N, from superlatives and counts in the question."""

from __future__ import annotations

import re
from collections.abc import Sequence

from agents.sql.planner.counts import NUMBER, count_of
from agents.sql.planner.values import Ranking

# Words that, just before a dimension, make it the thing ranked ("top products", "quels pays").
RANK_CUES = (
    r"(?:top|bottom|best|worst|highest|lowest|largest|smallest|biggest|meilleurs?|meilleures?|"
    r"pires?|premiers?|premieres?|derniers?|plus|moins|which|quel|quels|quelle|quelles)"
)
DESC_CUES = re.compile(
    r"\b(?:top|best|highest|most|largest|biggest|greatest|leading|strongest|meilleurs?|"
    r"meilleures?|premiers?|premieres?|(?:le|la|les) plus|plus (?:gros|grosse|grands?|grandes?|"
    r"forts?|fortes?|eleves?|elevees?|importants?|importantes?)|classement|ranking|rank)\b"
)
ASC_CUES = re.compile(
    r"\b(?:bottom|worst|lowest|least|smallest|fewest|weakest|pires?|moins bons?|moins bonnes?|"
    r"derniers?|dernieres?|(?:le|la|les) moins|plus (?:faibles?|petits?|petites?|bas|basse))\b"
)
# "most recent" orders time, it does not rank anything.
NOT_A_RANKING = re.compile(r"\b(?:most recent|latest|le plus recent|la plus recente)\b")
EXPLICIT_COUNT = re.compile(
    rf"\b(?:top|bottom|best|worst|premiers|premieres|meilleurs|meilleures|pires|derniers|"
    rf"dernieres)\s+{NUMBER}\b"
)
COUNT_WORD = re.compile(rf"\b{NUMBER}\b")
# At most this many words between a number and the dimension it counts ("5 best-selling
# products").
MAX_WORDS_TO_DIMENSION = 3
MAX_LIMIT = 100


def _count_before_dimension(text: str, dimension_starts: Sequence[int]) -> int:
    for m in COUNT_WORD.finditer(text):
        if any(0 <= len(text[m.end():s].split()) <= MAX_WORDS_TO_DIMENSION and s >= m.end()
               for s in dimension_starts):
            return count_of(m.group(1))
    return 0


def parse_ranking(text: str, dimension_starts: Sequence[int] = (),
                  plural: bool = False) -> Ranking | None:
    """Top / bottom N in a normalized text whose time expressions are already blanked out.

    The count is a number after a ranking word ("top 5", "meilleurs 3") or a number shortly
    before a dimension ("five best-selling products", "les 3 produits"); without one, a
    superlative asks for the first (or, for a plural dimension, the first five).
    """
    if NOT_A_RANKING.search(text):
        text = NOT_A_RANKING.sub(" ", text)
    ascending = bool(ASC_CUES.search(text))
    descending = bool(DESC_CUES.search(text))
    if not (ascending or descending):
        return None
    explicit = EXPLICIT_COUNT.search(text)
    count = (count_of(explicit.group(1)) if explicit
             else _count_before_dimension(text, dimension_starts))
    if not 0 < count <= MAX_LIMIT:
        count = 5 if plural else 1
    return Ranking(count, descending=not ascending)
