"""The report's words: features by their descriptions, values as people say them, and numbers
in ranges of whole units sorted by value ("10-49 employees", with an en dash), each value in
its own range."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest

from features import DEFAULT_FEATURES, Feature
from scoring import Rule
from training.report.ranges import MISSING, group_values
from training.report.words import (
    RANGE_DASH,
    label,
    range_words,
    reason_words,
    rule_words,
    value_words,
)

RANGE = re.compile(rf"^(?P<low>[\d,]+)({RANGE_DASH}(?P<high>[\d,]+)| or more)? (?P<unit>\w+)$")


def feature(name: str) -> Feature:
    return DEFAULT_FEATURES[name]


def _bounds(words: str) -> tuple[float, float]:
    match = RANGE.match(words)
    assert match, words
    low = float(match["low"].replace(",", ""))
    high = match["high"]
    if words.endswith(f"or more {match['unit']}"):
        return low, np.inf
    return low, low if high is None else float(high.replace(",", ""))


def test_company_sizes_fall_in_ranges_of_employees_sorted_by_value() -> None:
    sizes = np.random.default_rng(3).lognormal(4, 1.5, 2_000).round()
    values = pd.Series(np.r_[sizes, [np.nan] * 50])
    groups, words = group_values(values, feature("company_size"))
    assert len(words) == 5 and all(w.endswith(" employees") for w in words)
    assert words[-1].endswith(" or more employees") and RANGE_DASH in words[0]
    bounds = [_bounds(w) for w in words]
    assert [low for low, _ in bounds] == sorted(low for low, _ in bounds)
    # The ranges meet without a gap or an overlap, and each size lies in its own.
    assert all(high + 1 == next_low for (_, high), (next_low, _) in itertools.pairwise(bounds))
    for value, group in zip(values, groups, strict=True):
        if np.isnan(value):
            assert group == MISSING
        else:
            low, high = bounds[group]
            assert low <= value <= high
    assert value_words(feature("company_size"), None) == "not known"


def test_days_count_whole_days_and_a_missing_day_means_never() -> None:
    days = feature("days_since_last_demo_request")
    values = pd.Series([0.2, 0.9, 1.5, 1.99, 2.7, np.nan])
    groups, words = group_values(values, days)
    assert words == ["0 days", "1 day", "2 days"]
    assert groups.tolist() == [0, 0, 1, 1, 2, MISSING]
    assert value_words(days, None) == "never"
    many = pd.Series(np.linspace(0, 30, 301))
    _, words = group_values(many, days)
    assert words[0].startswith(f"0{RANGE_DASH}") and all(w.endswith(" days") for w in words)
    assert range_words(days, 0, 2) == f"0{RANGE_DASH}2 days"


def test_counts_calendar_parts_and_levels_read_as_people_say_them() -> None:
    assert range_words(feature("demo_request_count_30d"), 1, 1) == "1 event"
    assert range_words(feature("activity_count_total"), 3, 7) == f"3{RANGE_DASH}7 activities"
    weekday = feature("created_weekday")
    _, words = group_values(pd.Series([6, 0, 2, 0]), weekday)
    assert words == ["Monday", "Wednesday", "Sunday"]
    _, words = group_values(pd.Series(np.arange(24.0).repeat(3)), feature("created_hour"))
    assert words[0].startswith("00:00 to ") and words[-1].endswith(":00 to 23:59 UTC")
    _, words = group_values(pd.Series(np.arange(1, 13).repeat(2)), feature("created_month"))
    assert words[0] == "January" and words[-1] == "December"
    seniority = feature("seniority")
    _, words = group_values(pd.Series(["student", "vp", "c_level", None]), seniority)
    assert words == ["C-level", "VP", "student"]
    assert value_words(feature("email_kind"), "free") == "free webmail address"


def test_ranges_are_typeset_with_an_en_dash() -> None:
    assert RANGE_DASH == "\N{EN DASH}"


def test_labels_are_descriptions_without_asides() -> None:
    assert label(feature("company_size")) == "Number of employees at the lead's company"
    assert label(feature("seniority")) == "Seniority read from the job title"
    assert all("_" not in label(f) for f in DEFAULT_FEATURES)


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("company_size >= 10", "company size is at least 10 employees"),
        ("seniority in ['c_level', 'vp']", "seniority is C-level or VP"),
        ("seniority == 'student'", "seniority is student"),
        ("days_since_last_demo_request <= 7", "days since last demo request is at most 7 days"),
    ],
)
def test_rules_are_said_in_words_with_units_and_plain_values(rule: str, words: str) -> None:
    parsed = Rule.parse(rule)
    assert rule_words(parsed, feature(parsed.feature)) == words


def test_a_reason_names_the_column_and_says_which_way_it_pushed() -> None:
    size, demo = feature("company_size"), feature("days_since_last_demo_request")
    assert reason_words(size, 250.0, 0.4, "Company size is 250") == (
        "Company size: 250 employees (raises the score)"
    )
    assert reason_words(feature("seniority"), "c_level", 0.3, "Seniority is c_level") == (
        "Job title: C-level (raises the score)"
    )
    assert reason_words(demo, None, -0.2, "No demo request yet") == (
        "No demo request yet (lowers the score)"
    )
    unseen = "Industry 'space' is new to the model (scored as unknown)"
    said = reason_words(feature("industry"), "space", -0.1, unseen)
    assert said == f"{unseen} (lowers the score)"
