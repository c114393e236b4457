"""Time periods in a normalized question: years, quarters, halves, months, ranges, relative ones.

RULES is a table of (pattern, handler), tried in order; an expression counts once, for the first
rule whose match does not overlap one already taken ("Q3 2019" is a quarter, not also a year).
Relative periods ("last year", "the last 6 months") are anchored on the last date in the data
and say so in an assumption.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from agents.messages import say
from agents.sql.planner.counts import count_of
from agents.sql.planner.values import Period
from agents.sql.planner.vocabulary import Span

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
ORDINALS = {
    "first": 1,
    "premier": 1,
    "second": 2,
    "deuxieme": 2,
    "third": 3,
    "troisieme": 3,
    "fourth": 4,
    "quatrieme": 4,
}
FIRST_HALF_WORDS = ("1", "first", "1st", "premier", "1er")
# Months in a period of "the last N <unit>", by the unit's group name.
UNIT_MONTHS = {"months": 1, "quarters": 3, "years": 12}


@dataclass(frozen=True)
class TimeHit:
    """What one time expression says: a period, an assumption, or a year-earlier comparison."""

    period: Period | None = None
    assumption: str | None = None
    # "versus the same quarter last year": compare the period with the one a year earlier.
    year_earlier: bool = False
    # "between 2021 and 2022": the two ends, compared when the question asks for a growth.
    ends: tuple[Period, Period] | None = None


@dataclass(frozen=True)
class TimeReading:
    """The periods a question names, in the order written, and the spans they take."""

    periods: tuple[Period, ...] = ()
    compare: bool = False
    growth: bool = False
    year_earlier: bool = False
    assumptions: tuple[str, ...] = ()
    spans: tuple[Span, ...] = ()
    ends: tuple[tuple[Period, Period], ...] = ()


Handler = Callable[[tuple[str, ...], date, str], TimeHit]


# ---------------------------------------------------------------- periods


def day_words(day: date, lang: str) -> str:
    return day.strftime(say("planner.date_format", lang))


def quarter_period(year: int, q: int) -> Period:
    start = date(year, 3 * q - 2, 1)
    end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return Period(start, end, f"Q{q} {year}")


def month_period(year: int, month: int) -> Period:
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period(date(year, month, 1), end, f"{year}-{month:02d}")


def half_period(year: int, half: int) -> Period:
    start = date(year, 1 if half == 1 else 7, 1)
    end = date(year, 7, 1) if half == 1 else date(year + 1, 1, 1)
    return Period(start, end, f"H{half} {year}")


def year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year + 1, 1, 1), str(year))


def shift_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def year_earlier(period: Period) -> Period:
    start, end = shift_months(period.start, -12), shift_months(period.end, -12)
    label = (str(int(period.label) - 1) if period.label.isdigit()
             else re.sub(r"(20[0-9]{2})", lambda y: str(int(y.group(1)) - 1), period.label))
    return Period(start, end, label)


def period_months(period: Period) -> int:
    """How many calendar months a period spans, start month to end month."""
    return (period.end.year - period.start.year) * 12 + period.end.month - period.start.month


def period_shifted(period: Period, steps: int) -> Period | None:
    """The month, quarter or year `steps` of its own lengths later (earlier when negative);
    None for a period of another shape (a range of months, a half)."""
    months = period_months(period)
    if period.start.day != 1 or period.end.day != 1 or months not in (1, 3, 12):
        return None
    start = shift_months(period.start, months * steps)
    if months == 1:
        return month_period(start.year, start.month)
    if months == 3 and start.month % 3 == 1:
        return quarter_period(start.year, (start.month + 2) // 3)
    if months == 12 and start.month == 1:
        return Period(start, shift_months(start, 12), str(start.year))
    return None


def anchor_quarter(anchor: date) -> int:
    return (anchor.month - 1) // 3 + 1


# ---------------------------------------------------------------- handlers, one per rule


def _range(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    a, b = sorted((int(g[0]), int(g[1])))
    return TimeHit(Period(date(a, 1, 1), date(b + 1, 1, 1), f"{a}-{b}"),
                   ends=(year_period(a), year_period(b)))


def _since(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    y = int(g[0])
    return TimeHit(Period(date(y, 1, 1), date(anchor.year + 1, 1, 1), f"{y}-{anchor.year}"))


def _quarter(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    return TimeHit(quarter_period(int(g[1]), int(g[0])))


def _year_then_quarter(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    return TimeHit(quarter_period(int(g[0]), int(g[1])))


def _quarter_words(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    q = int(g[0]) if g[0].isdigit() else ORDINALS[g[0]]
    return TimeHit(quarter_period(int(g[1]), q))


def _year_earlier(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    return TimeHit(year_earlier=True)


def _half(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    return TimeHit(half_period(int(g[1]), 1 if g[0] in FIRST_HALF_WORDS else 2))


def _year_then_half(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    return _half((g[1], g[0]), anchor, lang)


def _month(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    return TimeHit(month_period(int(g[1]), MONTHS[g[0]]))


def _last_n(unit_months: int) -> Handler:
    """The last N months, quarters or years, ending with the anchor's month."""

    def handler(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
        n = count_of(g[0])
        if n <= 0:
            return TimeHit()
        end = shift_months(anchor, 1)
        start = shift_months(end, -n * unit_months)
        return TimeHit(
            Period(start, end, f"{start:%Y-%m} to {anchor:%Y-%m}"),
            say("planner.last_n", lang, n=n, unit=g[1], anchor=day_words(anchor, lang)),
        )

    return handler


def _last_year(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    return TimeHit(
        year_period(anchor.year - 1),
        say("planner.last_year", lang, year=anchor.year - 1, anchor=day_words(anchor, lang)),
    )


def _this_year(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    return TimeHit(year_period(anchor.year), say("planner.this_year", lang, year=anchor.year))


def _last_quarter(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    current = anchor_quarter(anchor)
    y, q = (anchor.year, current - 1) if current > 1 else (anchor.year - 1, 4)
    return TimeHit(quarter_period(y, q), say("planner.last_quarter", lang, quarter=q, year=y))


def _this_quarter(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    q = anchor_quarter(anchor)
    return TimeHit(quarter_period(anchor.year, q),
                   say("planner.this_quarter", lang, quarter=q, year=anchor.year))


def _last_month(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    start = shift_months(anchor, -1)
    return TimeHit(month_period(start.year, start.month))


def _this_month(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    return TimeHit(month_period(anchor.year, anchor.month))


def _year(g: tuple[str, ...], anchor: date, lang: str) -> TimeHit:
    return TimeHit(year_period(int(g[0])))


# ---------------------------------------------------------------- rules

# Years the calendar may hold; whether the data does is a problem of its own.
YEAR = r"((?:19|20)[0-9]{2})"
MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
# Most specific first: a range or a quarter before the bare years it contains.
_RULES: tuple[tuple[str, Handler], ...] = (
    (
        rf"\b(?:between|entre|from|de|du)\s+{YEAR}\s+(?:and|et|to|a|au|until|jusqu a)\s+"
        rf"{YEAR}\b",
        _range,
    ),
    (rf"\b{YEAR}\s*-\s*{YEAR}\b", _range),
    (rf"\b(?:since|depuis|after|apres|from)\s+{YEAR}\b", _since),
    (rf"\b(?:q|t)([1-4])\s*(?:of\s+|de\s+|du\s+)?{YEAR}\b", _quarter),
    (rf"\b{YEAR}\s*(?:q|t)([1-4])\b", _year_then_quarter),
    (
        rf"\b(?:the\s+|le\s+)?([1-4]|first|second|third|fourth|premier|deuxieme|second|troisieme|"
        rf"quatrieme)\s*(?:st|nd|rd|th|e|eme|er)?\s+(?:quarter|trimestre)\s+(?:of\s+|de\s+|du\s+)?"
        rf"{YEAR}\b",
        _quarter_words,
    ),
    (
        r"\b(?:(?:versus|vs|against|compared (?:to|with)|par rapport (?:a|au)|compare a)\s+)?"
        r"(?:the\s+)?same\s+(?:quarter|month|period|time)\s+(?:of\s+)?(?:the\s+)?"
        r"(?:(?:last|previous|prior)\s+year|(?:a|one)\s+year\s+(?:earlier|before|ago))\b"
        r"|\b(?:a|one)\s+year\s+(?:earlier|before|ago)\b",
        _year_earlier,
    ),
    (
        r"\b(?:(?:par rapport|compare)\s+(?:a|au)\s+)?(?:le\s+|la\s+|au\s+)?meme\s+"
        r"(?:trimestre|mois|periode)\s+(?:de\s+)?(?:l\s+an(?:nee)?\s+(?:dernier|derniere|"
        r"passe|passee|precedente)|l\s+annee\s+precedente|un\s+an\s+(?:plus\s+tot|"
        r"auparavant|avant))\b|\bun\s+an\s+(?:plus\s+tot|auparavant|avant)\b",
        _year_earlier,
    ),
    (rf"\b(?:the\s+)?(first|second|1st|2nd)\s+half\s+(?:of\s+)?{YEAR}\b", _half),
    (
        rf"\b(?:le\s+|au\s+)?(premier|1er|second|deuxieme|2e|2eme|2nd)\s+semestre\s+"
        rf"(?:de\s+|du\s+)?{YEAR}\b",
        _half,
    ),
    (rf"\b(?:h|s)([12])\s*(?:of\s+|de\s+)?{YEAR}\b", _half),
    (rf"\b{YEAR}\s*(?:h|s)([12])\b", _year_then_half),
    (rf"\b({MONTH_NAMES})\s+(?:of\s+|de\s+)?{YEAR}\b", _month),
    (
        r"\b(?:last|past|previous|the last|over the last|les|des|sur les)\s+([0-9]+|[a-z]+)\s+"
        r"(?:derniers\s+)?(months|mois)(?:\s+derniers)?\b",
        _last_n(UNIT_MONTHS["months"]),
    ),
    (
        r"\b(?:last|past|previous|the last|les|sur les)\s+([0-9]+|[a-z]+)\s+(?:derniers\s+)?"
        r"(quarters|trimestres)(?:\s+derniers)?\b",
        _last_n(UNIT_MONTHS["quarters"]),
    ),
    (
        r"\b(?:last|past|previous|the last|les|sur les)\s+([0-9]+|[a-z]+)\s+(?:dernieres\s+)?"
        r"(years|annees|ans)(?:\s+dernieres|\s+derniers)?\b",
        _last_n(UNIT_MONTHS["years"]),
    ),
    (
        r"\b(?:last year|previous year|l an dernier|l annee derniere|annee derniere|"
        r"an dernier|l an passe|l annee passee)\b",
        _last_year,
    ),
    (
        r"\b(?:this year|current year|cette annee|l annee en cours|year to date|ytd|"
        r"depuis le debut de l annee)\b",
        _this_year,
    ),
    (
        r"\b(?:last quarter|previous quarter|le trimestre dernier|trimestre dernier|"
        r"dernier trimestre|trimestre precedent)\b",
        _last_quarter,
    ),
    (r"\b(?:this quarter|current quarter|ce trimestre|trimestre en cours)\b", _this_quarter),
    (
        r"\b(?:last month|previous month|le mois dernier|mois dernier|mois precedent)\b",
        _last_month,
    ),
    (r"\b(?:this month|current month|ce mois ci|ce mois)\b", _this_month),
    (rf"\b{YEAR}\b", _year),
)
RULES: tuple[tuple[re.Pattern[str], Handler], ...] = tuple(
    (re.compile(pattern), handler) for pattern, handler in _RULES
)
COMPARE_CUES = re.compile(
    r"\b(?:vs|versus|compared (?:to|with)|compare|comparison|against|par rapport a|"
    r"compare a|comparer|comparaison|contre)\b|\b(?:more|less|fewer|higher|lower|"
    r"better|worse|plus|moins)\b.*\b(?:than|qu|que)\b"
)
COMPARE_WORDS = re.compile(
    r"\b(?:vs|versus|compared (?:to|with)|compare|comparison|against|par rapport a|"
    r"compare a|comparer|comparaison|contre)\b"
)
GROWTH_CUES = re.compile(
    r"\b(?:growth|grow|grew|grown|increase|increased|decrease|decreased|rise|rose|risen|fall|"
    r"fell|drop|dropped|decline|declined|change|changed|evolution|evolve|evolved|croissance|"
    r"progression|variation|augmentation|hausse|baisse|evolue|augmente|augmentee|progresse|"
    r"diminue|recule|grandi|cru|yoy|year over year|d une annee sur l autre)\b"
)


def _overlaps(span: Span, taken: list[Span]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in taken)


Hits = list[tuple[int, TimeHit]]  # (position in the text, hit), in the order rules found them


def _time_hits(text: str, anchor: date, lang: str) -> tuple[Hits, list[Span]]:
    """Every rule's non-overlapping matches, and the spans they take."""
    hits: Hits = []
    taken: list[Span] = []
    for pattern, handler in RULES:
        for m in pattern.finditer(text):
            if _overlaps((m.start(), m.end()), taken):
                continue
            taken.append((m.start(), m.end()))
            hits.append((m.start(), handler(m.groups(), anchor, lang)))
    return hits, taken


def parse_time(text: str, anchor: date, lang: str) -> TimeReading:
    """Find the periods a normalized question names, and the spans they take."""
    hits, taken = _time_hits(text, anchor, lang)
    # Assumptions in rule order, periods in the order the question writes them.
    assumptions = tuple(h.assumption for _, h in hits if h.assumption is not None)
    periods = tuple(h.period for _, h in sorted(hits, key=lambda h: h[0]) if h.period is not None)
    return TimeReading(
        periods=periods,
        compare=bool(COMPARE_CUES.search(text)) and len(periods) >= 2,
        growth=bool(GROWTH_CUES.search(text)),
        year_earlier=any(h.year_earlier for _, h in hits),
        assumptions=assumptions,
        spans=tuple(taken),
        ends=tuple(h.ends for _, h in hits if h.ends is not None),
    )
