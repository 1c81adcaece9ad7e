"""The recommendation policy applied: the agreement between marketing and sales, inside the model.

A fitted `Policy` holds the score thresholds, grade cut-offs, ideal-customer-profile (ICP) rules
and exclusions; every server and batch job applies the very same agreement. Placing thresholds
from a policy file is training's job (`training.policy`).
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from scoring.errors import InvalidRule

Recommendation = Literal["SQL", "MQL", "nurture", "disqualified"]
Grade = Literal["A", "B", "C", "D"]
# Below this share of the base rate, a lead is disqualified rather than nurtured: its calibrated
# chance is under half the average lead's.
FLOOR_SHARE_OF_BASE_RATE = 0.5

_WORDS = {
    ">=": "is at least",
    "<=": "is at most",
    ">": "is more than",
    "<": "is less than",
    "==": "is",
    "!=": "is not",
    "in": "is one of",
    "not in": "is none of",
}

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
    "not in": lambda value, allowed: value not in allowed,
    "in": lambda value, allowed: value in allowed,
}
_RULE = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(>=|<=|==|!=|>|<|not in|in)\s*(.+?)\s*$")


@dataclass(frozen=True)
class Rule:
    """`feature op value`, such as `company_size >= 50` or `seniority in ["vp", "director"]`."""

    feature: str
    op: str
    value: Any

    @classmethod
    def parse(cls, text: str) -> Rule:
        match = _RULE.match(text)
        if not match:
            raise InvalidRule(
                "expected a rule like 'company_size >= 50' or \"seniority in ['vp']\", "
                f"got {text!r}"
            )
        feature, op, literal = match.groups()
        try:
            value = ast.literal_eval(literal)
        except (ValueError, SyntaxError):
            raise InvalidRule(
                f"expected a number, a quoted text or a list after {op!r} in {text!r}"
            ) from None
        return cls(feature, op, tuple(value) if isinstance(value, list) else value)

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether the lead meets the rule; a missing value never does."""
        value = values.get(self.feature)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        try:
            return bool(_OPERATORS[self.op](value, self.value))
        except TypeError:
            return False

    def __str__(self) -> str:
        shown = list(self.value) if isinstance(self.value, tuple) else self.value
        return f"{self.feature} {self.op} {shown!r}"

    def words(self) -> str:
        """The rule in plain English: "company size is at least 10"."""
        values = self.value if isinstance(self.value, tuple) else (self.value,)
        shown = [f"{v:,g}" if isinstance(v, int | float) else str(v) for v in values]
        listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
        return f"{self.feature.replace('_', ' ')} {_WORDS[self.op]} {listed}"


@dataclass(frozen=True)
class Policy:
    """Score thresholds (0-100), the disqualification floor, ICP rules and exclusions.

    Grades come from the same thresholds as recommendations, so the two never contradict: A at
    or above SQL, B at or above MQL, C below MQL down to the floor, D below the floor.
    """

    sql_threshold: int
    mql_threshold: int
    floor: int = 0
    icp: tuple[Rule, ...] = ()
    exclusions: tuple[Rule, ...] = ()
    rules_only: bool = field(default=False)

    def grade(self, score: int) -> Grade:
        if score >= self.sql_threshold:
            return "A"
        if score >= self.mql_threshold:
            return "B"
        if score >= self.floor:
            return "C"
        return "D"

    def recommend(self, score: int | None, values: Mapping[str, Any]) -> tuple[Recommendation, str]:
        """SQL, MQL, nurture or disqualified, and a plain sentence that says why."""
        for rule in self.exclusions:
            if rule.holds(values):
                return "disqualified", f"Excluded by the policy: {rule.words()}"
        failed = next((rule for rule in self.icp if not rule.holds(values)), None)
        if score is None:  # a rules-only model: no score yet, only the agreed rules
            if failed is None and self.icp:
                return "SQL", "Meets every ICP rule (rules only: not enough history to score)"
            reason = f"fails the ICP rule {failed.words()}" if failed else "no ICP rules to meet"
            return "MQL", f"Not excluded, but {reason} (rules only: not enough history to score)"
        if score >= self.sql_threshold:
            if failed is None:
                met = "Meets the ICP, and s" if self.icp else "S"
                return (
                    "SQL",
                    f"{met}core {score} is at or above the SQL threshold {self.sql_threshold}",
                )
            if score >= self.mql_threshold:
                return "MQL", (
                    f"Score {score} is at or above the SQL threshold {self.sql_threshold}, but "
                    f"the ICP asks that {failed.words()}"
                )
        if score >= self.mql_threshold:
            return "MQL", f"Score {score} is at or above the MQL threshold {self.mql_threshold}"
        if score < self.floor:
            return "disqualified", (
                f"Score {score} is below the floor {self.floor}: its chance of winning is under "
                "half the average lead's"
            )
        return "nurture", f"Score {score} is below the MQL threshold {self.mql_threshold}: nurture"

    def to_dict(self) -> dict[str, Any]:
        return {
            "sql_threshold": self.sql_threshold,
            "mql_threshold": self.mql_threshold,
            "floor": self.floor,
            "icp": [str(rule) for rule in self.icp],
            "exclusions": [str(rule) for rule in self.exclusions],
            "rules_only": self.rules_only,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        return cls(
            sql_threshold=data["sql_threshold"],
            mql_threshold=data["mql_threshold"],
            floor=data.get(
                "floor", 0
            ),  # models saved before the floor nurture every lead below MQL
            icp=tuple(Rule.parse(r) for r in data.get("icp", [])),
            exclusions=tuple(Rule.parse(r) for r in data.get("exclusions", [])),
            rules_only=data.get("rules_only", False),
        )
