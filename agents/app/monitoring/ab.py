"""A/B statistics: a variant's answers, votes and compare-mode duels, its win rate (ties
excluded) and Wilson's score interval around it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


@dataclass(frozen=True)
class VariantStats:
    variant: str
    answers: int
    votes: int
    thumbs_up: int
    wins: int
    losses: int
    ties: int
    median_ms: float | None

    @property
    def thumbs_up_rate(self) -> float | None:
        return self.thumbs_up / self.votes if self.votes else None

    @property
    def decided(self) -> int:
        """Comparisons with a winner: the trials of the win rate (ties excluded)."""
        return self.wins + self.losses

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.decided if self.decided else None

    @property
    def win_interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.wins, self.decided) if self.decided else None



def wilson_interval(successes: float, trials: float,
                    confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion `successes / trials`.

    Unlike p ± z·sqrt(p(1-p)/n) it never leaves [0, 1] and does not collapse to a point at 0/n or
    n/n, which matters for the small samples of an A/B test. With no trial at all it is the
    whole [0, 1] (its limit as n → 0): nothing is known yet. Raises ValueError on impossible
    counts.
    """
    if trials < 0 or successes < 0 or successes > trials:
        raise ValueError(f"{successes} successes out of {trials} trials is not a proportion.")
    if not 0 < confidence < 1:
        raise ValueError("The confidence level is between 0 and 1.")
    if trials == 0:
        return (0.0, 1.0)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / trials
    z2n = z * z / trials
    centre = (p + z2n / 2) / (1 + z2n)
    half = z * math.sqrt(p * (1 - p) / trials + z2n / (4 * trials)) / (1 + z2n)
    # Rounding can leave -1e-17 at 0/n; the interval is a set of proportions.
    return (max(0.0, centre - half), min(1.0, centre + half))

