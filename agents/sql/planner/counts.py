"""Counts written as digits or words ("top 5", "the last three months", "les deux")."""

from __future__ import annotations

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
# A count as a regex group: a small number or a number word, longest words first.
NUMBER = r"([0-9]{1,3}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"


def count_of(word: str) -> int:
    """The count a word stands for; 0 for a word that is not a number."""
    return int(word) if word.isdigit() else NUMBER_WORDS.get(word, 0)
