"""Text normalisation and language detection shared by the router, planner and ingestion."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Lang = Literal["en", "fr"]
LANGUAGES: tuple[Lang, ...] = ("en", "fr")

FRENCH_HINTS = frozenset({
    "le", "la", "les", "des", "du", "de", "quel", "quelle", "quels", "quelles", "combien", "par",
    "en", "est", "sont", "avons", "nous", "pour", "chiffre", "annee", "trimestre", "mois", "et",
    "sur", "depuis", "entre", "ventes", "clients", "commandes", "marge", "taux", "dernier",
    "derniere", "meilleurs", "evolution", "donne", "moi", "montre", "affiche", "au", "aux",
    "ete", "etait", "quoi", "dit", "rapport", "politique", "qu", "une", "un", "dans", "avec",
    "que", "qui", "il", "elle", "ce", "cette", "ou", "pas", "notre", "nos", "vous",
})
ENGLISH_HINTS = frozenset({
    "the", "what", "which", "how", "many", "much", "by", "in", "of", "was", "were", "is", "are",
    "did", "we", "our", "per", "for", "and", "top", "show", "me", "last", "year", "revenue",
    "customers", "orders", "between", "since", "growth", "policy", "does", "say", "about", "to",
    "with", "that", "this", "it", "be", "on", "from", "can", "do", "there", "who", "when",
})


def normalize(text: str) -> str:
    """Lower case, no accents, apostrophes and punctuation as spaces: 'Région' -> 'region'."""
    if not text.isascii():  # most of a model's phrases are: no accent to strip
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().replace("’", "'").replace("'", " ")
    text = re.sub(r"[^a-z0-9%\-]+", " ", text)
    text = re.sub(r"(?<![a-z0-9])-|-(?![a-z0-9])", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def detect_language(text: str) -> Lang:
    """'fr' or 'en' from common words and accents; English when unsure."""
    words = normalize(text[:4000]).split()
    fr = sum(w in FRENCH_HINTS for w in words)
    en = sum(w in ENGLISH_HINTS for w in words)
    fr += len(re.findall(r"[éèêàùçôî]", text[:4000].lower())) // 3 + (
        1 if re.search(r"[éèêàùçôî]", text[:4000].lower()) else 0
    )
    return "fr" if fr > en else "en"
