"""The default features written by hand in polars: the anchor that the scale benchmark compares
the batch engine (`features.build_features`) with, for time and memory, on the same Parquet data.

`check_against_engine` holds the two to equal values, so the comparison is between equals.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

from features import parquet_files
from features.definitions import (
    DEFAULT_FEATURES,
    ActivityCount,
    Attribute,
    CreatedAt,
    DaysSinceLast,
)
from features.schema import ACTIVITY_TYPE, CREATED_AT, LEAD_ID, OCCURRED_AT
from features.timestamps import MICROS_PER_DAY, MICROS_PER_HOUR, window_micros
from features.transforms import TRANSFORMS, category, placeholder_key, tracked_types

FEATURES = DEFAULT_FEATURES
_AS_OF = "_as_of"
_AGE = "_age"
_TYPE = "_type"


def snapshot_micros(snapshot_days: float) -> int:
    """The distance from creation to as-of in whole microseconds, the same on both sides."""
    return window_micros(snapshot_days)


def _read_cells(transform: Callable[[object], str | None]) -> Callable[[pl.Series], pl.Series]:
    """A column's cells read through a project transform, one Python call per distinct value (as
    the batch engine reads them), placeholders read as missing."""
    placeholders = frozenset(FEATURES.placeholders)

    def read(cells: pl.Series) -> pl.Series:
        distinct = cells.drop_nulls().unique().to_list()
        mapping = {
            value: None if placeholder_key(value) in placeholders else transform(value)
            for value in distinct
        }
        return cells.replace_strict(mapping, default=None, return_dtype=pl.String)

    return read


def _attribute(spec: Attribute) -> pl.Expr:
    column = pl.col(spec.column)
    if spec.kind == "numeric":
        return column.cast(pl.Float64)
    transform = TRANSFORMS[spec.transform or "category"]
    return column.map_batches(_read_cells(transform), return_dtype=pl.String, is_elementwise=True)


def _date_part(micros: pl.Expr, part: str) -> pl.Expr:
    """The calendar part in UTC as the batch engine computes it from epoch microseconds."""
    if part == "weekday":
        values = (micros // MICROS_PER_DAY + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    elif part == "hour":
        values = micros % MICROS_PER_DAY // MICROS_PER_HOUR
    else:
        values = pl.from_epoch(micros, time_unit="us").dt.month()
    return values.cast(pl.Float64)


def _activity_aggregations(tracked: list[str]) -> tuple[list[pl.Expr], list[str]]:
    """Per-lead aggregations over its distinct past events, and which of them are counts (a lead
    without events has 0 of those, and no age for the others: the youngest, in microseconds)."""
    age, kind = pl.col(_AGE), pl.col(_TYPE)
    aggregations, counts = [], []
    for feature in FEATURES:
        spec = feature.computation
        if not isinstance(spec, ActivityCount | DaysSinceLast):
            continue
        types = list(tracked_types(spec.activity_types))
        conditions = [] if set(types) == set(tracked) else [kind.is_in(types)]
        if isinstance(spec, ActivityCount):
            if spec.window_days is not None:
                conditions.append(age < window_micros(spec.window_days))
            count = pl.all_horizontal(conditions).sum() if conditions else pl.len()
            aggregations.append(count.cast(pl.Float64).alias(feature.name))
            counts.append(feature.name)
        else:
            youngest = age.filter(pl.all_horizontal(conditions)).min() if conditions else age.min()
            aggregations.append(youngest.alias(feature.name))
    return aggregations, counts


def polars_features(
    leads_path: str | Path, activities_path: str | Path, snapshot_days: float = 7.0
) -> pl.DataFrame:
    """The default features of every lead as of its creation plus `snapshot_days`: a lead_id
    column, then `DEFAULT_FEATURES.names`, one row per lead in the leads' order. Each path is a
    Parquet file, a folder or a glob, read as the project reads it (`parquet_files`). Missing
    values are polars nulls where the batch engine has NaN or None."""
    attributes = [f for f in FEATURES if isinstance(f.computation, Attribute)]
    lead_columns = sorted({f.computation.column for f in attributes})
    micros = pl.col(CREATED_AT).dt.epoch("us")
    leads = (
        pl.scan_parquet(parquet_files(leads_path))
        .select(LEAD_ID, CREATED_AT, *lead_columns)
        .with_columns((micros + snapshot_micros(snapshot_days)).alias(_AS_OF))
    )

    tracked = sorted(
        {
            kind
            for f in FEATURES
            if isinstance(f.computation, ActivityCount | DaysSinceLast)
            for kind in tracked_types(f.computation.activity_types)
        }
    )
    # Activity types read as `category` reads them, once per distinct spelling; untracked ones
    # become null and are dropped.
    kinds = pl.Enum(tracked)

    def read_types(cells: pl.Series) -> pl.Series:
        mapping = {value: category(value) for value in cells.drop_nulls().unique().to_list()}
        tracked_only = {key: value for key, value in mapping.items() if value in tracked}
        return cells.replace_strict(tracked_only, default=None, return_dtype=kinds)

    aggregations, counts = _activity_aggregations(tracked)
    activity = (
        pl.scan_parquet(parquet_files(activities_path))
        .select(
            LEAD_ID,
            pl.col(OCCURRED_AT).dt.epoch("us").alias(OCCURRED_AT),
            pl.col(ACTIVITY_TYPE).map_batches(read_types, return_dtype=kinds, is_elementwise=True),
        )
        .rename({ACTIVITY_TYPE: _TYPE})
        .drop_nulls(_TYPE)
        .join(leads.select(LEAD_ID, _AS_OF), on=LEAD_ID, how="inner")
        .with_columns((pl.col(_AS_OF) - pl.col(OCCURRED_AT)).alias(_AGE))
        .filter(pl.col(_AGE) >= 0)  # nothing after as-of
        # Exports repeat events (sync retries, double tracking); each distinct one counts once.
        .unique(subset=[LEAD_ID, OCCURRED_AT, _TYPE])
        .group_by(LEAD_ID)
        .agg(aggregations)
    )

    columns: list[pl.Expr] = []
    for feature in FEATURES:
        spec = feature.computation
        if isinstance(spec, Attribute):
            columns.append(_attribute(spec).alias(feature.name))
        elif isinstance(spec, CreatedAt):
            columns.append(_date_part(micros, spec.part).alias(feature.name))
        elif feature.name in counts:
            columns.append(pl.col(feature.name).fill_null(0.0))
        else:
            # numpy's division, as the engine's: polars divides by a constant as a multiply by
            # its reciprocal, which can differ in the last bit.
            columns.append(np.true_divide(pl.col(feature.name), MICROS_PER_DAY))
    return (
        leads.join(activity, on=LEAD_ID, how="left", maintain_order="left")
        .select(LEAD_ID, *columns)
        .collect()
    )


def check_against_engine(
    leads_path: str | Path, activities_path: str | Path, snapshot_days: float = 7.0
) -> None:
    """Raise AssertionError naming the first feature, and a lead, where `polars_features` and
    the batch engine differ: an anchor that computes something else would measure nothing."""
    import pandas as pd

    from features import build_features, series_to_micros

    def read(location: str | Path) -> pd.DataFrame:
        frames = [pd.read_parquet(file) for file in parquet_files(location)]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    leads, activities = read(leads_path), read(activities_path)
    created = series_to_micros(leads[CREATED_AT], source="leads", column=CREATED_AT)
    engine = build_features(leads, activities, created + snapshot_micros(snapshot_days))
    ours = polars_features(leads_path, activities_path, snapshot_days)

    expected_columns = [LEAD_ID, *FEATURES.names]
    if ours.columns != expected_columns:
        raise AssertionError(f"expected columns {expected_columns}, got {ours.columns}")
    lead_ids = engine.index.to_list()
    if ours[LEAD_ID].to_list() != lead_ids:
        raise AssertionError("lead_id: the polars rows are not the leads in their order")
    for feature in FEATURES:
        name = feature.name
        if feature.kind == "numeric":
            mine = ours[name].cast(pl.Float64).to_numpy()  # nulls read as NaN
            theirs = engine[name].to_numpy(dtype=np.float64)
            differs = np.flatnonzero((mine != theirs) & ~(np.isnan(mine) & np.isnan(theirs)))
        else:  # Python objects: text, or None where missing
            mine = np.array(ours[name].to_list(), dtype=object)
            theirs = np.array(engine[name].to_list(), dtype=object)
            differs = np.flatnonzero(mine != theirs)
        if differs.size:
            at = slice(differs[0], differs[0] + 1)  # as Python values: 1.5, not np.float64
            raise AssertionError(
                f"{name}: {differs.size} leads differ, e.g. lead {lead_ids[at][0]!r}: "
                f"polars {mine[at].tolist()[0]!r}, engine {theirs[at].tolist()[0]!r}"
            )
