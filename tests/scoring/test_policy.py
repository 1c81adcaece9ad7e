"""The policy applied: rules, recommendations in plain words, and grades that agree with them."""

from __future__ import annotations

import pytest

from scoring import InvalidRule, Policy, Rule

POLICY = Policy(
    sql_threshold=70, mql_threshold=40, floor=20,
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


def test_recommendations_say_why_in_plain_words() -> None:
    assert POLICY.recommend(82, FIT) == (
        "SQL", "Meets the ICP, and score 82 is at or above the SQL threshold 70"
    )  # fmt: skip
    small = {**FIT, "company_size": 10.0}
    assert POLICY.recommend(82, small) == (
        "MQL", "Score 82 is at or above the SQL threshold 70, but the ICP asks that company size "
        "is at least 50",
    )  # fmt: skip
    assert POLICY.recommend(45, FIT)[0] == "MQL"
    assert POLICY.recommend(30, FIT) == (
        "nurture", "Score 30 is below the MQL threshold 40: nurture"
    )  # fmt: skip
    assert POLICY.recommend(10, FIT)[0] == "disqualified"
    assert "below the floor 20" in POLICY.recommend(10, FIT)[1]
    excluded = POLICY.recommend(99, {**FIT, "industry": "student"})
    assert excluded == ("disqualified", "Excluded by the policy: industry is student")
    for score in range(101):
        for values in (FIT, small):
            reason = POLICY.recommend(score, values)[1]
            assert not any(token in reason for token in (">=", "<=", "==", "!=", "[", "]"))


def test_rules_read_as_plain_english() -> None:
    assert Rule.parse("company_size >= 10").words() == "company size is at least 10"
    assert Rule.parse("seniority in ['c_level', 'vp', 'director']").words() == (
        "seniority is one of c_level, vp or director"
    )
    assert Rule.parse("country != 'US'").words() == "country is not US"


def test_grades_and_recommendations_never_contradict() -> None:
    agree = {"SQL": {"A"}, "MQL": {"A", "B"}, "nurture": {"C"}, "disqualified": {"D"}}
    for score in range(101):
        for values in (FIT, {**FIT, "company_size": 10.0}):
            recommendation, _ = POLICY.recommend(score, values)
            assert POLICY.grade(score) in agree[recommendation], (score, values)
    # An ICP miss keeps the A of its score: the reason says which rule it failed.
    assert POLICY.grade(82) == "A"
