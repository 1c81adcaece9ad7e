"""The recommendation policy: the agreement between marketing and sales, saved inside the model.

A policy file says where SQL and MQL start (by weekly sales capacity or by minimum precision),
which ideal-customer-profile (ICP) rules an SQL must pass, and which leads are excluded whatever
their score. Training turns it into score thresholds on the holdout; every server and batch job
then applies the very same agreement.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

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
            raise ValueError(
                "expected a rule like 'company_size >= 50' or \"seniority in ['vp']\", "
                f"got {text!r}"
            )
        feature, op, literal = match.groups()
        try:
            value = ast.literal_eval(literal)
        except (ValueError, SyntaxError):
            raise ValueError(
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
class ThresholdSpec:
    """Where one threshold goes: the top N leads a week, or the lowest score precise enough."""

    capacity_per_week: float | None = None
    min_precision: float | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], section: str) -> ThresholdSpec:
        unknown = set(data) - {"sales_capacity_per_week", "min_precision"}
        chosen = [k for k in ("sales_capacity_per_week", "min_precision") if k in data]
        if unknown or len(chosen) != 1:
            raise ValueError(
                f"expected exactly one of sales_capacity_per_week or min_precision in [{section}], "
                f"got {sorted(data)}"
            )
        return cls(
            capacity_per_week=data.get("sales_capacity_per_week"),
            min_precision=data.get("min_precision"),
        )


@dataclass(frozen=True)
class PolicySpec:
    """What a policy file asks for, before training turns it into thresholds."""

    sql: ThresholdSpec | None = None
    mql: ThresholdSpec | None = None
    icp: tuple[Rule, ...] = ()
    exclusions: tuple[Rule, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicySpec:
        unknown = set(data) - {"sql", "mql", "icp", "exclusions"}
        if unknown:
            raise ValueError(
                f"expected sections [sql], [mql], [icp], [exclusions], got {sorted(unknown)}"
            )
        return cls(
            sql=ThresholdSpec.from_dict(data["sql"], "sql") if "sql" in data else None,
            mql=ThresholdSpec.from_dict(data["mql"], "mql") if "mql" in data else None,
            icp=tuple(Rule.parse(r) for r in data.get("icp", {}).get("rules", [])),
            exclusions=tuple(Rule.parse(r) for r in data.get("exclusions", {}).get("rules", [])),
        )


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


WHAT_IF_COLUMNS = ["threshold", "leads_per_week", "expected_win_rate", "share_of_wins_captured"]


def fit_policy(
    spec: PolicySpec | None,
    scores: np.ndarray,
    labels: np.ndarray,
    values: pd.DataFrame,
    weeks: float | None,
) -> tuple[Policy, pd.DataFrame]:
    """Thresholds placed on holdout scores as the spec asks, and the what-if table behind them.

    Without a spec, SQL starts at the top 10% of scores and MQL at the top 30%. The what-if table
    lists, for each score cut-off, the leads a week that pass it and the ICP rules and are not
    excluded, their win rate, and the share of all holdout wins they hold.
    """
    spec = spec or PolicySpec()
    grade_a, grade_b, grade_c = _quantile_cutoffs(scores)
    records = values.to_dict("records")
    allowed = np.array([not any(r.holds(v) for r in spec.exclusions) for v in records], dtype=bool)
    icp_ok = np.array([all(r.holds(v) for r in spec.icp) for v in records], dtype=bool)
    sql_pool = allowed & icp_ok
    what_if = _what_if(scores, labels, sql_pool, weeks)
    sql = _place(spec.sql, scores, labels, sql_pool, weeks, default=grade_a)
    mql = _place(spec.mql, scores, labels, allowed, weeks, default=grade_b)
    policy = Policy(
        sql_threshold=sql,
        mql_threshold=min(mql, sql),
        grade_a=grade_a,
        grade_b=grade_b,
        grade_c=grade_c,
        icp=spec.icp,
        exclusions=spec.exclusions,
    )
    return policy, what_if


def _quantile_cutoffs(scores: np.ndarray) -> tuple[int, int, int]:
    values = np.asarray(scores, dtype=float)
    a, b, c = (max(1, int(np.ceil(np.quantile(values, 1.0 - share)))) for share in (0.1, 0.3, 0.6))
    return max(a, b, c), max(b, c), c


def _place(
    spec: ThresholdSpec | None,
    scores: np.ndarray,
    labels: np.ndarray,
    pool: np.ndarray,
    weeks: float | None,
    default: int,
) -> int:
    if spec is None:
        return default
    candidates = range(1, 101)
    if spec.capacity_per_week is not None:
        if not weeks:
            raise ValueError(
                "expected timestamps to turn sales_capacity_per_week into a threshold, got data "
                "without them; use min_precision instead"
            )
        per_week = [np.sum(pool & (scores >= t)) / weeks for t in candidates]
        return int(candidates[int(np.argmin(np.abs(np.array(per_week) - spec.capacity_per_week)))])
    for t in candidates:
        chosen = pool & (scores >= t)
        if chosen.any() and labels[chosen].mean() >= spec.min_precision:
            return t
    return 100


def _what_if(
    scores: np.ndarray, labels: np.ndarray, pool: np.ndarray, weeks: float | None
) -> pd.DataFrame:
    total_wins = max(int(labels.sum()), 1)
    rows = []
    for t in range(1, 101):
        chosen = pool & (scores >= t)
        if not chosen.any():
            break
        rows.append(
            {
                "threshold": t,
                "leads_per_week": chosen.sum() / weeks if weeks else float("nan"),
                "expected_win_rate": float(labels[chosen].mean()),
                "share_of_wins_captured": float(labels[chosen].sum() / total_wins),
            }
        )
    return pd.DataFrame(rows, columns=WHAT_IF_COLUMNS)
