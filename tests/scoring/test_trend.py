"""The score trend: Dynamics 365's four meanings, with a documented band of points."""

from __future__ import annotations

import pytest

from scoring import TREND_BAND, score_trend
from scoring.trend import dynamics_code


@pytest.mark.parametrize(
    ("score", "previous", "expected"),
    [
        (50, 50, "steady"),
        (50 + TREND_BAND - 1, 50, "steady"),
        (50 - TREND_BAND + 1, 50, "steady"),
        (50 + TREND_BAND, 50, "improving"),
        (50 - TREND_BAND, 50, "declining"),
        (90, 10, "improving"),
        (50, None, "not_enough_info"),
        (None, 50, "not_enough_info"),
    ],
)
def test_the_trend_follows_the_documented_bands(
    score: int | None, previous: int | None, expected: str
) -> None:
    assert score_trend(score, previous) == expected


def test_dynamics_codes_are_its_option_values() -> None:
    codes = {name: dynamics_code(name) for name in ("improving", "steady", "declining")}
    assert codes == {"improving": 0, "steady": 1, "declining": 2}
    assert dynamics_code("not_enough_info") == 3
