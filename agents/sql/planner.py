"""The offline planner: a question in English or French -> a Plan over the semantic model -> SQL.

No language model is involved. The planner recognises metrics, dimensions, filter values, time
periods (years, quarters, months, ranges, relative periods anchored on the last date in the data),
rankings, comparisons and shares, and builds the SQL with sqlglot expressions: the question's
text never reaches the SQL except as literal values it matched against known ones.

When it cannot map a question with confidence it says so (Plan.confident is False) and the
pipeline offers close questions instead of running a half-understood guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import sqlglot
from sqlglot import exp

from agents.language import detect_language, normalize
from agents.sql.semantic_model import Dimension, Metric, SemanticModel

MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "janvier": 1,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "douze": 12,
}
RANK_CUES = (
    r"(?:top|bottom|best|worst|highest|lowest|largest|smallest|biggest|meilleurs?|meilleures?|"
    r"pires?|premiers?|premieres?|derniers?|plus|moins|which|quel|quels|quelle|quelles)"
)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive
    label: str


@dataclass(frozen=True)
class Ranking:
    limit: int
    descending: bool


@dataclass(frozen=True)
class Plan:
    """What the planner understood, and the SQL it built from it."""

    question: str
    lang: str
    metrics: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    period: Period | None = None
    comparison: tuple[Period, Period] | None = None
    ranking: Ranking | None = None
    share: bool = False
    assumptions: tuple[str, ...] = ()
    confident: bool = False
    problem: str | None = None
    sql: str | None = None
    explanation: str = ""
    column_labels: dict[str, str] = field(default_factory=dict)
    column_formats: dict[str, str] = field(default_factory=dict)
    time_columns: tuple[str, ...] = ()


@dataclass
class _Match:
    start: int
    end: int
    kind: str  # metric | dimension | value
    key: str
    value: str | None = None
    phrase: str = ""
    # Other readings of the same words ("France" is a region and a country): (key, value).
    alternatives: tuple[tuple[str, str], ...] = ()


# Everyday words that are also names in the model: they count only when written as names
# ("US" the country, not "us"; "CA" the revenue, not "ça"; "Forecast" the product, not a
# forecast). Product names without their "Lumen" prefix are added when they are one word.
SPELLED_AS_NAMES: dict[str, str] = {"us": "US", "ca": "CA"}


@dataclass(frozen=True)
class Vocabulary:
    """Every phrase the planner knows, normalized, as one compiled alternation."""

    # phrase -> its readings (kind, key, value), most specific first
    entries: dict[str, tuple[tuple[str, str, str | None], ...]]
    # Longest phrases first, so that at any position the longest known phrase wins.
    pattern: re.Pattern[str]
    # phrase -> how the original question must spell it (see SPELLED_AS_NAMES)
    spelled: dict[str, re.Pattern[str]]

    @property
    def phrases(self) -> tuple[tuple[str, str, str, str | None], ...]:
        return tuple((p, k, key, v) for p, readings in self.entries.items()
                     for k, key, v in readings)


def _flat(text: str) -> str:
    # "royaume-uni", "mid-market", "best-selling" match whether written with a hyphen or not;
    # same length, so spans found in the flat text are spans of the normalized one.
    return text.replace("-", " ")


def build_vocabulary(model: SemanticModel) -> Vocabulary:
    entries: list[tuple[str, str, str, str | None]] = []
    spelled: dict[str, str] = dict(SPELLED_AS_NAMES)
    for metric in model.metrics.values():
        for phrase in [*metric.names.values(), *(s for v in metric.synonyms.values() for s in v)]:
            entries.append((normalize(phrase), "metric", metric.key, None))
    for dim in model.dimensions.values():
        for phrase in [*dim.names.values(), *(s for v in dim.synonyms.values() for s in v)]:
            entries.append((normalize(phrase), "dimension", dim.key, None))
        for value in dim.values:
            entries.append((normalize(value), "value", dim.key, value))
            if dim.key == "product" and value.lower().startswith("lumen "):
                short = value[6:]
                entries.append((normalize(short), "value", dim.key, value))
                if " " not in short.strip():
                    spelled[normalize(short)] = short
        for value, synonyms in dim.value_synonyms.items():
            for phrase in synonyms:
                entries.append((normalize(phrase), "value", dim.key, value))
    dim_order = {key: i for i, key in enumerate(model.dimensions)}
    readings: dict[str, list[tuple[str, str, str | None]]] = {}
    for phrase, kind, key, reading in sorted({(_flat(p), k, key, v) for p, k, key, v in entries
                                              if p.strip()}):
        readings.setdefault(phrase, []).append((kind, key, reading))
    # Metrics before dimensions before values; among values, the model's dimension order (a
    # region before a country of the same name): deterministic whatever the hash seed.
    kind_rank = {"metric": 0, "dimension": 1, "value": 2}
    ordered = {
        phrase: tuple(sorted(found, key=lambda r: (kind_rank[r[0]], dim_order.get(r[1], -1),
                                                   r[1], r[2] or "")))
        for phrase, found in readings.items()
    }
    alternation = "|".join(re.escape(p) for p in sorted(ordered, key=lambda p: (-len(p), p)))
    return Vocabulary(
        entries=ordered,
        pattern=re.compile(rf"(?<![a-z0-9])(?:{alternation})(?![a-z0-9])"),
        spelled={_flat(normalize(k)): re.compile(rf"(?<![A-Za-z]){re.escape(v)}(?![A-Za-z])")
                 for k, v in spelled.items()},
    )


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the given spans blanked out, positions unchanged."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _find_phrases(text: str, question: str, vocabulary: Vocabulary,
                  taken: list[tuple[int, int]]) -> list[_Match]:
    """Known phrases of the normalized text outside `taken` spans, leftmost-longest."""
    matches: list[_Match] = []
    for m in vocabulary.pattern.finditer(_flat(_mask(text, taken))):
        phrase = m.group(0)
        spelling = vocabulary.spelled.get(phrase)
        if spelling is not None and not spelling.search(question):
            continue
        readings = vocabulary.entries[phrase]
        kind, key, value = readings[0]
        alternatives = tuple((k2, v2) for kind2, k2, v2 in readings[1:]
                             if kind2 == "value" and kind == "value" and v2 is not None)
        matches.append(_Match(m.start(), m.end(), kind, key, value, phrase, alternatives))
        taken.append((m.start(), m.end()))
    return matches


def _quarter_period(year: int, q: int) -> Period:
    start = date(year, 3 * q - 2, 1)
    end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return Period(start, end, f"Q{q} {year}")


def _month_period(year: int, month: int) -> Period:
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period(date(year, month, 1), end, f"{year}-{month:02d}")


def _half_period(year: int, half: int) -> Period:
    start = date(year, 1 if half == 1 else 7, 1)
    end = date(year, 7, 1) if half == 1 else date(year + 1, 1, 1)
    return Period(start, end, f"H{half} {year}")


def _year_earlier(period: Period) -> Period:
    start, end = _shift_months(period.start, -12), _shift_months(period.end, -12)
    label = (str(int(period.label) - 1) if period.label.isdigit()
             else re.sub(r"(20[0-9]{2})", lambda y: str(int(y.group(1)) - 1), period.label))
    return Period(start, end, label)


def _year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year + 1, 1, 1), str(year))


def _shift_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class _TimeParse:
    periods: list[Period] = field(default_factory=list)
    compare: bool = False
    growth: bool = False
    # "versus the same quarter last year": compare the period with the one a year earlier.
    year_earlier: bool = False
    assumptions: list[str] = field(default_factory=list)


def parse_time(text: str, anchor: date, lang: str, taken: list[tuple[int, int]]) -> _TimeParse:
    """Find the periods a normalized question names; mark their spans as taken."""
    found = _TimeParse()

    def take(m: re.Match[str]) -> bool:
        span = (m.start(), m.end())
        if any(span[0] < e and s < span[1] for s, e in taken):
            return False
        taken.append(span)
        return True

    year_re = r"(20[0-9]{2})"
    month_names = "|".join(sorted(MONTHS, key=len, reverse=True))
    patterns: list[tuple[str, str]] = [
        (
            rf"\b(?:between|entre|from|de|du)\s+{year_re}\s+(?:and|et|to|a|au|until|jusqu a)\s+"
            rf"{year_re}\b",
            "range",
        ),
        (rf"\b{year_re}\s*-\s*{year_re}\b", "range"),
        (rf"\b(?:since|depuis|after|apres|from)\s+{year_re}\b", "since"),
        (rf"\b(?:q|t)([1-4])\s*(?:of\s+|de\s+|du\s+)?{year_re}\b", "quarter"),
        (rf"\b{year_re}\s*(?:q|t)([1-4])\b", "quarter_rev"),
        (
            rf"\b(?:the\s+|le\s+)?([1-4]|first|second|third|fourth|premier|deuxieme|second|troisieme|"
            rf"quatrieme)\s*(?:st|nd|rd|th|e|eme|er)?\s+(?:quarter|trimestre)\s+(?:of\s+|de\s+|du\s+)?"
            rf"{year_re}\b",
            "quarter_words",
        ),
        (
            r"\b(?:(?:versus|vs|against|compared (?:to|with)|par rapport (?:a|au)|compare a)\s+)?"
            r"(?:the\s+)?same\s+(?:quarter|month|period|time)\s+(?:of\s+)?(?:the\s+)?"
            r"(?:(?:last|previous|prior)\s+year|(?:a|one)\s+year\s+(?:earlier|before|ago))\b"
            r"|\b(?:a|one)\s+year\s+(?:earlier|before|ago)\b",
            "year_earlier",
        ),
        (
            r"\b(?:(?:par rapport|compare)\s+(?:a|au)\s+)?(?:le\s+|la\s+|au\s+)?meme\s+"
            r"(?:trimestre|mois|periode)\s+(?:de\s+)?(?:l\s+an(?:nee)?\s+(?:dernier|derniere|"
            r"passe|passee|precedente)|l\s+annee\s+precedente|un\s+an\s+(?:plus\s+tot|"
            r"auparavant|avant))\b|\bun\s+an\s+(?:plus\s+tot|auparavant|avant)\b",
            "year_earlier",
        ),
        (
            rf"\b(?:the\s+)?(first|second|1st|2nd)\s+half\s+(?:of\s+)?{year_re}\b",
            "half_words",
        ),
        (
            rf"\b(?:le\s+|au\s+)?(premier|1er|second|deuxieme|2e|2eme|2nd)\s+semestre\s+"
            rf"(?:de\s+|du\s+)?{year_re}\b",
            "half_words",
        ),
        (rf"\b(?:h|s)([12])\s*(?:of\s+|de\s+)?{year_re}\b", "half"),
        (rf"\b{year_re}\s*(?:h|s)([12])\b", "half_rev"),
        (rf"\b({month_names})\s+(?:of\s+|de\s+)?{year_re}\b", "month"),
        (
            r"\b(?:last|past|previous|the last|over the last|les|des|sur les)\s+([0-9]+|[a-z]+)\s+"
            r"(?:derniers\s+)?(months|mois)(?:\s+derniers)?\b",
            "last_n_months",
        ),
        (
            r"\b(?:last|past|previous|the last|les|sur les)\s+([0-9]+|[a-z]+)\s+(?:derniers\s+)?"
            r"(quarters|trimestres)(?:\s+derniers)?\b",
            "last_n_quarters",
        ),
        (
            r"\b(?:last|past|previous|the last|les|sur les)\s+([0-9]+|[a-z]+)\s+(?:dernieres\s+)?"
            r"(years|annees|ans)(?:\s+dernieres|\s+derniers)?\b",
            "last_n_years",
        ),
        (
            r"\b(?:last year|previous year|l an dernier|l annee derniere|annee derniere|"
            r"an dernier|l an passe|l annee passee)\b",
            "last_year",
        ),
        (
            r"\b(?:this year|current year|cette annee|l annee en cours|year to date|ytd|"
            r"depuis le debut de l annee)\b",
            "this_year",
        ),
        (
            r"\b(?:last quarter|previous quarter|le trimestre dernier|trimestre dernier|"
            r"dernier trimestre|trimestre precedent)\b",
            "last_quarter",
        ),
        (r"\b(?:this quarter|current quarter|ce trimestre|trimestre en cours)\b", "this_quarter"),
        (
            r"\b(?:last month|previous month|le mois dernier|mois dernier|mois precedent)\b",
            "last_month",
        ),
        (r"\b(?:this month|current month|ce mois ci|ce mois)\b", "this_month"),
        (rf"\b{year_re}\b", "year"),
    ]
    ordinal = {
        "first": 1,
        "premier": 1,
        "second": 2,
        "deuxieme": 2,
        "third": 3,
        "troisieme": 3,
        "fourth": 4,
        "quatrieme": 4,
    }
    hits: list[tuple[int, Period | list[Period]]] = []
    anchor_quarter = (anchor.month - 1) // 3 + 1
    for pattern, kind in patterns:
        for m in re.finditer(pattern, text):
            if not take(m):
                continue
            g = m.groups()
            if kind == "range":
                a, b = sorted((int(g[0]), int(g[1])))
                hits.append((m.start(), Period(date(a, 1, 1), date(b + 1, 1, 1), f"{a}-{b}")))
            elif kind == "since":
                y = int(g[0])
                hits.append(
                    (
                        m.start(),
                        Period(date(y, 1, 1), date(anchor.year + 1, 1, 1), f"{y}-{anchor.year}"),
                    )
                )
            elif kind == "quarter":
                hits.append((m.start(), _quarter_period(int(g[1]), int(g[0]))))
            elif kind == "quarter_rev":
                hits.append((m.start(), _quarter_period(int(g[0]), int(g[1]))))
            elif kind == "quarter_words":
                q = int(g[0]) if g[0].isdigit() else ordinal[g[0]]
                hits.append((m.start(), _quarter_period(int(g[1]), q)))
            elif kind == "month":
                hits.append((m.start(), _month_period(int(g[1]), MONTHS[g[0]])))
            elif kind == "year_earlier":
                found.year_earlier = True
            elif kind in ("half", "half_rev", "half_words"):
                half_word, year = (g[1], g[0]) if kind == "half_rev" else (g[0], g[1])
                half = 1 if half_word in ("1", "first", "1st", "premier", "1er") else 2
                hits.append((m.start(), _half_period(int(year), half)))
            elif kind in ("last_n_months", "last_n_quarters", "last_n_years"):
                n = int(g[0]) if g[0].isdigit() else NUMBER_WORDS.get(g[0], 0)
                if n <= 0:
                    continue
                months = n * {"last_n_months": 1, "last_n_quarters": 3, "last_n_years": 12}[kind]
                end = _shift_months(anchor, 1)
                start = _shift_months(end, -months)
                hits.append((m.start(), Period(start, end, f"{start:%Y-%m} to {anchor:%Y-%m}")))
                found.assumptions.append(
                    _say(
                        lang,
                        f"the last {n} {g[1]} end on {anchor:%Y-%m-%d}, the last date in the data",
                        f"les {n} derniers {g[1]} se terminent le {anchor:%d/%m/%Y}, dernière "
                        "date des données",
                    )
                )
            elif kind == "last_year":
                hits.append((m.start(), _year_period(anchor.year - 1)))
                found.assumptions.append(
                    _say(
                        lang,
                        f"last year = {anchor.year - 1} (the data runs to {anchor:%Y-%m-%d})",
                        f"l'an dernier = {anchor.year - 1} (les données vont jusqu'au "
                        f"{anchor:%d/%m/%Y})",
                    )
                )
            elif kind == "this_year":
                hits.append(
                    (
                        m.start(),
                        Period(
                            date(anchor.year, 1, 1), date(anchor.year + 1, 1, 1), str(anchor.year)
                        ),
                    )
                )
                found.assumptions.append(
                    _say(lang, f"this year = {anchor.year}", f"cette année = {anchor.year}")
                )
            elif kind == "last_quarter":
                y, q = (
                    (anchor.year, anchor_quarter - 1)
                    if anchor_quarter > 1
                    else (anchor.year - 1, 4)
                )
                hits.append((m.start(), _quarter_period(y, q)))
                found.assumptions.append(
                    _say(lang, f"last quarter = Q{q} {y}", f"le trimestre dernier = T{q} {y}")
                )
            elif kind == "this_quarter":
                hits.append((m.start(), _quarter_period(anchor.year, anchor_quarter)))
                found.assumptions.append(
                    _say(
                        lang,
                        f"this quarter = Q{anchor_quarter} {anchor.year}",
                        f"ce trimestre = T{anchor_quarter} {anchor.year}",
                    )
                )
            elif kind == "last_month":
                start = _shift_months(anchor, -1)
                hits.append((m.start(), _month_period(start.year, start.month)))
            elif kind == "this_month":
                hits.append((m.start(), _month_period(anchor.year, anchor.month)))
            elif kind == "year":
                hits.append((m.start(), _year_period(int(g[0]))))
    hits.sort(key=lambda h: h[0])
    found.periods = [p for _, p in hits if isinstance(p, Period)]
    found.compare = (
        bool(
            re.search(
                r"\b(?:vs|versus|compared (?:to|with)|compare|comparison|against|par rapport a|"
                r"compare a|comparer|comparaison|contre)\b|\b(?:more|less|fewer|higher|lower|"
                r"better|worse|plus|moins)\b.*\b(?:than|qu|que)\b",
                text,
            )
        )
        and len(found.periods) >= 2
    )
    found.growth = bool(
        re.search(
            r"\b(?:growth|grow|grew|increase|change|evolution|evolve|evolved|croissance|progression|"
            r"variation|augmentation|hausse|baisse|evolue|yoy|year over year|"
            r"d une annee sur l autre)\b",
            text,
        )
    )
    return found


def _say(lang: str, en: str, fr: str) -> str:
    return fr if lang == "fr" else en


NUMBER = r"([0-9]{1,3}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
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
# A measure compared with a number ("more than 3 items") is a filter the planner cannot write.
THRESHOLD = re.compile(
    rf"\b(?:more than|less than|fewer than|greater than|over|under|above|below|at least|"
    rf"at most|plus de|plus d|moins de|moins d|au moins|au plus|superieure? a|inferieure? a|"
    rf"au dessus de|en dessous de)\s+{NUMBER}\b|[<>]\s*[0-9]"
)


def _count_of(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS.get(word, 0)


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
    count = 0
    explicit = EXPLICIT_COUNT.search(text)
    if explicit:
        count = _count_of(explicit.group(1))
    else:
        for m in COUNT_WORD.finditer(text):
            # At most three words between the number and the dimension it counts.
            if any(0 <= len(text[m.end():s].split()) <= 3 and s >= m.end()
                   for s in dimension_starts):
                count = _count_of(m.group(1))
                break
    if not 0 < count <= 100:
        count = 5 if plural else 1
    return Ranking(count, descending=not ascending)


class PlanningContext:
    """What the planner needs, built once per process: the model and its vocabulary."""

    def __init__(self, model: SemanticModel, anchor: date) -> None:
        self.model = model
        self.anchor = anchor
        self.vocabulary = build_vocabulary(model)


ENTITY_DIMENSIONS = {"product", "sales_rep"}
GROUP_CUES = re.compile(
    rf"(?:\b(?:by|per|par|each|chaque|across|for each|pour chaque|selon|split by|broken down by|"
    rf"breakdown by|repartition par|ventile par|in each|dans chaque|among|parmi|de chaque|"
    rf"{RANK_CUES}|[0-9]+)\s+(?:the\s+|les\s+|la\s+|le\s+|l\s+|our\s+|nos\s+|[0-9]+\s+)?)$"
)
# Nouns naming what a count metric counts. After another metric they usually qualify it
# ("refund rate of online orders", "revenue from SMB customers") rather than ask for a count.
COUNTED_NOUNS = frozenset({
    "customers", "clients", "orders", "commandes", "tickets", "deals", "cases", "incidents",
    "demandes", "requests", "accounts", "comptes",
})
COUNT_LEAD = re.compile(
    r"\b(?:how many|number of|nombre de|nombre d|combien de|combien d|count of)\s+"
    r"(?:[a-z0-9-]+\s+){0,2}$"
)
COORDINATED = re.compile(
    r"(?:\band|\bet|,|&|\bas well as|\bainsi que|\bplus)\s+(?:(?:the|our|les|nos|le|la|des|du|"
    r"number of|nombre de|count of)\s+)*$"
)
SELL_VERBS = (r"sell|sells|sold|selling|vendu|vendus|vendue|vendues|vendre|vendons|vend|"
              r"ship|shipped|livre|livres")
# When no metric is named, verbs can still say which one is meant; checked in this order.
IMPLIED_METRICS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:how long|how quickly|how fast|how much time|combien de temps|"
                r"en combien de temps)\b.*\b(?:resolv|solv|clos|fix|resol|clotur|regl|trait)"),
     "average_resolution_hours"),
    (re.compile(rf"\b(?:how many|combien)\b.*\b(?:{SELL_VERBS})\b"), "units_sold"),
    (re.compile(r"\b(?:how many|combien|number of|nombre de)\b.*\b(?:bought|ordered|purchased|"
                r"placed|commande|commandes|achete|achetes|acheter)\b"), "active_customers"),
    (re.compile(rf"\b(?:bring in|brings in|brought in|bringing in|generate|generated|generates|"
                rf"generating|earn|earned|earns|made|make|makes|spend|spends|spent|spending|"
                rf"rapporte|rapportent|rapporter|genere|generent|generer|encaisse|encaisser|"
                rf"facture|factures|facturer|depenser|depensent|(?:a|ont|avons) depense|"
                rf"{SELL_VERBS})\b"), "revenue"),
)
ATTAINMENT_CUES = re.compile(
    r"\b(?:hit|hits|reach|reached|meet|met|beat|beaten|achieve|achieved|attain|attained|"
    r"close to|how close|on track|atteint|atteints|atteinte|atteindre|realise|depasse|rempli|"
    r"respecte)\b"
)
# Aggregations the model has no metric for ("median order value", "average discount").
AGGREGATE_WORDS = re.compile(
    r"\b(?:average|avg|mean|median|moyen|moyenne|moyens|moyennes|median|mediane|percentile|"
    r"maximum|minimum)\b"
)
# An order status left over once the metrics are matched: "orders" would count completed ones.
STATUS_WORDS = re.compile(
    r"\b(?:cancel+ed|cancel+ations?|refunded|refunds?|returned|annulees?|annules?|"
    r"remboursees?|rembourses?)\b"
)
FORECAST_CUES = re.compile(
    r"\b(?:forecast|forecasts|forecasted|predict|predicted|prediction|predictions|projection|"
    r"projections|projected|prevision|previsions|prevoir|prevu|prevue|prevues)\b"
)
FILLER_WORDS = frozenset({"of", "the", "our", "a", "de", "des", "du", "la", "le", "les", "d",
                          "l", "nos", "notre", "un", "une"})


def _is_additive(metric: Metric) -> bool:
    """A plain SUM or COUNT, whose part and whole can be divided into a share."""
    if metric.ratio or not metric.sql:
        return False
    return isinstance(_parse(metric.sql), exp.Sum | exp.Count)


def _metric_sources(model: SemanticModel, keys: Sequence[str]) -> set[str]:
    return {m.source or "" for m in _base_metrics(model, tuple(keys))}


def _words_between(text: str, start: int, end: int) -> int:
    return sum(1 for w in text[start:end].split() if w not in FILLER_WORDS)


def _unknown_aggregate(text: str, matches: list[_Match], taken: list[tuple[int, int]]) -> bool:
    """An average or median of something the model does not define."""
    metric_spans = [(m.start, m.end) for m in matches if m.kind == "metric"]
    for agg in AGGREGATE_WORDS.finditer(_mask(text, taken)):
        near = any(
            (s >= agg.end() and _words_between(text, agg.end(), s) <= 1)
            or (e <= agg.start() and _words_between(text, e, agg.start()) <= 1)
            for s, e in metric_spans
        )
        if not near:
            return True
    return False


def plan_question(question: str, ctx: PlanningContext) -> Plan:
    """Understand a question and build its SQL; Plan.confident says whether to run it."""
    lang = detect_language(question)
    text = normalize(question)
    taken: list[tuple[int, int]] = []
    time = parse_time(text, ctx.anchor, lang, taken)
    time_spans = list(taken)
    matches = _find_phrases(text, question, ctx.vocabulary, taken)
    model = ctx.model

    named: list[str] = []  # metrics the question names outright
    counted: list[str] = []  # metrics named only by the noun they count ("orders")
    dimensions: list[str] = []
    dimension_starts: list[int] = []
    value_matches: list[_Match] = []
    assumptions = list(time.assumptions)
    for i, match in enumerate(matches):
        before = text[: match.start]
        if match.kind == "metric":
            soft = (match.phrase in COUNTED_NOUNS and not COUNT_LEAD.search(before))
            if soft and not COORDINATED.search(before):
                if match.key not in counted:
                    counted.append(match.key)
            elif match.key not in named:
                named.append(match.key)
        elif match.kind == "value" and match.value is not None:
            value_matches.append(match)
        elif match.kind == "dimension":
            following = matches[i + 1] if i + 1 < len(matches) else None
            if (match.key in ENTITY_DIMENSIONS and following is not None
                    and following.kind == "value" and following.key == match.key
                    and _words_between(text, match.end, following.start) <= 1):
                # "revenue of product X", "le commercial Camille Berg": the noun introduces
                # a value, it does not ask for a breakdown.
                continue
            previous = matches[i - 1] if i > 0 else None
            if (match.key in ENTITY_DIMENSIONS and previous is not None
                    and previous.kind == "dimension"
                    and re.fullmatch(r"\s+(?:of|de|des|du|d)\s+(?:the\s+)?",
                                     text[previous.end:match.start])):
                # "gamme de produits", "categories of products": the noun qualifies the
                # dimension before it.
                continue
            if match.key not in dimensions:
                dimensions.append(match.key)
                dimension_starts.append(match.start)

    # A verb alone is weak evidence ("what made the outage happen?"): it names a metric only
    # in a question that also asks for data, through a period, a value, a breakdown or a rank.
    asks_for_data = bool(time.periods or value_matches or dimensions
                         or parse_ranking(_mask(text, time_spans)))
    implied = next((key for pattern, key in IMPLIED_METRICS if pattern.search(text)), None)
    implied = implied if asks_for_data else None
    if named:
        metrics = named
    elif implied is not None:
        metrics = [implied]
        assumptions.append(_say(
            lang, f"read as {model.metrics[implied].name('en').lower()}",
            f"compris comme {model.metrics[implied].name('fr').lower()}"))
    else:
        metrics = counted[:1]

    share = bool(
        re.search(
            r"\b(?:share|part|proportion|percentage|pourcentage|mix|"
            r"repartition|breakdown)\b|%",
            text,
        )
    )
    plural = any(m.kind == "dimension" and m.phrase.endswith("s") and m.phrase != "pays"
                 for m in matches) or bool(re.search(r"\b(?:quels|quelles)\b", text))
    ranking = parse_ranking(_mask(text, time_spans), dimension_starts, plural)

    # "sales" alone is ambiguous between money and units: say which one we took.
    if (
        "revenue" in metrics
        and re.search(r"\b(?:sales|ventes)\b", text)
        and not re.search(r"\b(?:revenue|chiffre d affaires|ca|turnover)\b", text)
    ):
        assumptions.append(
            _say(
                lang,
                "“sales” read as revenue in EUR, not units",
                "« ventes » compris comme chiffre d'affaires en EUR, pas en unités",
            )
        )
    # "Did we hit the target?" asks for attainment, not for the target itself.
    if "revenue_target" in metrics and ATTAINMENT_CUES.search(text):
        metrics = ["attainment" if m == "revenue_target" else m for m in metrics]
    # A metric named twice through a ratio's parts ("revenue vs target" -> attainment).
    if "attainment" in metrics:
        metrics = [m for m in metrics if m not in ("revenue", "revenue_target")] or ["attainment"]
    if (
        "active_customers" in metrics
        and "new_customers" in metrics
        and not re.search(r"\bactive|actifs\b", text)
    ):
        metrics.remove("active_customers")

    if not metrics and ranking and dimensions:
        metrics = ["revenue"]
        assumptions.append(_say(lang, "ranked by revenue", "classement par chiffre d'affaires"))

    # A value that names two things ("France": a region and a country) takes the reading the
    # metrics can be filtered by.
    sources = _metric_sources(model, metrics)
    filters: dict[str, list[str]] = {}
    for match in value_matches:
        readings = [(match.key, match.value or ""), *match.alternatives]
        key, value = next(
            ((k, v) for k, v in readings
             if all(s in model.dimensions[k].columns for s in sources)),
            readings[0],
        )
        values = filters.setdefault(key, [])
        if value not in values:
            values.append(value)

    problem = None
    if not metrics:
        problem = _say(
            lang,
            "I could not find a metric I know in the question.",
            "Je n'ai pas trouvé d'indicateur connu dans la question.",
        )
    elif _unknown_aggregate(text, matches, taken):
        problem = _say(
            lang,
            "It asks for an average or a median of something the semantic model does not "
            "define.",
            "Elle demande une moyenne ou une médiane de quelque chose que le modèle sémantique "
            "ne définit pas.",
        )
    elif FORECAST_CUES.search(_mask(text, taken)):
        problem = _say(
            lang,
            "It asks for a forecast; I only report what the data holds.",
            "Elle demande une prévision ; je ne rapporte que ce que contiennent les données.",
        )
    elif any(model.metrics[m.key].format == "percent" and COUNT_LEAD.search(text[:m.start])
             for m in matches if m.kind == "metric" and m.key in metrics):
        problem = _say(
            lang,
            "It asks for a count of something the model only defines as a rate.",
            "Elle demande un nombre pour une notion que le modèle ne définit que comme un taux.",
        )
    elif STATUS_WORDS.search(_mask(text, taken)) or (len(metrics) > 1 and any(
            m.kind == "metric" and STATUS_WORDS.search(m.phrase)
            and not re.search(r"\b(?:rate|taux|share|part|proportion)\b", m.phrase)
            for m in matches)):
        problem = _say(
            lang,
            "It asks about cancelled or refunded orders, which the model only measures as rates.",
            "Elle porte sur des commandes annulées ou remboursées, que le modèle ne mesure que "
            "sous forme de taux.",
        )
    elif THRESHOLD.search(_mask(text, time_spans)):
        problem = _say(
            lang,
            "It compares a quantity with a number, a filter I cannot build yet.",
            "Elle compare une quantité à un nombre, un filtre que je ne sais pas encore "
            "construire.",
        )

    # Grouping by a time grain removes the matching word from the "period" sense.
    periods = time.periods
    comparison: tuple[Period, Period] | None = None
    period: Period | None = None
    time_dims = [d for d in dimensions if model.dimensions[d].is_time]
    if time.compare and len(periods) >= 2:
        first, second = periods[0], periods[1]
        # Show the later period first: "2019 vs 2018".
        comparison = (first, second) if first.start > second.start else (second, first)
    elif (time.growth or time.year_earlier) and len(periods) == 1 and not time_dims:
        current = periods[0]
        comparison = (current, _year_earlier(current))
        if not current.label.isdigit():
            assumptions.append(
                _say(
                    lang,
                    f"compared with the same period a year earlier ({comparison[1].label})",
                    f"comparé à la même période un an plus tôt ({comparison[1].label})",
                )
            )
    elif time.growth and not periods and not time_dims:
        dimensions.append("year")
        assumptions.append(_say(lang, "evolution shown year by year", "évolution année par année"))
    elif periods:
        if len(periods) > 1:
            start = min(p.start for p in periods)
            end = max(p.end for p in periods)
            period = Period(start, end, f"{start:%Y-%m-%d} to {end:%Y-%m-%d}")
        else:
            period = periods[0]
    elif metrics and not time_dims:
        assumptions.append(
            _say(
                lang,
                "all dates in the data (2017-2025)",
                "toutes les dates des données (2017-2025)",
            )
        )

    for dim in list(dimensions):
        if dim in filters and len(filters[dim]) == 1 and not GROUP_CUES.search(text):
            dimensions.remove(dim)
    # "Who sold the most?": people are ranked, and the people here are the sales reps.
    if ranking and not dimensions and re.match(r"(?:who|qui)\b", text):
        dimensions.append("sales_rep")

    # A share without a breakdown is the share of the filtered part ("of revenue from online")
    # in the whole, which only means something for a sum or a count.
    part_of_total = (share and not dimensions and bool(filters) and len(metrics) == 1
                     and _is_additive(model.metrics[metrics[0]]))

    asked = comparison[0] if comparison else period
    if problem is None and asked is not None and asked.start > ctx.anchor:
        problem = _say(
            lang,
            f"The data ends on {ctx.anchor:%Y-%m-%d}; I do not forecast.",
            f"Les données s'arrêtent au {ctx.anchor:%d/%m/%Y} ; je ne fais pas de prévisions.",
        )

    plan = Plan(
        question=question,
        lang=lang,
        metrics=tuple(metrics),
        dimensions=tuple(dimensions),
        filters=tuple((k, tuple(v)) for k, v in filters.items()),
        period=period,
        comparison=comparison,
        ranking=ranking if dimensions else None,
        share=share and not comparison and (bool(dimensions) or part_of_total),
        assumptions=tuple(assumptions),
        confident=problem is None,
        problem=problem,
    )
    if not plan.confident:
        return plan
    try:
        return build_sql(plan, model)
    except PlanningError as exc:
        return replace(plan, confident=False, problem=exc.message(lang))


class PlanningError(Exception):
    def __init__(self, en: str, fr: str) -> None:
        super().__init__(en)
        self.en, self.fr = en, fr

    def message(self, lang: str) -> str:
        return self.fr if lang == "fr" else self.en


def _time_expr(source_time: exp.Expr, grain: str) -> exp.Expr:
    if grain == "year":
        return exp.cast(exp.Extract(this=exp.var("YEAR"), expression=source_time.copy()), "int")
    fmt = 'YYYY-"Q"Q' if grain == "quarter" else "YYYY-MM"
    return exp.func("to_char", source_time.copy(), exp.Literal.string(fmt))


def _parse(fragment: str) -> exp.Expr:
    return sqlglot.parse_one(fragment, read="postgres")


def _base_metrics(model: SemanticModel, keys: tuple[str, ...]) -> list[Metric]:
    out: list[Metric] = []
    for key in keys:
        metric = model.metrics[key]
        parts = [model.metrics[p] for p in metric.ratio] if metric.ratio else [metric]
        for part in parts:
            if part not in out:
                out.append(part)
    return out


def _source_select(
    plan: Plan,
    model: SemanticModel,
    source_key: str,
    metrics: list[Metric],
    where: str | None,
    period: Period | None,
) -> exp.Select:
    source = model.sources[source_key]
    time_col = _parse(source.time)
    select = exp.select().from_(source.from_, dialect="postgres")
    for join in source.joins:
        join_expr = sqlglot.parse_one(f"SELECT 1 FROM x {join}", read="postgres").args["joins"][0]
        select = select.join(join_expr)
    for dim_key in plan.dimensions:
        dim = model.dimensions[dim_key]
        if dim.is_time:
            expr = _time_expr(time_col, dim.grain or "year")
        elif source_key in dim.columns:
            expr = _parse(dim.columns[source_key])
        else:
            raise PlanningError(
                f"{_metric_names(metrics, 'en')} cannot be broken down by {dim.name('en')}.",
                f"{_metric_names(metrics, 'fr')} ne peut pas être ventilé par {dim.name('fr')}.",
            )
        select = select.select(exp.alias_(expr, dim_key))
    for metric in metrics:
        select = select.select(exp.alias_(_parse(metric.sql or "NULL"), metric.key))
    conditions: list[exp.Expr] = []
    if plan.ranking:
        # Online orders have no sales rep: that empty group is not a contender in a ranking.
        for dim_key in plan.dimensions:
            dim = model.dimensions[dim_key]
            if not dim.is_time and source_key in dim.columns:
                conditions.append(exp.Not(this=exp.Is(this=_parse(dim.columns[source_key]),
                                                      expression=exp.Null())))
    if where:
        conditions.append(_parse(where))
    if period:
        conditions.append(exp.GTE(this=time_col.copy(), expression=_date(period.start)))
        conditions.append(exp.LT(this=time_col.copy(), expression=_date(period.end)))
    for dim_key, values in plan.filters:
        dim = model.dimensions[dim_key]
        if source_key not in dim.columns:
            raise PlanningError(
                f"{_metric_names(metrics, 'en')} cannot be filtered by {dim.name('en')}.",
                f"{_metric_names(metrics, 'fr')} ne peut pas être filtré par {dim.name('fr')}.",
            )
        column = _parse(dim.columns[source_key])
        literals = [exp.Literal.string(v) for v in values]
        conditions.append(
            exp.EQ(this=column, expression=literals[0])
            if len(literals) == 1
            else exp.In(this=column, expressions=literals)
        )
    if conditions:
        select = select.where(exp.and_(*conditions))
    if plan.dimensions:
        # Ordinals, not names: an output name such as `region` would clash with input columns
        # of the same name (customers and sales reps both have one) in GROUP BY.
        select = select.group_by(*[exp.Literal.number(i + 1) for i in range(len(plan.dimensions))])
    return select


def _date(day: date) -> exp.Expr:
    return exp.cast(exp.Literal.string(day.isoformat()), "date")


def _metric_names(metrics: list[Metric], lang: str) -> str:
    return ", ".join(m.name(lang) for m in metrics)


def _join(query: exp.Select, other: exp.Expr, on: exp.Expr | None) -> exp.Select:
    """Full join on the dimensions; a cross join of single-row results when there are none."""
    if on is None:
        return query.join(other, join_type="cross")
    return query.join(other, on=on, join_type="full")


def _values_query(plan: Plan, model: SemanticModel, period: Period | None) -> exp.Select:
    """One row per dimension combination with every requested metric, for one period."""
    metric_objs = _base_metrics(model, plan.metrics)
    groups: dict[tuple[str, str | None], list[Metric]] = {}
    for metric in metric_objs:
        groups.setdefault((metric.source or "", metric.where), []).append(metric)
    ctes = [
        (f"m{i}", _source_select(plan, model, src, ms, where, period))
        for i, ((src, where), ms) in enumerate(groups.items())
    ]
    if len(ctes) == 1:
        name, inner = ctes[0]
        if not any(model.metrics[k].ratio for k in plan.metrics):
            return inner
    query = exp.select()
    first = ctes[0][0]
    for dim in plan.dimensions:
        query = query.select(
            exp.alias_(exp.func("coalesce", *[exp.column(dim, table=n) for n, _ in ctes]), dim)
            if len(ctes) > 1
            else exp.column(dim, table=first)
        )
    for metric_key in plan.metrics:
        metric = model.metrics[metric_key]
        if metric.ratio:
            num, den = metric.ratio
            expr: exp.Expr = exp.Div(
                this=exp.cast(exp.column(num), "numeric"),
                expression=exp.func("nullif", exp.column(den), exp.Literal.number(0)),
            )
        else:
            expr = exp.column(metric.key)
        query = query.select(exp.alias_(expr, metric_key))
    query = query.from_(ctes[0][1].subquery(first))
    for name, inner in ctes[1:]:
        on = (
            exp.and_(
                *[
                    exp.EQ(this=exp.column(d, table=first), expression=exp.column(d, table=name))
                    for d in plan.dimensions
                ]
            )
            if plan.dimensions
            else None
        )
        query = _join(query, inner.subquery(name), on)
    return query


def build_sql(plan: Plan, model: SemanticModel) -> Plan:
    """Turn an understood plan into SQL (sqlglot expressions only) and its plain explanation."""
    lang = plan.lang
    labels: dict[str, str] = {}
    formats: dict[str, str] = {}
    for dim in plan.dimensions:
        labels[dim] = model.dimensions[dim].name(lang)
    for key in plan.metrics:
        labels[key] = model.metrics[key].name(lang)
        formats[key] = model.metrics[key].format
    order: list[exp.Ordered] = []
    time_dims = tuple(d for d in plan.dimensions if model.dimensions[d].is_time)

    if plan.comparison:
        current, previous = plan.comparison
        metric_key = plan.metrics[0]
        a = _values_query(replace(plan, metrics=(metric_key,)), model, current)
        b = _values_query(replace(plan, metrics=(metric_key,)), model, previous)
        cur_col, prev_col = (
            f"{metric_key}_{_slug(current.label)}",
            f"{metric_key}_{_slug(previous.label)}",
        )
        query = exp.select()
        for dim in plan.dimensions:
            query = query.select(
                exp.alias_(
                    exp.func(
                        "coalesce", exp.column(dim, table="cur"), exp.column(dim, table="prev")
                    ),
                    dim,
                )
            )
        cur = exp.column(metric_key, table="cur")
        prev = exp.column(metric_key, table="prev")
        query = query.select(
            exp.alias_(cur.copy(), cur_col),
            exp.alias_(prev.copy(), prev_col),
            exp.alias_(exp.Sub(this=cur.copy(), expression=prev.copy()), "change"),
            exp.alias_(
                exp.Div(
                    this=exp.cast(exp.Sub(this=cur.copy(), expression=prev.copy()), "numeric"),
                    expression=exp.func("nullif", prev.copy(), exp.Literal.number(0)),
                ),
                "pct_change",
            ),
        )
        query = query.from_(a.subquery("cur"))
        on = (
            exp.and_(
                *[
                    exp.EQ(this=exp.column(d, table="cur"), expression=exp.column(d, table="prev"))
                    for d in plan.dimensions
                ]
            )
            if plan.dimensions
            else None
        )
        query = _join(query, b.subquery("prev"), on)
        metric_name = model.metrics[metric_key].name(lang)
        labels[cur_col] = f"{metric_name} {current.label}"
        labels[prev_col] = f"{metric_name} {previous.label}"
        labels["change"] = _say(lang, "Change", "Variation")
        labels["pct_change"] = _say(lang, "Change %", "Variation %")
        fmt = model.metrics[metric_key].format
        formats.update({cur_col: fmt, prev_col: fmt, "change": fmt, "pct_change": "percent"})
        sort_col = cur_col
    else:
        query = _values_query(plan, model, plan.period)
        sort_col = plan.metrics[0]
        if plan.share and not plan.dimensions:
            # "What share of revenue came from online?": the filtered figure over the same
            # figure without the filters.
            total = _values_query(replace(plan, filters=()), model, plan.period)
            query = exp.select(
                exp.column(sort_col, table="part"),
                exp.alias_(
                    exp.Div(
                        this=exp.cast(exp.column(sort_col, table="part"), "numeric"),
                        expression=exp.func("nullif", exp.column(sort_col, table="whole"),
                                            exp.Literal.number(0)),
                    ),
                    "share",
                ),
            ).from_(query.subquery("part"))
            query = _join(query, total.subquery("whole"), None)
            labels["share"] = _say(lang, "Share of total", "Part du total")
            formats["share"] = "percent"
        elif plan.share:
            query = exp.select(
                "*",
                exp.alias_(
                    exp.Div(
                        this=exp.cast(exp.column(sort_col), "numeric"),
                        expression=exp.func(
                            "nullif",
                            exp.Window(this=exp.Sum(this=exp.column(sort_col))),
                            exp.Literal.number(0),
                        ),
                    ),
                    "share",
                ),
            ).from_(query.subquery("v"))
            labels["share"] = _say(lang, "Share of total", "Part du total")
            formats["share"] = "percent"

    if plan.ranking and plan.dimensions:
        order.append(
            exp.Ordered(this=exp.column(sort_col), desc=plan.ranking.descending, nulls_first=False)
        )
        query = query.order_by(*order).limit(plan.ranking.limit)
    elif time_dims:
        query = query.order_by(*[exp.column(d) for d in plan.dimensions])
    elif plan.dimensions:
        query = query.order_by(exp.Ordered(this=exp.column(sort_col), desc=True, nulls_first=False))

    sql = query.sql(dialect="postgres")
    return replace(
        plan,
        sql=sql,
        explanation=explain(plan, model),
        column_labels=labels,
        column_formats=formats,
        time_columns=time_dims,
    )


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def explain(plan: Plan, model: SemanticModel) -> str:
    """The plain sentence shown under the numbers: definitions, grouping, filters, period."""
    lang = plan.lang
    parts = [
        model.metrics[k].definition.get(lang) or model.metrics[k].definition["en"]
        for k in plan.metrics
    ]
    if plan.dimensions:
        names = ", ".join(model.dimensions[d].name(lang).lower() for d in plan.dimensions)
        parts.append(_say(lang, f"by {names}", f"par {names}"))
    for dim_key, values in plan.filters:
        dim: Dimension = model.dimensions[dim_key]
        parts.append(f"{dim.name(lang)} = {', '.join(values)}")
    metric = model.metrics[plan.metrics[0]]
    source_key = metric.source or (model.metrics[metric.ratio[0]].source if metric.ratio else None)
    time_label = model.sources[source_key].time_label.get(lang, "") if source_key else ""
    if plan.comparison:
        a, b = plan.comparison
        parts.append(
            _say(lang, f"{a.label} compared with {b.label}", f"{a.label} comparé à {b.label}")
        )
    elif plan.period:
        parts.append(f"{time_label} {_period_words(plan.period, lang)}")
    if plan.ranking:
        parts.append(
            _say(
                lang,
                f"{'top' if plan.ranking.descending else 'bottom'} {plan.ranking.limit}",
                f"{'les' if plan.ranking.descending else 'les derniers'} {plan.ranking.limit}"
                f"{' meilleurs' if plan.ranking.descending else ''}",
            )
        )
    if plan.share:
        parts.append(
            _say(
                lang,
                "with each row's share of the total",
                "avec la part de chaque ligne dans le total",
            )
        )
    text = "; ".join(parts)
    if plan.assumptions:
        text += ". " + _say(lang, "Assumed: ", "Hypothèse : ") + "; ".join(plan.assumptions)
    return text + "."


def _period_words(period: Period, lang: str) -> str:
    if period.label.isdigit():
        return _say(lang, f"in {period.label}", f"en {period.label}")
    return _say(
        lang,
        f"from {period.start:%Y-%m-%d} to {period.end:%Y-%m-%d} (exclusive)",
        f"du {period.start:%d/%m/%Y} au {period.end:%d/%m/%Y} (exclu)",
    )


def suggestions(model: SemanticModel, lang: str, limit: int = 3) -> list[str]:
    """Close questions the planner can answer, offered when it cannot map one."""
    if lang == "fr":
        return [
            "Quel est le chiffre d'affaires par région en 2024 ?",
            "Combien de clients actifs en 2023 ?",
            "Top 5 des produits par marge brute l'an dernier",
        ][:limit]
    return [
        "What was revenue by region in 2024?",
        "How many active customers did we have in 2023?",
        "Top 5 products by gross margin last year",
    ][:limit]
