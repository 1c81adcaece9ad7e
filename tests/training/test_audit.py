"""The leakage audit's rules, each on a small table built to trip exactly one of them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features import Attribute, Feature, FeatureSet
from training import Dataset, LabelCounts
from training.audit import audit


def _dataset(columns: dict[str, np.ndarray], labels: np.ndarray, as_of: np.ndarray) -> Dataset:
    leads = pd.DataFrame(columns)
    kinds = {"f": "numeric", "O": "categorical"}
    features = [
        Feature(name, "fit", name, Attribute(name, kind=kinds[values.dtype.kind]))
        for name, values in columns.items()
        if values.dtype.kind in kinds
    ]
    feature_set = FeatureSet(tuple(features))
    return Dataset(
        features=leads[feature_set.names],
        labels=labels,
        as_of=as_of,
        counts=LabelCounts(len(labels), int(labels.sum()), 0, 0),
        feature_set=feature_set,
        split_key=as_of,
        leads=leads,
    )


def _splits(n: int) -> dict[str, np.ndarray]:
    rows = np.arange(n)
    return {
        "train": rows[: n // 2],
        "validation": rows[n // 2 : 3 * n // 4],
        "holdout": rows[3 * n // 4 :],
    }


def test_each_rule_flags_its_column_and_spares_honest_ones() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    labels = (rng.random(n) < 0.3).astype(int)
    as_of = np.arange(n, dtype=np.int64) * 1_000_000 + 1_700_000_000_000_000
    honest = labels * 0.3 + rng.normal(size=n)
    columns = {
        "honest": honest,
        "other": rng.normal(size=n),
        "outcome_code": np.where(labels == 1, "closed-won", "closed-lost").astype(object),
        "sales_note": np.where((labels == 1) & (rng.random(n) < 0.9), None, "no answer").astype(
            object
        ),
        "updated_at": pd.to_datetime(as_of + 86_400_000_000, unit="us", utc=True).to_numpy(),
    }
    dataset = _dataset(columns, labels, as_of)
    report = audit(dataset, _splits(n), ["updated_at"], allow=["sales_note"])
    checks = {(f.column, f.check) for f in report.findings}
    assert ("outcome_code", "separates_too_well") in checks
    assert ("sales_note", "missingness_gap") in checks
    assert ("updated_at", "stamped_after_snapshot") in checks
    assert not {c for c, _ in checks} & {"honest", "other"}
    assert report.excluded == ["updated_at", "outcome_code"]
    assert report.allowed == ["sales_note"]
