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

Recommendation = Literal["SQL", "MQL", "disqualified"]
Grade = Literal["A", "B", "C", "D"]

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


@dataclass(frozen=True)
class Policy:
    """Score thresholds (0-100), grade cut-offs, ICP rules and exclusions."""

    sql_threshold: int
    mql_threshold: int
    grade_a: int
    grade_b: int
    grade_c: int
    icp: tuple[Rule, ...] = ()
    exclusions: tuple[Rule, ...] = ()
    rules_only: bool = field(default=False)

    def grade(self, score: int) -> Grade:
        if score >= self.grade_a:
            return "A"
        if score >= self.grade_b:
            return "B"
        if score >= self.grade_c:
            return "C"
        return "D"

    def recommend(self, score: int | None, values: Mapping[str, Any]) -> tuple[Recommendation, str]:
        """The recommendation and a sentence that says why."""
        for rule in self.exclusions:
            if rule.holds(values):
                return "disqualified", f"Excluded by the policy: {rule}"
        failed = next((rule for rule in self.icp if not rule.holds(values)), None)
        if score is None:  # a rules-only model: no score yet, only the agreed rules
            if failed is None and self.icp:
                return "SQL", "Meets every ICP rule (rules only: not enough history to score)"
            reason = f"fails ICP rule {failed}" if failed else "no ICP rules to meet"
            return "MQL", f"Not excluded, but {reason} (rules only: not enough history to score)"
        if score >= self.sql_threshold:
            if failed is None:
                met = "Meets ICP rules and s" if self.icp else "S"
                return "SQL", f"{met}core {score} >= SQL threshold {self.sql_threshold}"
            if score >= self.mql_threshold:
                return "MQL", (
                    f"Score {score} >= SQL threshold {self.sql_threshold} but fails ICP rule "
                    f"{failed}"
                )
        if score >= self.mql_threshold:
            return "MQL", f"Score {score} >= MQL threshold {self.mql_threshold}"
        return "disqualified", f"Score {score} < MQL threshold {self.mql_threshold}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "sql_threshold": self.sql_threshold,
            "mql_threshold": self.mql_threshold,
            "grade_a": self.grade_a,
            "grade_b": self.grade_b,
            "grade_c": self.grade_c,
            "icp": [str(rule) for rule in self.icp],
            "exclusions": [str(rule) for rule in self.exclusions],
            "rules_only": self.rules_only,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        return cls(
            sql_threshold=data["sql_threshold"],
            mql_threshold=data["mql_threshold"],
            grade_a=data["grade_a"],
            grade_b=data["grade_b"],
            grade_c=data["grade_c"],
            icp=tuple(Rule.parse(r) for r in data.get("icp", [])),
            exclusions=tuple(Rule.parse(r) for r in data.get("exclusions", [])),
            rules_only=data.get("rules_only", False),
        )
