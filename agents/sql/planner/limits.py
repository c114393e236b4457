"""What a question may name but the data cannot answer: periods that do not exist, currencies
the amounts are not in. Each is a table of (pattern, message key); the planner refuses the
question with the reason instead of dropping the words and answering another question.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from agents.sql.planner.periods import MONTH_NAMES, MONTHS
from agents.sql.planner.vocabulary import Span

ORDINAL_5_UP = (r"fifth|sixth|seventh|eighth|ninth|tenth|cinquieme|sixieme|septieme|huitieme|"
                r"neuvieme|dixieme|[5-9](?:st|nd|rd|th|e|eme)")
# Periods no calendar has: "Q5", "T6 2024", "the sixth quarter", "month 13", "week 60".
IMPOSSIBLE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key) for pattern, key in (
        (r"\b(?:q|t)(?:0|[5-9]|[1-9][0-9])\b", "planner.impossible.quarter"),
        (rf"\b(?:{ORDINAL_5_UP})\s+(?:quarter|trimestre)\b", "planner.impossible.quarter"),
        (r"\b(?:quarter|trimestre)\s+(?:0|[5-9]|[1-9][0-9])\b", "planner.impossible.quarter"),
        (r"\b(?:month|mois)\s+(?:0|1[3-9]|[2-9][0-9])\b", "planner.impossible.month"),
        (r"\b(?:1[3-9]|[2-9][0-9])(?:th|e|eme)\s+(?:month|mois)\b", "planner.impossible.month"),
        (r"\b(?:week|semaine)\s+(?:0|5[4-9]|[6-9][0-9])\b", "planner.impossible.week"),
    )
)
YEAR = r"((?:19|20)[0-9]{2})"
DAY_MONTH = re.compile(
    rf"\b([0-9]{{1,2}})(?:st|nd|rd|th|er)?\s+(?:of\s+)?({MONTH_NAMES})(?:\s+{YEAR})?\b")
MONTH_DAY = re.compile(rf"\b({MONTH_NAMES})\s+([0-9]{{1,2}})(?:st|nd|rd|th)?\b(?:\s+{YEAR})?")

# Currencies by the names a question gives them; the model says which one the amounts are in.
CURRENCIES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])"), code) for pattern, code in (
        (r"(?:canadian\s+)dollars?|dollars?\s+canadiens?|cad", "CAD"),
        (r"(?:australian\s+)dollars?|dollars?\s+australiens?|aud", "AUD"),
        (r"(?:us\s+|american\s+|u\s+s\s+)?dollars?(?:\s+(?:us|americains?))?|usd", "USD"),
        (r"(?:british\s+)?pounds?(?:\s+sterling)?|sterling|livres?\s+sterling|gbp", "GBP"),
        (r"(?:japanese\s+)?yens?|yens?\s+japonais|jpy", "JPY"),
        (r"(?:swiss\s+)?francs?(?:\s+suisses?)?|chf", "CHF"),
        (r"yuans?|renminbi|cny|rmb", "CNY"),
        (r"(?:indian\s+)?rupees?|roupies?|inr", "INR"),
        (r"pesos?|reais|roubles?|rubles?|dirhams?|bitcoins?|btc", "other"),
        (r"euros?|eur", "EUR"),
    )
)
# Days a month can have, 29 February included.
LONGEST_MONTH = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30,
                 12: 31}
SYMBOLS = {"$": "USD", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "€": "EUR"}


@dataclass(frozen=True)
class Limit:
    """A reason to refuse, with the words that gave it and where they are."""

    key: str
    written: str
    span: Span | None = None
    code: str = ""


def _day_limit(text: str) -> Limit | None:
    found = [(m, int(m.group(1)), m.group(2), m.group(3)) for m in DAY_MONTH.finditer(text)]
    found += [(m, int(m.group(2)), m.group(1), m.group(3)) for m in MONTH_DAY.finditer(text)]
    for match, day, month, year in found:
        # Without a year, 29 February may exist; with one, only in a leap year.
        number = MONTHS[month]
        days = calendar.monthrange(int(year), number)[1] if year else LONGEST_MONTH[number]
        if not 1 <= day <= days:
            return Limit("planner.impossible.day", match.group(0), match.span())
    return None


def impossible_period(text: str) -> Limit | None:
    """A period no calendar has, in a normalized question."""
    for pattern, key in IMPOSSIBLE:
        m = pattern.search(text)
        if m:
            return Limit(key, m.group(0), m.span())
    return _day_limit(text)


def currencies(text: str, question: str) -> tuple[Limit, ...]:
    """Every currency the question names (normalized text, or symbols in the question)."""
    found: list[Limit] = []
    taken: list[Span] = []
    for pattern, code in CURRENCIES:
        for m in pattern.finditer(text):
            if not any(m.start() < e and s < m.end() for s, e in taken):
                taken.append(m.span())
                found.append(Limit("planner.problem.currency", m.group(0), m.span(), code))
    found += [Limit("planner.problem.currency", symbol, None, code)
              for symbol, code in SYMBOLS.items() if symbol in question]
    return tuple(found)
