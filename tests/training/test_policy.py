"""Placing the policy: thresholds by capacity or precision, the what-if table, the policy file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training import ConfigError
from training.policy import PolicySpec, fit_policy


def test_capacity_places_the_sql_threshold_at_the_top_n_a_week() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 101, 10_000)
    labels = (rng.random(10_000) < scores / 100).astype(int)
    values = pd.DataFrame({"company_size": rng.choice([5.0, 100.0], 10_000)})
    spec = PolicySpec.from_dict(
        {"sql": {"sales_capacity_per_week": 50}, "mql": {"min_precision": 0.7},
         "icp": {"rules": ["company_size >= 50"]}}
    )  # fmt: skip
    policy, what_if = fit_policy(spec, scores, labels, values, weeks=10.0)
    sql_per_week = np.sum((scores >= policy.sql_threshold) & (values["company_size"] >= 50)) / 10
    assert abs(sql_per_week - 50) / 50 <= 0.10
    chosen = scores >= policy.mql_threshold
    assert labels[chosen].mean() >= 0.7 > labels[scores >= policy.mql_threshold - 1].mean()
    assert list(what_if.columns) == [
        "threshold", "leads_per_week", "expected_win_rate", "share_of_wins_captured"
    ]  # fmt: skip
    assert what_if["share_of_wins_captured"].is_monotonic_decreasing


def test_a_policy_file_with_both_ways_for_one_threshold_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"p.toml: \[sql\]: expected exactly one of"):
        PolicySpec.from_dict(
            {"sql": {"sales_capacity_per_week": 5, "min_precision": 0.5}}, "p.toml"
        )


def test_policy_file_mistakes_name_the_section_and_key() -> None:
    with pytest.raises(ConfigError, match=r"\[icp\] rules: expected a list of rules"):
        PolicySpec.from_dict({"icp": {"rules": "company_size >= 5"}}, "p.toml")
    with pytest.raises(ConfigError, match=r"\[exclusions\] rules: expected a rule like"):
        PolicySpec.from_dict({"exclusions": {"rules": ["size is big"]}}, "p.toml")
    with pytest.raises(ConfigError, match=r"\[sales\]: unknown section"):
        PolicySpec.from_dict({"sales": {}}, "p.toml")
    spec = PolicySpec.from_dict({"icp": {"rules": ["seniority == 'vp'"]}}, "p.toml")
    with pytest.raises(ConfigError, match=r"rules to name features of the model.*\['seniority'\]"):
        spec.check_features(["industry"], "p.toml")
