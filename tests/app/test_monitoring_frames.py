"""Monitoring as a reader needs it: error kinds in words, and no rate drawn from a handful of
votes."""

from __future__ import annotations

from datetime import date

from agents.app.monitoring import (
    MIN_VOTES_FOR_RATE,
    ErrorCount,
    ThumbsPoint,
    error_label,
    errors_frame,
    thumbs_frame,
    thumbs_table,
)


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
