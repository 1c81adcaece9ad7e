"""Placing the policy: turning a policy file into score thresholds and a what-if table.

A policy file says where SQL and MQL start (by weekly sales capacity or by minimum precision),
which ideal-customer-profile (ICP) rules an SQL must pass, and which leads are excluded whatever
their score. Applying the fitted `scoring.Policy` to a lead is the runtime's job.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scoring import FLOOR_SHARE_OF_BASE_RATE, InvalidRule, Policy, Rule
from training.config import config_error, read_toml
from training.errors import ConfigError

_SECTIONS = ("sql", "mql", "icp", "exclusions")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThresholdSpec(_Section):
    """Where one threshold goes: the top N leads a week, or the lowest score precise enough."""

    sales_capacity_per_week: float | None = Field(None, gt=0)
    min_precision: float | None = Field(None, gt=0, le=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> ThresholdSpec:
        if (self.sales_capacity_per_week is None) == (self.min_precision is None):
            raise ValueError("expected exactly one of sales_capacity_per_week or min_precision")
        return self


class RuleSection(_Section):
    rules: tuple[Rule, ...] = ()

    @field_validator("rules", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> tuple[Rule, ...]:
        if not isinstance(value, list | tuple):
            raise ValueError(f"expected a list of rules like 'company_size >= 50', got {value!r}")
        try:
            return tuple(r if isinstance(r, Rule) else Rule.parse(str(r)) for r in value)
        except InvalidRule as error:
            raise ValueError(str(error)) from None


class PolicySpec(_Section):
    """What a policy file asks for, before training turns it into thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    sql: ThresholdSpec | None = None
    mql: ThresholdSpec | None = None
    icp_section: RuleSection = Field(default_factory=RuleSection, alias="icp")
    exclusions_section: RuleSection = Field(default_factory=RuleSection, alias="exclusions")

    @property
    def icp(self) -> tuple[Rule, ...]:
        return self.icp_section.rules

    @property
    def exclusions(self) -> tuple[Rule, ...]:
        return self.exclusions_section.rules

    def features(self) -> set[str]:
        """The features its rules name."""
        return {rule.feature for rule in (*self.icp, *self.exclusions)}

    def check_features(self, names: list[str], source: str | None) -> None:
        """Refuse rules about features the model does not have: they would never hold."""
        unknown = self.features() - set(names)
        if unknown:
            raise ConfigError(
                f"expected the rules to name features of the model, got {sorted(unknown)}; the "
                f"features are {names}",
                source=source,
            )

    def to_dict(self) -> dict[str, Any]:
        """The policy as its file says it: what each version logs and a retrain reads back."""
        data: dict[str, Any] = {
            name: spec.model_dump(exclude_none=True)
            for name, spec in (("sql", self.sql), ("mql", self.mql))
            if spec is not None
        }
        data["icp"] = {"rules": [str(rule) for rule in self.icp]}
        data["exclusions"] = {"rules": [str(rule) for rule in self.exclusions]}
        return data

    def digest(self) -> str:
        """A short hash of the agreement: equal hashes, equal policies."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @classmethod
    def from_rules(cls, icp: tuple[Rule, ...], exclusions: tuple[Rule, ...]) -> PolicySpec:
        """The rules of a fitted policy, without its threshold requests (models saved before
        versions logged their policy file)."""
        return cls(icp=RuleSection(rules=icp), exclusions=RuleSection(rules=exclusions))

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | None = None) -> PolicySpec:
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise config_error(error, source or "the policy", _SECTIONS) from None


def policy_change(before: PolicySpec | None, after: PolicySpec | None) -> str | None:
    """What changed between two policies, in words; None when they are the same."""
    if (before is None and after is None) or (
        before is not None and after is not None and before.digest() == after.digest()
    ):
        return None
    old, new = before or PolicySpec(), after or PolicySpec()
    changes = []
    for name, rules_before, rules_after in (
        ("ICP", old.icp, new.icp),
        ("exclusions", old.exclusions, new.exclusions),
    ):
        added = [r.words() for r in rules_after if r not in rules_before]
        dropped = [r.words() for r in rules_before if r not in rules_after]
        if added:
            changes.append(f"{name} adds: {'; '.join(added)}")
        if dropped:
            changes.append(f"{name} drops: {'; '.join(dropped)}")
    for name in ("sql", "mql"):
        was, now = getattr(old, name), getattr(new, name)
        if was != now:
            changes.append(f"{name.upper()} placement {_placement(was)} -> {_placement(now)}")
    return "; ".join(changes) or "the policy file changed"


def _placement(spec: ThresholdSpec | None) -> str:
    if spec is None:
        return "by default"
    if spec.sales_capacity_per_week is not None:
        return f"{spec.sales_capacity_per_week:g} leads a week"
    return f"precision {spec.min_precision:g}"


@dataclass(frozen=True)
class PolicyChoice:
    """The policy a version trains with, and where it came from, in words."""

    spec: PolicySpec | None
    origin: str
    inherited: bool = False  # kept from the serving champion, not named for this run

    def metadata(self) -> dict[str, Any]:
        """What the model carries about its policy, for /v1/model and the next retrain."""
        return {
            "origin": self.origin,
            "hash": None if self.spec is None else self.spec.digest(),
            "spec": None if self.spec is None else self.spec.to_dict(),
        }


WHAT_IF_COLUMNS = ["threshold", "leads_per_week", "expected_win_rate", "share_of_wins_captured"]


def fit_policy(
    spec: PolicySpec | None,
    scores: np.ndarray,
    labels: np.ndarray,
    values: pd.DataFrame,
    weeks: float | None,
    base_rate: float,
) -> tuple[Policy, pd.DataFrame]:
    """Thresholds placed on holdout scores as the spec asks, and the what-if table behind them.

    Without a spec, SQL starts at the top 10% of scores and MQL at the top 30%. Below MQL a lead
    is nurtured, unless its score is under the floor: half the training rows' win rate (x 100),
    where its chance is under half the average lead's. The what-if table lists, for each score
    cut-off, the leads a week that pass it and the ICP rules and are not excluded, their win
    rate, and the share of all holdout wins they hold.
    """
    spec = spec or PolicySpec()
    top_10, top_30 = _quantile_cutoffs(scores)
    records = values.to_dict("records")
    allowed = np.array([not any(r.holds(v) for r in spec.exclusions) for v in records], dtype=bool)
    icp_ok = np.array([all(r.holds(v) for r in spec.icp) for v in records], dtype=bool)
    sql_pool = allowed & icp_ok
    what_if = _what_if(scores, labels, sql_pool, weeks)
    sql = _place(spec.sql, scores, labels, sql_pool, weeks, default=top_10)
    mql = min(_place(spec.mql, scores, labels, allowed, weeks, default=top_30), sql)
    floor = min(int(np.ceil(100 * FLOOR_SHARE_OF_BASE_RATE * base_rate)), mql)
    policy = Policy(
        sql_threshold=sql,
        mql_threshold=mql,
        floor=floor,
        icp=spec.icp,
        exclusions=spec.exclusions,
    )
    return policy, what_if


def _quantile_cutoffs(scores: np.ndarray) -> tuple[int, int]:
    """The scores where the top 10% and the top 30% begin."""
    values = np.asarray(scores, dtype=float)
    top_10, top_30 = (
        max(1, int(np.ceil(np.quantile(values, 1.0 - share)))) for share in (0.1, 0.3)
    )
    return max(top_10, top_30), top_30


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
    if spec.sales_capacity_per_week is not None:
        if not weeks:
            raise ConfigError(
                "expected timestamps to turn sales_capacity_per_week into a threshold, got data "
                "without them; use min_precision instead"
            )
        per_week = [np.sum(pool & (scores >= t)) / weeks for t in candidates]
        return int(
            candidates[int(np.argmin(np.abs(np.array(per_week) - spec.sales_capacity_per_week)))]
        )
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


def load_policy(path: str | Path) -> PolicySpec:
    """Read and check a policy file; every mistake is named by file, section and key."""
    file = Path(path)
    return PolicySpec.from_dict(read_toml(file, "a policy file"), str(file))
