"""Form placeholders ("Select", "--", "N/A") read as missing, and the data profile counts them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features import (
    DEFAULT_PLACEHOLDERS,
    LeadColumn,
    OnlineFeatures,
    build_features,
    feature_set,
    placeholder_counts,
    placeholder_key,
    read_numbers,
)


def test_placeholders_compare_as_category_spells_text() -> None:
    assert placeholder_key(" -- SELECT  -- ") == "-- select --"
    assert placeholder_key("") == ""
    assert placeholder_key(0) is None
    assert placeholder_key(None) is None


def test_placeholder_counts_keeps_each_spelling_as_written() -> None:
    leads = pd.DataFrame(
        {
            "industry": ["Select", "software", "Select", "select ", None, "N/A"],
            "title": ["VP", "CEO", "Intern", "Owner", "CTO", "Manager"],
            "size": [1, 2, 3, 4, 5, 6],
            "region": ["--", "unknown", 3, True, None, "--"],
        }
    )
    counts = placeholder_counts(
        leads, ["industry", "title", "size", "region", "absent"], DEFAULT_PLACEHOLDERS
    )
    assert counts == {
        "industry": {"Select": 2, "select ": 1, "N/A": 1},
        "region": {"--": 2, "unknown": 1},
    }
    assert list(counts["industry"]) == ["Select", "select ", "N/A"]  # most frequent first


def test_placeholder_counts_reads_the_list_given() -> None:
    leads = pd.DataFrame({"industry": ["TBD", "Select", " tbd"]})
    assert placeholder_counts(leads, ["industry"], [" TBD "]) == {"industry": {"TBD": 1, " tbd": 1}}
    assert placeholder_counts(leads, ["industry"], []) == {}


def test_read_numbers_reads_listed_placeholders_as_missing() -> None:
    values = pd.Series(["12", "unknown", " -- ", "1,000", None], dtype=object)
    parsed, refused = read_numbers(values, placeholders=DEFAULT_PLACEHOLDERS)
    assert np.isnan(parsed[[1, 2, 4]]).all() and parsed[0] == 12.0
    assert refused.tolist() == [False, False, False, True, False]
    _, refused_without = read_numbers(values)
    assert refused_without.tolist() == [False, True, True, True, False]


def test_a_placeholder_job_title_has_no_seniority_in_either_engine() -> None:
    """The bug placeholders fix: 'Select' read as a title made a lead an individual contributor."""
    features = feature_set([LeadColumn("job_title", transform="seniority", name="seniority")])
    leads = pd.DataFrame({"lead_id": ["a", "b"], "job_title": ["Select", "VP Sales"]})
    batch = build_features(leads, None, [0, 0], features)
    assert batch["seniority"].tolist() == [None, "vp"]
    online = OnlineFeatures(features)
    assert online.compute({"job_title": " SELECT "}, 0) == {"seniority": None}
    assert online.compute({"job_title": "N/A"}, 0) == {"seniority": None}
