"""Leads and their activities laid out in buckets by a hash of lead_id, so that features can be
computed bucket by bucket, each bucket on its own, with no shuffle between machines.

One pass writes every input file's rows into the bucket folders (`bucket=00003/<file>.parquet`);
each input file is read by one task and written by it, so that pass is parallel too. Every row
keeps the file and row it came from, so an error found in a bucket still names the user's file
and row. Only pandas and pyarrow: the cluster code that schedules these functions lives above.
"""

from __future__ import annotations

import glob
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from features.definitions import DEFAULT_FEATURES, FeatureSet
from features.errors import DataContractError
from features.schema import LEAD_ID

ORIGIN_FILE = "_origin_file"  # the input file a row came from (dictionary-encoded: cheap)
ORIGIN_ROW = "_origin_row"  # its row there, counted from 1 as a user counts data rows
ORIGIN = (ORIGIN_FILE, ORIGIN_ROW)
LAYOUT_ROWS = 2_000_000  # rows of an input file one layout task holds at a time


def bucket_folder(root: Path, bucket: int) -> Path:
    return root / f"bucket={bucket:05d}"


def buckets_of(lead_ids: pd.Series, buckets: int) -> np.ndarray:
    """Each lead id's bucket in [0, buckets): the same on every machine and in every run (a
    keyed hash of the id as text, so 42 and "42" share a bucket and are matched as the batch
    engine matches them)."""
    if buckets < 1:
        raise ValueError(f"expected at least 1 bucket, got {buckets}")
    text = lead_ids.astype(object).map(str)
    hashes = pd.util.hash_pandas_object(text, index=False).to_numpy()
    return (hashes % np.uint64(buckets)).astype(np.int64)


def parquet_files(location: str | Path) -> list[Path]:
    """The Parquet files a location names: one file, a folder (every .parquet below it) or a
    glob; sorted, so every run reads them in the same order."""
    text = str(location)
    path = Path(text)
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.rglob("*.parquet") if p.is_file())
    else:
        found = sorted(Path(p) for p in glob.glob(text, recursive=True) if p.endswith(".parquet"))
    if not found:
        raise DataContractError(
            "expected a Parquet file, a folder of them or a glob such as "
            "'exports/activities/*.parquet', found no .parquet file there",
            source=text,
        )
    return found


def parquet_columns(location: str | Path) -> list[str]:
    """The columns of the first Parquet file `location` names, read from its footer only."""
    import pyarrow.parquet as pq

    return list(pq.read_schema(parquet_files(location)[0]).names)


def write_buckets(
    file: Path,
    root: Path,
    buckets: int,
    *,
    name: str | None = None,
    renames: Mapping[str, str] | None = None,
    batch_rows: int = LAYOUT_ROWS,
) -> int:
    """Write the rows of one input Parquet file into `root`'s bucket folders, with their origin
    and its columns under the names `renames` gives them; return how many rows. The file is read
    `batch_rows` at a time, so a task's memory is bounded by that, not by the file. Each bucket
    file is written under a temporary name and renamed, so a task that dies half-way leaves
    nothing a reader would take for data, and a task run again replaces its files rather than
    adding rows twice."""
    import pyarrow.parquet as pq

    stem = name or file.stem
    done = 0
    for part, batch in enumerate(pq.ParquetFile(file).iter_batches(batch_size=batch_rows)):
        frame = batch.to_pandas().rename(columns=dict(renames or {}))
        if LEAD_ID not in frame.columns:
            raise DataContractError(
                f"expected a column named {LEAD_ID!r}, found {sorted(map(str, frame.columns))}",
                source=str(file),
                column=LEAD_ID,
            )
        frame[ORIGIN_FILE] = pd.Categorical([str(file)] * len(frame))
        frame[ORIGIN_ROW] = np.arange(done + 1, done + len(frame) + 1, dtype=np.int64)
        _write_each_bucket(frame, root, buckets, f"{stem}-{part:05d}")
        done += len(frame)
    return done


def bucket_rows(lead_ids: pd.Series, buckets: int) -> list[np.ndarray]:
    """The row positions of each bucket, in order within it: one sort, not a pass per bucket."""
    which = buckets_of(lead_ids, buckets)
    order = np.argsort(which, kind="stable")
    edges = np.searchsorted(which[order], np.arange(buckets + 1))
    return [order[edges[b] : edges[b + 1]] for b in range(buckets)]


def _write_each_bucket(frame: pd.DataFrame, root: Path, buckets: int, name: str) -> None:
    for bucket, rows in enumerate(bucket_rows(frame[LEAD_ID], buckets)):
        if len(rows) == 0:
            continue
        folder = bucket_folder(root, bucket)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{name}.{uuid.uuid4().hex}.partial"
        frame.iloc[rows].to_parquet(partial, index=False)
        os.replace(partial, folder / f"{name}.parquet")


def read_bucket(root: Path, bucket: int) -> pd.DataFrame | None:
    """Every row of one bucket (None when no input row hashed to it), with its origin."""
    folder = bucket_folder(root, bucket)
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not files:
        return None
    frames = [pd.read_parquet(f) for f in files]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    frame[ORIGIN_FILE] = frame[ORIGIN_FILE].astype(object)
    return frame


def bucket_features(
    leads: pd.DataFrame,
    activities: pd.DataFrame | None,
    as_of: Sequence[int] | np.ndarray,
    feature_set: FeatureSet = DEFAULT_FEATURES,
) -> pd.DataFrame:
    """The batch engine on one bucket: features of `leads` (rows of one bucket, origin columns
    included) as of `as_of`. A bad cell is reported at its origin: the user's file and row."""
    from features.batch import build_features

    try:
        return build_features(
            leads.drop(columns=list(ORIGIN)),
            None if activities is None else activities.drop(columns=list(ORIGIN)),
            as_of,
            feature_set,
            source="leads",
            activities_source="activities",
        )
    except DataContractError as error:
        table = activities if error.source == "activities" else leads
        if error.row is None or table is None:
            raise
        origin = table.iloc[error.row - 1]
        raise DataContractError(
            error.detail,
            source=str(origin[ORIGIN_FILE]),
            row=int(origin[ORIGIN_ROW]),
            column=error.column,
        ) from None
