"""Sentences for the features a dataset config declares and for account features."""

from __future__ import annotations

import math

from features import LeadColumn, declared_feature
from scoring.wording import sentence


def test_declared_features_read_as_plain_sentences() -> None:
    intent = declared_feature(
        "demo_intent", "decayed", "engagement", "Intent.", weights={"demo_request": 3.0},
        half_life_days=7,
    )  # fmt: skip
    assert sentence(intent, 2.345) == "Demo intent is 2.3 (halves every 7 days)"
    assert sentence(intent, None) == "Demo intent is 0 (halves every 7 days)"
    ratio = declared_feature(
        "click_rate", "ratio", "engagement", "Clicks per open.", numerator=["email_click"],
        denominator=["email_open"],
    )  # fmt: skip
    assert sentence(ratio, 0.5) == "Click rate is 0.50"
    assert sentence(ratio, math.nan) == "Click rate is unknown: no email open yet"


def test_account_features_say_what_they_count() -> None:
    feature = LeadColumn(
        "account_engaged_contacts_30d", "numeric", group="account",
        description="Other contacts of the lead's account who engaged in the last 30 days.",
    ).feature()  # fmt: skip
    assert sentence(feature, 3.0) == (
        "Other contacts of the lead's account who engaged in the last 30 days: 3"
    )
    assert sentence(feature, None) == "No account to compare with"
