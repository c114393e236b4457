"""Names for a drafted semantic model: English words from table and column names, and French
ones where a small dictionary of common warehouse words knows them (a person edits the rest).

These are generic words of data modelling (customer, invoice, price), never a business's names.
"""

from __future__ import annotations

import re

# English word -> French noun (singular), with its gender for "moyen"/"moyenne".
FRENCH: dict[str, tuple[str, str]] = {
    "account": ("compte", "m"), "address": ("adresse", "f"), "album": ("album", "m"),
    "amount": ("montant", "m"), "artist": ("artiste", "m"), "billing": ("facturation", "f"),
    "birth": ("naissance", "f"), "category": ("catégorie", "f"), "channel": ("canal", "m"),
    "city": ("ville", "f"), "company": ("société", "f"), "composer": ("compositeur", "m"),
    "cost": ("coût", "m"), "country": ("pays", "m"), "customer": ("client", "m"),
    "date": ("date", "f"), "department": ("service", "m"), "discount": ("remise", "f"),
    "duration": ("durée", "f"), "email": ("e-mail", "m"), "employee": ("employé", "m"),
    "genre": ("genre", "m"), "hire": ("embauche", "f"), "invoice": ("facture", "f"),
    "item": ("article", "m"), "line": ("ligne", "f"), "media": ("média", "m"),
    "name": ("nom", "m"), "order": ("commande", "f"), "payment": ("paiement", "m"),
    "playlist": ("playlist", "f"), "price": ("prix", "m"), "priority": ("priorité", "f"),
    "product": ("produit", "m"), "quantity": ("quantité", "f"), "region": ("région", "f"),
    "rep": ("commercial", "m"), "revenue": ("chiffre d'affaires", "m"), "sale": ("vente", "f"),
    "salary": ("salaire", "m"), "segment": ("segment", "m"), "state": ("état", "m"),
    "status": ("statut", "m"), "store": ("magasin", "m"), "supplier": ("fournisseur", "m"),
    "support": ("support", "m"), "target": ("objectif", "m"), "ticket": ("ticket", "m"),
    "title": ("titre", "m"), "total": ("total", "m"), "track": ("piste", "f"),
    "type": ("type", "m"), "unit": ("unité", "f"), "user": ("utilisateur", "m"),
    "bytes": ("octets", "m"), "milliseconds": ("millisecondes", "f"),
}
# Phrases a word-for-word reading gets wrong.
FRENCH_PHRASES: dict[str, tuple[str, str]] = {
    "unit price": ("prix unitaire", "m"), "first name": ("prénom", "m"),
    "last name": ("nom de famille", "m"), "postal code": ("code postal", "m"),
    "support rep": ("commercial", "m"), "media type": ("type de média", "m"),
}
IRREGULAR_PLURALS = {"person": "people", "media": "media", "status": "statuses",
                     "bytes": "bytes", "milliseconds": "milliseconds"}


def words(name: str) -> list[str]:
    """snake_case, camelCase or spaced -> lower-case words."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).replace("_", " ")
    return [w.lower() for w in spaced.split() if w]


def english(name: str) -> str:
    """The words of a name, the last one singular ("order_items" -> "order item")."""
    parts = words(name)
    if parts:
        parts[-1] = singular(parts[-1])
    return " ".join(parts)


def singular(word: str) -> str:
    if word in IRREGULAR_PLURALS.values() or word in IRREGULAR_PLURALS:
        return next((k for k, v in IRREGULAR_PLURALS.items() if v == word), word)
    if re.search(r"[^aeiou]ies$", word):
        return word[:-3] + "y"
    if re.search(r"(ss|x|z|ch|sh)es$", word) or word.endswith("uses"):
        return word[:-2]
    if word.endswith("s") and not re.search(r"(ss|us|is)$", word):
        return word[:-1]
    return word


def plural(phrase: str) -> str:
    """The English plural of a phrase's last word."""
    head, _, last = phrase.rpartition(" ")
    if last in IRREGULAR_PLURALS:
        word = IRREGULAR_PLURALS[last]
    elif re.search(r"[^aeiou]y$", last):
        word = last[:-1] + "ies"
    elif re.search(r"(s|x|z|ch|sh)$", last):
        word = last + "es"
    else:
        word = last + "s"
    return f"{head} {word}".strip()


def french(phrase: str) -> tuple[str, str] | None:
    """(French noun phrase, gender) when every word is known, else None.

    English modifiers come first ("invoice line"); French puts them after with "de"
    ("ligne de facture")."""
    if phrase in FRENCH_PHRASES:
        return FRENCH_PHRASES[phrase]
    parts = phrase.split()
    if not parts:
        return None
    for size in (2,):
        if len(parts) > size and " ".join(parts[-size:]) in FRENCH_PHRASES:
            head, gender = FRENCH_PHRASES[" ".join(parts[-size:])]
            rest = french(" ".join(parts[:-size]))
            return (f"{head} de {rest[0]}", gender) if rest else None
    known = [FRENCH.get(p) for p in parts]
    if not all(known):
        return None
    head, gender = known[-1]  # type: ignore[misc]
    modifiers = [k[0] for k in reversed(known[:-1])]  # type: ignore[index]
    return " de ".join([head, *modifiers]), gender


def french_plural(phrase: str) -> str:
    head, sep, rest = phrase.partition(" de ")
    words_ = head.split()
    last = words_[-1]
    if not re.search(r"[sxz]$", last):
        last = last[:-2] + "aux" if last.endswith("al") else last + "s"
    words_[-1] = last
    if len(words_) == 2 and words_[1] in ("unitaire", "postal"):  # "prix unitaires"
        words_[1] = words_[1] + "s" if words_[1] == "unitaire" else "postaux"
    return " ".join(words_) + (sep + rest if sep else "")


def french_article_of(phrase: str) -> str:
    """"de " or "d'" before a French word ("nombre d'albums")."""
    return "d'" if phrase[:1].lower() in "aeiouéèêh" else "de "
