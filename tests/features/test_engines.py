"""The batch and online engines agree exactly, and neither ever looks past as-of."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features import DEFAULT_FEATURES, OnlineFeatures, build_features
from features.schema import ACTIVITY_TYPES
from features.timestamps import to_micros

AS_OF = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ONLINE = OnlineFeatures(DEFAULT_FEATURES)

activity_types = st.sampled_from(
    [*ACTIVITY_TYPES, "Demo_Request", " pricing_page_view ", "chat_started"]
)
offsets = st.integers(min_value=-60 * 86_400_000_000, max_value=5 * 86_400_000_000)
activities = st.lists(st.tuples(activity_types, offsets), max_size=30)
leads = st.fixed_dictionaries(
    {
        "lead_id": st.just("L1"),
        "source": st.sampled_from(["referral", "Paid_Search", " webinar ", None]),
        "campaign": st.sampled_from(["li-abm-q1", None]),
        "country": st.sampled_from(["US", "us ", "DE", None]),
        "industry": st.sampled_from(["Software", "SOFTWARE", "Retail", None]),
        "company_size": st.one_of(st.none(), st.integers(1, 100_000), st.floats(1, 1e5)),
        "job_title": st.one_of(st.none(), st.text(max_size=30), st.sampled_from(["VP Sales"])),
        "email_domain": st.sampled_from(["gmail.com", "acme.example", None]),
    }
)


def _timestamp(offset_us: int) -> datetime:
    return AS_OF + timedelta(microseconds=offset_us)


def _batch(lead: dict, events: list[tuple[str, int]], as_of: datetime) -> dict:
    frame = pd.DataFrame([lead])
    activity_frame = pd.DataFrame(
        {
            "lead_id": ["L1"] * len(events),
            "occurred_at": pd.to_datetime([_timestamp(o) for _, o in events], utc=True),
            "activity_type": [t for t, _ in events],
        }
    )
    features = build_features(frame, activity_frame, [to_micros(as_of)])
    return features.iloc[0].to_dict()


def _online(lead: dict, events: list[tuple[str, int]], as_of: datetime) -> dict:
    payload = {
        **lead,
        "activities": [{"activity_type": t, "occurred_at": _timestamp(o)} for t, o in events],
    }
    return ONLINE.compute(payload, as_of)


def _same(left: dict, right: dict) -> bool:
    assert left.keys() == right.keys()
    for name in left:
        a, b = left[name], right[name]
        a_missing = a is None or (isinstance(a, float) and math.isnan(a))
        b_missing = b is None or (isinstance(b, float) and math.isnan(b))
        if a_missing or b_missing:
            assert a_missing and b_missing, (name, a, b)
        else:
            assert a == b, (name, a, b)
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lead=leads, events=activities)
def test_batch_and_online_engines_return_identical_vectors(lead: dict, events: list) -> None:
    # Duplicated events are part of real exports: repeat some to exercise de-duplication.
    events = events + events[:3]
    assert _same(_batch(lead, events, AS_OF), _online(lead, events, AS_OF))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lead=leads, events=activities, later=activities)
def test_activities_after_as_of_never_change_features(
    lead: dict, events: list, later: list
) -> None:
    future = [(kind, abs(offset) + 1) for kind, offset in later]
    before_online = _online(lead, events, AS_OF)
    assert _same(before_online, _online(lead, events + future, AS_OF))
    assert _same(_batch(lead, events, AS_OF), _batch(lead, events + future, AS_OF))


def test_batch_engine_computes_each_lead_at_its_own_as_of() -> None:
    leads_frame = pd.DataFrame({"lead_id": ["A", "B"], "source": ["referral", "webinar"]})
    events = pd.DataFrame(
        {
            "lead_id": ["A", "B", "B"],
            "occurred_at": pd.to_datetime(
                ["2026-02-27T12:00:00Z", "2026-02-27T12:00:00Z", "2026-02-28T12:00:00Z"]
            ),
            "activity_type": ["demo_request", "demo_request", "demo_request"],
        }
    )
    as_of = [to_micros(AS_OF), to_micros(datetime(2026, 2, 28, tzinfo=UTC))]
    features = build_features(leads_frame, events, as_of)
    assert features.loc["A", "demo_request_count_30d"] == 1.0
    assert features.loc["A", "days_since_last_demo_request"] == 2.0
    # B's second demo request is after B's as-of and must not be seen.
    assert features.loc["B", "demo_request_count_30d"] == 1.0
    assert features.loc["B", "days_since_last_demo_request"] == 0.5


def test_window_counts_exclude_events_older_than_the_window() -> None:
    lead = {"lead_id": "L1", "activities": [
        {"activity_type": "web_visit", "occurred_at": AS_OF - timedelta(days=30)},
        {"activity_type": "web_visit", "occurred_at": AS_OF - timedelta(days=29, hours=23)},
    ]}  # fmt: skip
    values = ONLINE.compute(lead, AS_OF)
    assert values["web_visit_count_30d"] == 1.0
    assert values["activity_count_total"] == 2.0
    assert np.isnan(values["days_since_last_demo_request"])
