"""Declared features: decayed intent and activity ratios, their values, checks and saved form.

Both engines are held equal on random declarations by the property tests of `test_engines.py`;
here each computation meets values worked out by hand, and the mistakes it refuses.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from features import (
    ActivityCount,
    ActivityRatio,
    DaysSinceLast,
    DecayedIntent,
    Feature,
    FeatureSet,
    InvalidFeatureError,
    OnlineFeatures,
    activity_features,
    declared_feature,
)
from tests.features.test_engines import AS_OF, Case, _agree, _vector

INTENT = declared_feature(
    "demo_intent",
    "decayed",
    "engagement",
    "Buying intent, each activity counting half as much a week later.",
    weights={"demo_request": 3.0, " Email_Open": 1.0},
    half_life_days=7,
)
RECENT_INTENT = declared_feature(
    "recent_intent",
    "decayed",
    "engagement",
    "Buying intent in the last 10 days.",
    weights={"demo_request": 3.0, "email_open": 1.0},
    half_life_days=7,
    window_days=10,
)
CLICK_RATE = declared_feature(
    "click_rate",
    "ratio",
    "engagement",
    "Email clicks per email opened in the last 30 days.",
    numerator=["email_click"],
    denominator=["email_open"],
    window_days=30,
)
DECLARED = FeatureSet((INTENT, RECENT_INTENT, CLICK_RATE))


def test_decayed_intent_and_ratios_are_worked_out_as_by_hand_in_both_engines() -> None:
    """A demo request a week old weighs half of 3, an email opened two weeks ago a quarter of 1;
    a web visit has no weight, a repeated event counts once and one after as-of not at all."""
    events = [
        ("L0", "demo_request", AS_OF - timedelta(days=7)),
        ("L0", "email_open", AS_OF - timedelta(days=14)),
        ("L0", "Email  Open", AS_OF - timedelta(days=4)),  # 'email open', a type without weight
        ("L0", "email_open", AS_OF - timedelta(days=14)),  # a sync retry
        ("L0", "email_click", AS_OF - timedelta(days=14)),
        ("L0", "web_visit", AS_OF - timedelta(days=1)),
        ("L0", "demo_request", AS_OF + timedelta(days=1)),
    ]
    leads = ({"lead_id": "L0"}, {"lead_id": "L1"})
    case = Case(DECLARED, leads, frozenset(), (AS_OF, AS_OF), tuple(events))
    expected = [
        {"demo_intent": 3 * 0.5 + 0.25, "recent_intent": 1.5, "click_rate": 1.0},
        {"demo_intent": 0.0, "recent_intent": 0.0, "click_rate": math.nan},
    ]
    assert _agree(case) == [_vector(values, DECLARED) for values in expected]


def test_declared_activity_types_are_not_reported_unused() -> None:
    lead = {"activities": [{"activity_type": "Email_Click", "occurred_at": AS_OF}]}
    values, unused = OnlineFeatures(DECLARED).compute_checked(lead, AS_OF)
    assert math.isnan(values["click_rate"])  # no email opened: missing
    assert unused.types == {}


def test_declared_features_survive_saving_with_their_weights_as_a_table() -> None:
    saved = json.loads(json.dumps(DECLARED.to_dict()))
    assert saved["features"][0]["computation"] == {
        "type": "DecayedIntent",
        "weights": {"demo_request": 3.0, " Email_Open": 1.0},
        "half_life_days": 7.0,
        "window_days": None,
    }
    assert saved["features"][2]["computation"] == {
        "type": "ActivityRatio",
        "numerator_types": ["email_click"],
        "denominator_types": ["email_open"],
        "window_days": 30,
    }
    assert FeatureSet.from_dict(saved) == DECLARED


def test_a_saved_half_life_in_whole_days_reads_as_the_same_declaration() -> None:
    saved = INTENT.to_dict()
    saved["computation"]["half_life_days"] = 7
    assert Feature.from_dict(saved) == INTENT
    assert hash(Feature.from_dict(saved)) == hash(INTENT)


def test_decayed_weights_are_read_once_per_type_in_alphabetical_order() -> None:
    intent = DecayedIntent((("Web_Visit", 0.5), (" demo_request", 3)), 2.0)
    assert intent.tracked_weights() == {"demo_request": 3.0, "web_visit": 0.5}
    assert list(intent.tracked_weights()) == ["demo_request", "web_visit"]
    assert intent.half_life_micros == 2 * 86_400_000_000


@pytest.mark.parametrize(
    ("build", "refusal"),
    [
        (lambda: DecayedIntent((), 7), "weights as .* pairs"),
        (lambda: DecayedIntent({"demo_request": 1.0}, 7), "weights as .* pairs"),  # type: ignore[arg-type]
        (lambda: DecayedIntent((("demo_request", 1.0),), 0), "half_life_days above 0, got 0"),
        (lambda: DecayedIntent((("demo_request", 1.0),), -7), "half_life_days above 0"),
        (lambda: DecayedIntent((("demo_request", 1.0),), math.inf), "half_life_days as a finite"),
        (lambda: DecayedIntent((("demo_request", 1.0),), math.nan), "half_life_days as a finite"),
        (lambda: DecayedIntent((("demo_request", math.inf),), 7), "weight of 'demo_request'"),
        (lambda: DecayedIntent((("demo_request", True),), 7), "weight of 'demo_request'"),
        (lambda: DecayedIntent((("Demo_Request", 1.0), ("demo_request", 2.0)), 7), "once"),
        (lambda: DecayedIntent((("  ", 1.0),), 7), "once in weights"),
        (lambda: DecayedIntent((("demo_request", 1.0),), 7, 0), "window_days above 0"),
        (lambda: ActivityRatio((), ("email_open",)), "numerator_types as a list"),
        (lambda: ActivityRatio(("email_click",), "email_open"), "denominator_types as a list"),
        (lambda: ActivityRatio(("email_click",), (" ",)), "denominator_types as a list"),
        (lambda: ActivityRatio(("email_click",), ("email_open",), -1), "window_days above 0"),
    ],
)
def test_a_computation_refuses_what_it_cannot_compute(
    build: Callable[[], object], refusal: str
) -> None:
    with pytest.raises(InvalidFeatureError, match=refusal):
        build()


@pytest.mark.parametrize(
    ("declaration", "refusal"),
    [
        ({"type": "decay", "weights": {"a": 1.0}, "half_life_days": 7}, "type among"),
        ({"type": "count", "group": "fun", "activity_types": ["a"]}, "group among"),
        ({"type": "count", "description": " ", "activity_types": ["a"]}, "plain words"),
        ({"type": "decayed", "weights": {"a": 1.0}}, r"keys \['weights', 'half_life_days'\]"),
        (
            {"type": "days_since", "activity_types": ["a"], "window_days": 7},
            r"got \['activity_types', 'window_days'\]",
        ),
        ({"type": "decayed", "weights": [("a", 1.0)], "half_life_days": 7}, "as a table"),
        ({"type": "count", "activity_types": "demo_request"}, "activity_types as a list"),
    ],
)
def test_declared_feature_refuses_a_declaration_it_cannot_build(
    declaration: dict[str, Any], refusal: str
) -> None:
    arguments = {"group": "engagement", "description": "Something.", **declaration}
    with pytest.raises(InvalidFeatureError, match=refusal):
        declared_feature("x", **arguments)


def test_the_default_activity_features_are_named_described_and_computed_as_before() -> None:
    """They are declarations too now; a saved model must still find them as they were."""
    assert activity_features(["demo_request", "web_visit"], recency_types=["demo_request"]) == [
        Feature(
            "demo_request_count_30d",
            "engagement",
            "Number of demo request events in the last 30 days.",
            ActivityCount(("demo_request",), 30.0),
        ),
        Feature(
            "web_visit_count_30d",
            "engagement",
            "Number of web visit events in the last 30 days.",
            ActivityCount(("web_visit",), 30.0),
        ),
        Feature(
            "activity_count_total",
            "engagement",
            "Number of recorded activities of any kind so far.",
            ActivityCount(("demo_request", "web_visit")),
        ),
        Feature(
            "days_since_last_activity",
            "engagement",
            "Days since the lead last did anything we recorded.",
            DaysSinceLast(("demo_request", "web_visit")),
        ),
        Feature(
            "days_since_last_demo_request",
            "engagement",
            "Days since the lead's last demo request.",
            DaysSinceLast(("demo_request",)),
        ),
    ]
