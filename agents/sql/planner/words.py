"""The planner's language data, in one place: the words that carry no content, per language.

A question is read as spans: metric, dimension, value, time, ranking, comparison... Whatever is
left must be one of these empty words (function words, question words, polite filler); any other
word is one the planner did not understand, and it says so instead of guessing. The lists are
generous with empty words and never hold a content word: "each", "per", "not", "open", "net",
"excluding", "status", "dollars" stay out, so that a question using them is not misread.
Words are normalized (lower case, no accents); a hyphenated word is checked part by part.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": _words("""
        a an the of our we us me my i you your it its they their them this that these those there
        here what whats which who whom whose how hows when where why s is are was were be been
        being am do does did done doing have has had having can could would will shall should may
        might must please kindly show showing shows tell give list display get got getting find
        see know want need like let lets to in on at for from with during over through throughout
        within into about as and also both much many so far some something anything any all
        total totals overall whole entire exactly roughly approximately just only then again
        look looking figure figures number numbers amount amounts value stats statistics data
        came come comes coming went go goes money value values hi hello thanks thank
        quick quickly tally sum overview summary see view compute calculate
        bring brings brought bringing generate generates generated generating earn earns earned
        make makes made produce produces produced
        """),
    "fr": _words("""
        le la les l un une des du de d au aux a en dans sur pour avec chez et ou quel quelle
        quels quelles quoi qui que qu combien comment ou est sont etait etaient ete a ont avons
        avez as ai avait avaient avions fait faire fut sera seront nous notre nos vous votre vos
        on il elle ils elles te tu toi ce cet cette ces se s c moi donne donnez donner montre
        montrez montrer affiche affichez afficher indique indiquez indiquer peux pouvez pourrais
        pourriez voudrais aimerais veux svp stp plait merci bonjour y t total totale totaux
        global globale globaux ensemble tout tous toute toutes leur leurs son sa ses mon ma mes
        celui celle ceux celles voir savoir connaitre chiffres chiffre montant montants valeur
        valeurs donnees
        calcule calculer obtenu obtenus enregistre enregistres realise realises realisee
        rapporte rapportes rapportee genere generes generee apporte apportes apportee
        """),
}
EMPTY_WORDS: frozenset[str] = frozenset().union(*FUNCTION_WORDS.values())

# Words after which an unknown word stands where a filter value would ("in Antarctica",
# "à Paris", "pour Bob"): it is named as a value the data does not hold.
FILTER_WORDS = _words("""
    in for from at among with of a au aux en pour chez dans parmi du de des by par
    """)

# Phrases of the planner's own rules, explained wherever they appear.
RULE_PHRASES = (
    # counts and amounts
    r"how many|how much|number of|count of|nombre de|nombre d|combien de|combien d|combien",
    # rankings and comparisons of periods
    r"in terms of|en termes de|en matiere de|when it comes to",
    r"break(?:s|ing)? down|broken down|split|repartit|repartis|repartie|ventile|ventilee",
    r"more|less|fewer|higher|lower|better|worse|than|plus|moins|que|qu|autant|by how much|"
    r"de combien|eleve|eleves|elevee|elevees|faible|faibles",
    # shares
    r"came from|come from|comes from|coming from|vient de|viennent de|provient de|"
    r"proviennent de|of the total|du total|of all|de tous|de toutes|in the total",
)

# The cue words of a follow-up question ("and in 2022?", "top 3 instead", "et la marge ?",
# "par canal maintenant"), explained in a follow-up only (see followup.py): elsewhere "now" or
# "instead" would be words no rule read.
FOLLOW_UP_WORDS = _words("""
    and now instead rather same only just also then ok okay but ones one those them that this it
    what about how else too sinon et maintenant plutot seulement uniquement juste pareil idem
    meme chose aussi alors mais place ceux celles ci ca cela lui
    break down split ventile ventiler detaille detailler
    """)

# "le CA de l'entreprise", "the company's revenue": the company itself, i.e. all of its data,
# never a value that happens to share the word (a customer segment called "Enterprise").
WHOLE_COMPANY = re.compile(
    r"\b(?:(?:de|pour|dans) (?:toute )?l entreprise|(?:de|pour) (?:toute )?la societe|"
    r"(?:de|pour) notre (?:entreprise|societe)|(?:of|for|across) (?:the|our) (?:whole |entire )?"
    r"(?:company|business)|(?:the|our) company s|company wide)\b"
)


def without_whole_company(text: str) -> str:
    """The normalized text with its "of the company" phrases blanked (offsets kept)."""
    return WHOLE_COMPANY.sub(lambda found: " " * len(found.group(0)), text)
