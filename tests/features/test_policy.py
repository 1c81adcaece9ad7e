"""The policy: rules, recommendations with their reasons, and thresholds placed by capacity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.policy import Policy, PolicySpec, Rule, fit_policy

POLICY = Policy(
    sql_threshold=70, mql_threshold=40, grade_a=70, grade_b=40, grade_c=20,
    icp=(Rule.parse("company_size >= 50"), Rule.parse("seniority in ['vp', 'director']")),
    exclusions=(Rule.parse("industry == 'student'"),),
)  # fmt: skip
FIT = {"company_size": 200.0, "seniority": "vp", "industry": "software"}


def test_rules_parse_and_treat_missing_values_as_not_met() -> None:
    rule = Rule.parse("seniority not in ['student', 'individual']")
    assert rule.holds({"seniority": "vp"}) and not rule.holds({"seniority": "student"})
    assert not Rule.parse("company_size >= 50").holds({"company_size": float("nan")})
    assert not Rule.parse("company_size >= 50").holds({"company_size": "lots"})
    with pytest.raises(ValueError, match="expected a rule like"):
        Rule.parse("company size is big")


def test_recommendations_say_why() -> None:
    assert POLICY.recommend(82, FIT) == (
        "SQL", "Meets ICP rules and score 82 >= SQL threshold 70"
    )  # fmt: skip
    small = {**FIT, "company_size": 10.0}
    assert POLICY.recommend(82, small) == (
        "MQL", "Score 82 >= SQL threshold 70 but fails ICP rule company_size >= 50"
    )  # fmt: skip
    assert POLICY.recommend(45, FIT)[0] == "MQL"
    assert POLICY.recommend(10, FIT) == ("disqualified", "Score 10 < MQL threshold 40")
    excluded = POLICY.recommend(99, {**FIT, "industry": "student"})
    assert excluded == ("disqualified", "Excluded by the policy: industry == 'student'")


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
    with pytest.raises(ValueError, match="exactly one of"):
        PolicySpec.from_dict({"sql": {"sales_capacity_per_week": 5, "min_precision": 0.5}})
