"""A lead's score trend against its previous score, with Dynamics 365's four meanings.

Dynamics 365 Sales shows a predictive score's trend as improving, steady, declining or "not
enough info" (`msdyn_scoretrend` 0 to 3). leadscore compares a lead's new score with the score
it got last time under the same model name (any version), in score points:

- improving: at least `TREND_BAND` points higher;
- declining: at least `TREND_BAND` points lower;
- steady: less than `TREND_BAND` points apart either way;
- not_enough_info: no earlier score for this lead id, or no score now (a rules-only model).

Five points is the band because a lead's score moves by a point or two when only the clock
moves (days since its last activity), which is not news to a rep.
"""

from __future__ import annotations

from typing import Literal

Trend = Literal["improving", "steady", "declining", "not_enough_info"]
TRENDS: tuple[Trend, ...] = ("improving", "steady", "declining", "not_enough_info")
TREND_BAND = 5


def score_trend(score: int | None, previous: int | None) -> Trend:
    """The trend from `previous` to `score` (both 0-100 scores, None when there is none)."""
    if score is None or previous is None:
        return "not_enough_info"
    if score - previous >= TREND_BAND:
        return "improving"
    if previous - score >= TREND_BAND:
        return "declining"
    return "steady"


def dynamics_code(value: Trend) -> int:
    """Dynamics 365's `msdyn_scoretrend` option value: 0 improving, 1 steady, 2 declining,
    3 not enough info."""
    return TRENDS.index(value)
