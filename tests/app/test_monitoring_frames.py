"""Monitoring as a reader needs it: error kinds in words, and no rate drawn from a handful of
votes."""

from __future__ import annotations

from datetime import date

from agents.app.monitoring import (
    MIN_VOTES_FOR_RATE,
    ErrorCount,
    ThumbsPoint,
    day_text,
    duration_text,
    error_label,
    errors_frame,
    share_text,
    thumbs_frame,
    thumbs_table,
    window_label,
)
from agents.app.monitoring.frames import route_label, stage_label


def test_error_kinds_have_human_labels() -> None:
    frame = errors_frame([ErrorCount("GuardRejected", 3), ErrorCount("bad_input", 2),
                          ErrorCount("internal: KeyError", 1), ErrorCount("Unheard", 1)])
    assert list(frame.index) == ["Blocked by the SQL guard", "Question that could not be read",
                                 "Unexpected error (a bug)", "Unheard"]
    assert error_label("QueryTimeout", "fr") == "Requête trop lente (délai dépassé)"


def test_a_rate_needs_a_minimum_of_votes_and_keeps_its_count() -> None:
    quiet = ThumbsPoint(date(2026, 3, 1), up=1, down=0)
    busy = ThumbsPoint(date(2026, 3, 2), up=MIN_VOTES_FOR_RATE, down=MIN_VOTES_FOR_RATE)
    frame = thumbs_frame([quiet, busy])
    rates = list(frame["Thumbs-up rate"])
    assert rates[0] is None or rates[0] != rates[0]  # not plotted: 1 vote says 100%
    assert rates[1] == 0.5
    table = thumbs_table(frame)
    assert list(table["Votes"]) == [1, 2 * MIN_VOTES_FOR_RATE]
    assert list(table["Period"]) == ["2026-03-01", "2026-03-02"]


def test_error_kinds_routes_and_headers_in_french() -> None:
    frame = errors_frame([ErrorCount("GuardRejected", 3), ErrorCount("bad_input", 2),
                          ErrorCount("internal: KeyError", 1)], "fr")
    assert list(frame.index) == ["Bloqué par le garde-fou SQL", "Question illisible",
                                 "Erreur inattendue (un bogue)"]
    assert frame.index.name == "Erreur" and list(frame.columns) == ["Réponses"]
    assert route_label("refused", "fr") == "Refusée" and route_label("new", "fr") == "new"
    assert stage_label("retrieve", "fr") == "Recherche documentaire"
    assert stage_label("rerank", "fr") == "rerank"
    thumbs = thumbs_frame([ThumbsPoint(date(2026, 3, 2), up=4, down=1)], lang="fr")
    assert list(thumbs_table(thumbs).columns) == ["Période", "Taux d'avis positifs", "Votes"]


def test_durations_shares_and_days_per_language() -> None:
    assert duration_text(812.4, "en") == "812 ms" and duration_text(1234.0, "en") == "1.2 s"
    assert duration_text(1234.0, "fr") == "1,2 s" and duration_text(None, "fr") == "—"
    assert share_text(0.5, "fr") == "50,0\u00a0%" and share_text(0.5, "en") == "50.0%"
    assert day_text(date(2024, 3, 10), "fr") == "10 mars 2024"
    assert day_text(date(2024, 3, 10), "en") == "10 Mar 2024"
    assert window_label(1, "fr") == "Aujourd'hui (UTC)"
    assert window_label(30, "fr") == "30 derniers jours"
