"""The policy applied: rules, and recommendations with their reasons."""

from __future__ import annotations

import pytest

from scoring import InvalidRule, Policy, Rule

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
    with pytest.raises(InvalidRule, match="expected a rule like"):
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
