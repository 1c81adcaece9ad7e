"""Feature declarations: date features and placeholders are declared, ordered and saved."""

from __future__ import annotations

import json

import pytest

from features import (
    CREATED_AT,
    DATE_PARTS,
    DEFAULT_FEATURES,
    DEFAULT_PLACEHOLDERS,
    CreatedAt,
    Feature,
    FeatureSet,
    InvalidFeatureError,
    LeadColumn,
    OnlineFeatures,
    feature_set,
    placeholder_key,
)

COLUMNS = [LeadColumn("industry"), LeadColumn("company_size", "numeric")]


def test_date_features_sit_between_the_attributes_and_the_activity_features() -> None:
    features = feature_set(COLUMNS, ["demo_request"], date_parts=["month", "weekday"])
    assert features.names[:4] == ["industry", "company_size", "created_month", "created_weekday"]
    assert features.names[4] == "demo_request_count_30d"
    weekday = features["created_weekday"]
    assert weekday.computation == CreatedAt("weekday")
    assert (weekday.group, weekday.kind) == ("source", "numeric")
    assert weekday.description == "Day of the week the lead was created (0 = Monday)."


def test_every_date_part_has_a_feature_in_plain_words() -> None:
    features = feature_set([], date_parts=DATE_PARTS)
    assert features.names == ["created_weekday", "created_hour", "created_month"]
    assert all(feature.description.endswith(".") for feature in features)


@pytest.mark.parametrize("parts", [["day"], ["hour", "Hour"], "hour"])
def test_an_unknown_date_part_is_refused(parts: list[str] | str) -> None:
    with pytest.raises(InvalidFeatureError, match="date part"):
        feature_set(COLUMNS, date_parts=parts)


def test_a_repeated_date_part_is_a_repeated_name() -> None:
    with pytest.raises(InvalidFeatureError, match="created_hour"):
        feature_set(COLUMNS, date_parts=["hour", "hour"])


def test_date_features_read_no_lead_attribute() -> None:
    """created_at belongs to the data contract: callers listing attribute columns skip it, and
    the online engine, walking the activity features, passes the date features by."""
    features = feature_set(COLUMNS, ["web_visit"], date_parts=DATE_PARTS)
    assert features.lead_columns() == ["company_size", "industry"]
    lead = {
        CREATED_AT: "2026-02-27T08:00:00Z",
        "activities": [{"activity_type": "web_visit", "occurred_at": "2026-02-28T08:00:00Z"}],
    }
    values = OnlineFeatures(features).compute(lead, "2026-03-01T08:00:00Z")
    assert [values[name] for name in ("created_weekday", "created_hour", "created_month")] == [
        4.0,
        8.0,
        2.0,
    ]
    assert values["activity_count_total"] == 1.0


def test_the_default_features_carry_the_date_parts_and_read_the_default_placeholders() -> None:
    dates = [f.computation.part for f in DEFAULT_FEATURES if isinstance(f.computation, CreatedAt)]
    assert dates == ["weekday", "hour", "month"]
    assert all(f.group == "source" for f in DEFAULT_FEATURES if f.name.startswith("created_"))
    assert DEFAULT_FEATURES.placeholders == DEFAULT_PLACEHOLDERS


def test_the_default_placeholders_are_spelled_as_cells_are_compared() -> None:
    assert all(placeholder_key(text) == text for text in DEFAULT_PLACEHOLDERS)
    assert len(set(DEFAULT_PLACEHOLDERS)) == len(DEFAULT_PLACEHOLDERS)
    assert {"select", "--", "n/a", "unknown", ""} <= set(DEFAULT_PLACEHOLDERS)


def test_placeholders_are_normalised_once_each_in_the_order_given() -> None:
    features = FeatureSet((), placeholders=(" Please  SELECT ", "N/A", "please select", "TBD"))
    assert features.placeholders == ("please select", "n/a", "tbd")


@pytest.mark.parametrize("placeholders", ["select", ("select", None), ("select", 0)])
def test_placeholders_must_be_texts(placeholders: object) -> None:
    with pytest.raises(InvalidFeatureError, match="placeholder"):
        FeatureSet((), placeholders=placeholders)  # type: ignore[arg-type]


def test_a_feature_set_with_dates_and_placeholders_survives_saving() -> None:
    features = feature_set(
        COLUMNS, ["web_visit"], date_parts=["hour"], placeholders=["Select", "TBD"]
    )
    saved = json.loads(json.dumps(features.to_dict()))
    assert saved["placeholders"] == ["select", "tbd"]
    assert saved["features"][2]["computation"] == {"type": "CreatedAt", "part": "hour"}
    assert FeatureSet.from_dict(saved) == features


def test_a_model_saved_before_placeholders_reads_none() -> None:
    """Serving reads cells exactly as training did, and that training knew no placeholders."""
    saved = DEFAULT_FEATURES.to_dict()
    del saved["placeholders"]
    loaded = FeatureSet.from_dict(saved)
    assert loaded.placeholders == ()
    assert loaded.features == DEFAULT_FEATURES.features


def test_a_saved_date_part_this_version_does_not_know_is_refused() -> None:
    saved = {"name": "x", "group": "source", "description": "x."}
    saved["computation"] = {"type": "CreatedAt", "part": "quarter"}
    with pytest.raises(InvalidFeatureError, match="quarter"):
        Feature.from_dict(saved)
