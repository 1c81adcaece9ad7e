"""Date features from created_at: read in UTC by both engines, missing without one, and a bad
creation time is refused naming where it is."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from features import (
    CREATED_AT,
    DATE_PARTS,
    DataContractError,
    InvalidLeadError,
    OnlineFeatures,
    build_features,
    feature_set,
    to_micros,
)
from features.timestamps import calendar_micros

DATES = feature_set([], date_parts=DATE_PARTS)
ONLINE = OnlineFeatures(DATES)


def _batch(created: pd.Series) -> pd.DataFrame:
    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(len(created))]})
    leads[CREATED_AT] = created.to_numpy()
    return build_features(leads, None, np.zeros(len(leads), dtype=np.int64), DATES)


def test_a_datetime_column_reads_in_utc() -> None:
    created = pd.Series(pd.to_datetime(["2026-03-02T01:30:00+02:00", None], utc=True))
    frame = _batch(created.dt.tz_convert("Asia/Tokyo"))
    assert frame.iloc[0].tolist() == [6.0, 23.0, 3.0]  # Sunday 1 March, 23:30 UTC
    assert frame.iloc[1].isna().all()


def test_epoch_microseconds_are_not_nanoseconds() -> None:
    micros = to_micros("2026-06-15T09:00:00Z")
    frame = _batch(pd.Series([micros, micros]))
    assert frame.iloc[0].tolist() == [0.0, 9.0, 6.0]
    assert ONLINE.compute({CREATED_AT: micros}, 0) == {
        "created_weekday": 0.0,
        "created_hour": 9.0,
        "created_month": 6.0,
    }


def test_the_online_engine_reads_text_datetimes_and_missing_alike() -> None:
    moment = datetime(2025, 12, 31, 23, 30, tzinfo=timezone(-timedelta(hours=5)))
    expected = {"created_weekday": 3.0, "created_hour": 4.0, "created_month": 1.0}
    assert ONLINE.compute({CREATED_AT: moment}, 0) == expected
    assert ONLINE.compute({CREATED_AT: moment.isoformat()}, 0) == expected
    for missing in ({}, {CREATED_AT: None}, {CREATED_AT: math.nan}):
        assert all(math.isnan(value) for value in ONLINE.compute(missing, 0).values())


def test_the_online_engine_names_the_field_it_refuses() -> None:
    with pytest.raises(InvalidLeadError) as refused:
        ONLINE.compute({CREATED_AT: "next tuesday"}, datetime(2026, 3, 1, tzinfo=UTC))
    assert refused.value.field == CREATED_AT
    assert "next tuesday" in refused.value.detail


def test_the_batch_engine_names_the_row_and_column_it_refuses() -> None:
    leads = pd.DataFrame(
        {"lead_id": ["a", "b"], CREATED_AT: ["2026-01-01T00:00:00Z", "next tuesday"]}
    )
    with pytest.raises(DataContractError) as refused:
        build_features(leads, None, [0, 0], DATES, source="leads.csv")
    error = refused.value
    assert (error.source, error.row, error.column) == ("leads.csv", 2, CREATED_AT)
    assert str(error).startswith("leads.csv, row 2, column 'created_at': expected an ISO 8601")


def test_a_creation_time_only_pandas_reads_is_read_by_the_batch_engine() -> None:
    """Files bring more formats than ISO 8601; pandas reads them, as it does for activities."""
    assert _batch(pd.Series(["03/01/2026 14:00"])).iloc[0].tolist() == [6.0, 14.0, 3.0]


def test_calendar_micros_reads_integral_floats_and_refuses_the_out_of_range() -> None:
    micros = to_micros("2026-06-15T09:00:00Z")
    assert calendar_micros(float(micros), field=CREATED_AT) == micros
    assert calendar_micros(None, field=CREATED_AT) is None
    with pytest.raises(InvalidLeadError, match="years 1 to 9999"):
        calendar_micros(-(10**18), field=CREATED_AT)
