"""Buckets by a hash of lead_id: stable everywhere, every row once, errors named at their origin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import DataContractError, build_features
from features.partitions import (
    ORIGIN,
    ORIGIN_ROW,
    bucket_features,
    buckets_of,
    parquet_files,
    read_bucket,
    write_buckets,
)

IDS = pd.Series(["L000001", "L000002", "0042", "lead-\u00e9", "L000003"], dtype=object)


def test_a_lead_lands_in_the_same_bucket_in_another_process_and_as_a_number_or_text() -> None:
    here = buckets_of(IDS, 7).tolist()
    code = (
        "import pandas as pd; from features.partitions import buckets_of; "
        f"print(buckets_of(pd.Series({IDS.tolist()!r}, dtype=object), 7).tolist())"
    )
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert there.strip() == str(here)
    assert all(0 <= b < 7 for b in here)
    assert (
        buckets_of(pd.Series([42, 7]), 5).tolist() == buckets_of(pd.Series(["42", "7"]), 5).tolist()
    )
    spread = np.bincount(buckets_of(pd.Series([f"L{i:07d}" for i in range(20_000)]), 8))
    assert spread.min() > 2_000  # about 2,500 each: the hash spreads leads evenly
    with pytest.raises(ValueError, match="at least 1 bucket"):
        buckets_of(IDS, 0)


def test_every_row_is_laid_out_once_with_its_origin_and_no_partial_file(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    rows = pd.DataFrame({"lead_id": [f"L{i}" for i in range(300)], "x": np.arange(300)})
    rows.iloc[:120].to_parquet(inputs / "a.parquet")
    rows.iloc[120:].rename(columns={"lead_id": "Lead ID"}).to_parquet(inputs / "b.parquet")
    files = parquet_files(inputs)
    assert [f.name for f in files] == ["a.parquet", "b.parquet"]
    root = tmp_path / "buckets"
    assert write_buckets(files[0], root, 4, batch_rows=50) == 120  # in 3 batches
    assert write_buckets(files[1], root, 4, renames={"Lead ID": "lead_id"}) == 180
    write_buckets(files[0], root, 4, batch_rows=50)  # run twice: its files replaced, no row twice
    laid = pd.concat([read_bucket(root, b) for b in range(4)], ignore_index=True)
    assert sorted(laid["lead_id"]) == sorted(rows["lead_id"])
    assert not list(root.rglob("*.partial"))
    by_id = laid.set_index("lead_id")
    assert by_id.loc["L5", "_origin_file"].endswith("a.parquet")
    assert by_id.loc["L5", ORIGIN_ROW] == 6
    assert by_id.loc["L130", "_origin_file"].endswith("b.parquet")
    assert by_id.loc["L130", ORIGIN_ROW] == 11
    for bucket in range(4):
        ids = read_bucket(root, bucket)["lead_id"]
        assert set(buckets_of(ids, 4)) == {bucket}
    assert read_bucket(tmp_path / "nothing", 0) is None


def test_a_location_is_a_file_a_folder_or_a_glob_and_nothing_found_says_so(tmp_path: Path) -> None:
    (tmp_path / "day=1").mkdir()
    pd.DataFrame({"lead_id": ["a"]}).to_parquet(tmp_path / "day=1" / "part.parquet")
    pd.DataFrame({"lead_id": ["b"]}).to_parquet(tmp_path / "other.parquet")
    assert len(parquet_files(tmp_path)) == 2
    assert [p.name for p in parquet_files(tmp_path / "other.parquet")] == ["other.parquet"]
    assert [p.name for p in parquet_files(f"{tmp_path}/day=*/*.parquet")] == ["part.parquet"]
    with pytest.raises(DataContractError, match=r"found no \.parquet file"):
        parquet_files(tmp_path / "missing" / "*.parquet")


def test_bucket_features_equal_the_batch_engine_and_name_a_bad_row_at_its_origin(
    tmp_path: Path,
) -> None:
    leads = pd.DataFrame(
        {
            "lead_id": ["a", "b", "c"],
            "created_at": ["2026-01-01", "2026-01-02", "2026-01-03"],
            "industry": ["Software", "retail", None],
        }
    )
    events = pd.DataFrame(
        {
            "lead_id": ["a", "a", "c", "zz"],
            "occurred_at": ["2026-01-05", "2026-02-01", "2026-01-04", "2026-01-04"],
            "activity_type": ["web_visit", "demo_request", "email_open", "web_visit"],
        }
    )
    as_of = np.full(3, pd.Timestamp("2026-01-20").value // 1000, dtype=np.int64)
    origin = {ORIGIN[0]: "in/leads.parquet", ORIGIN[1]: np.arange(1, 4)}
    with_origin = leads.assign(**origin)
    event_origin = {ORIGIN[0]: "in/acts.parquet", ORIGIN[1]: np.arange(10, 14)}
    expected = build_features(leads, events, as_of)
    got = bucket_features(with_origin, events.assign(**event_origin), as_of)
    pd.testing.assert_frame_equal(got, expected)
    broken = events.assign(**event_origin)
    broken.loc[2, "occurred_at"] = "not a time"
    with pytest.raises(DataContractError) as raised:
        bucket_features(with_origin, broken, as_of)
    assert (raised.value.source, raised.value.row, raised.value.column) == (
        "in/acts.parquet", 12, "occurred_at",
    )  # fmt: skip
