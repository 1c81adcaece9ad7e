"""The recommendation policy: where SQL and MQL start, and how scores map to grades.

It is plain data computed at training and saved inside the model, so every server and batch job
applies the very same agreement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

Recommendation = Literal["SQL", "MQL", "disqualified"]
Grade = Literal["A", "B", "C", "D"]


@dataclass(frozen=True)
class Policy:
    """Score cut-offs (0-100). SQL starts at grade A, MQL at grade B."""

    grade_a: int
    grade_b: int
    grade_c: int

    @property
    def sql_threshold(self) -> int:
        return self.grade_a

    @property
    def mql_threshold(self) -> int:
        return self.grade_b

    def grade(self, score: int) -> Grade:
        if score >= self.grade_a:
            return "A"
        if score >= self.grade_b:
            return "B"
        if score >= self.grade_c:
            return "C"
        return "D"

    def recommend(self, score: int) -> tuple[Recommendation, str]:
        """The recommendation and a sentence that says why."""
        if score >= self.sql_threshold:
            return "SQL", f"Score {score} >= SQL threshold {self.sql_threshold}"
        if score >= self.mql_threshold:
            return "MQL", f"Score {score} >= MQL threshold {self.mql_threshold}"
        return "disqualified", f"Score {score} < MQL threshold {self.mql_threshold}"

    @classmethod
    def from_scores(
        cls, scores: list[int] | Any, shares: tuple[float, float, float] = (0.10, 0.30, 0.60)
    ) -> Policy:
        """Cut-offs reached by about 10% (A), 30% (B or better) and 60% (C or better) of scores."""
        values = np.asarray(scores, dtype=float)
        a, b, c = (max(1, int(np.ceil(np.quantile(values, 1.0 - share)))) for share in shares)
        return cls(grade_a=max(a, b, c), grade_b=max(b, c), grade_c=c)

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "sql_threshold": self.sql_threshold,
            "mql_threshold": self.mql_threshold,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        return cls(grade_a=data["grade_a"], grade_b=data["grade_b"], grade_c=data["grade_c"])
