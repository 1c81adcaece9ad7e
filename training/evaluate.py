"""Measuring a model: holdout metrics, calibration error (ECE), lift, drift (PSI), importance,
and the logistic-regression baseline."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from features import CreatedAt, FeatureSet

if TYPE_CHECKING:
    from training.examples import Dataset


def holdout_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """The metrics every training run logs, under these exact names."""
    y = np.asarray(labels)
    p = np.asarray(probabilities, dtype=float)
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, np.clip(p, 1e-7, 1 - 1e-7), labels=[0, 1])),
        "lift_at_10pct": lift_at(y, p, 0.10),
    }


def expected_calibration_error(
    labels: np.ndarray, probabilities: np.ndarray, bins: int = 10
) -> float:
    """Average gap between predicted and actual win rates over equal-count bins, weighted."""
    order = np.argsort(probabilities, kind="stable")
    gaps = [
        len(chunk) * abs(probabilities[chunk].mean() - labels[chunk].mean())
        for chunk in np.array_split(order, bins)
        if len(chunk)
    ]
    return float(sum(gaps) / len(labels))


def lift_at(labels: np.ndarray, probabilities: np.ndarray, share: float) -> float:
    """Win rate among the top `share` of leads by score, over the overall win rate."""
    base = float(np.mean(labels))
    if base == 0:
        return 0.0
    top = max(1, round(len(labels) * share))
    order = np.argsort(-np.asarray(probabilities), kind="stable")[:top]
    return float(np.mean(np.asarray(labels)[order]) / base)


def importance_table(booster: lgb.Booster, feature_set: FeatureSet) -> pd.DataFrame:
    """Gain and split counts per feature, with group and description, largest gain first."""
    gain = booster.feature_importance(importance_type="gain")
    splits = booster.feature_importance(importance_type="split")
    table = pd.DataFrame(
        {
            "feature": feature_set.names,
            "group": [f.group for f in feature_set],
            "gain": gain,
            "gain_share": gain / gain.sum() if gain.sum() > 0 else gain,
            "splits": splits,
            "description": [f.description for f in feature_set],
        }
    )
    return table.sort_values("gain", ascending=False).reset_index(drop=True)


def baseline_auc(dataset: Dataset, splits: dict[str, np.ndarray]) -> float:
    """Holdout AUC of a one-hot logistic regression on the same features and split.

    Trained on train and validation rows (it needs no early stopping). A booster that does worse
    than this simple baseline is worth a second look, often at drift it cannot extrapolate.
    """
    holdout = splits["holdout"]
    return float(roc_auc_score(dataset.labels[holdout], baseline_probabilities(dataset, splits)))


def baseline_probabilities(dataset: Dataset, splits: dict[str, np.ndarray]) -> np.ndarray:
    """The logistic-regression baseline's probabilities for the holdout rows."""
    frame = _baseline_frame(dataset)
    categorical = [f.name for f in dataset.feature_set if f.kind == "categorical"]
    numeric = [f.name for f in dataset.feature_set if f.kind == "numeric"]
    transformers = []
    if categorical:
        transformers.append(
            ("categorical", OneHotEncoder(handle_unknown="ignore", min_frequency=5), categorical)
        )
    if numeric:
        transformers.append(
            ("numeric", make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()), numeric)
        )
    model = make_pipeline(ColumnTransformer(transformers), LogisticRegression(max_iter=2000))
    fit_rows = np.concatenate([splits["train"], splits["validation"]])
    model.fit(frame.iloc[fit_rows], dataset.labels[fit_rows])
    return model.predict_proba(frame.iloc[splits["holdout"]])[:, 1]


def auc_difference_interval(
    labels: np.ndarray, first: np.ndarray, second: np.ndarray, rounds: int = 300, seed: int = 0
) -> tuple[float, float]:
    """95% paired-bootstrap interval of AUC(first) - AUC(second) on the same rows: a difference
    whose interval holds 0 may be chance."""
    rng = np.random.default_rng(seed)
    differences = []
    for _ in range(rounds):
        rows = rng.integers(0, len(labels), len(labels))
        sample = labels[rows]
        if sample.min() == sample.max():
            continue
        differences.append(roc_auc_score(sample, first[rows]) - roc_auc_score(sample, second[rows]))
    if not differences:
        return (0.0, 0.0)
    low, high = np.quantile(differences, [0.025, 0.975])
    return float(low), float(high)


def worse_than_baseline(
    interval: tuple[float, float], drift: DriftReport, *, linear_leaves: bool = False
) -> str | None:
    """Why LightGBM lost to the logistic baseline when the whole interval of the difference
    (LightGBM minus baseline) is below 0; None when the difference may be chance."""
    if interval[1] >= 0:
        return None
    drifting = drift.drifting_numeric()
    if drifting and linear_leaves:
        return (
            f"Numeric columns drift between training and holdout ({', '.join(drifting)}), and "
            "even linear leaves extrapolate them less well than one straight line does; the "
            "baseline's features and this model's are the same, so the gap is the model's shape"
        )
    if drifting:
        return (
            f"Trees cannot extrapolate numeric columns that drift between training and holdout "
            f"({', '.join(drifting)}); try [model] linear_tree = true"
        )
    return (
        "No numeric column drifts out of its training range, so this is not extrapolation: the "
        "signal may be close to additive, or the data too small for trees; compare the model "
        "family's candidates, or set [model] yourself"
    )


def _baseline_frame(dataset: Dataset) -> pd.DataFrame:
    frame = dataset.features.reset_index(drop=True).copy()
    for feature in dataset.feature_set:
        if feature.kind == "categorical":
            column = frame[feature.name].astype(object)
            frame[feature.name] = column.where(column.notna(), "<missing>").astype(str)
        else:
            frame[feature.name] = frame[feature.name].astype(np.float64)
    return frame


@dataclass(frozen=True)
class DriftReport:
    """How the holdout differs from the rows the model learnt from."""

    train_positive_rate: float
    holdout_positive_rate: float
    psi: dict[str, float]
    out_of_range: dict[str, float]

    def warnings(self) -> list[str]:
        lines = []
        train, holdout = self.train_positive_rate, self.holdout_positive_rate
        if abs(holdout - train) > 0.05 or not (0.67 < (holdout + 1e-9) / (train + 1e-9) < 1.5):
            lines.append(
                f"The win rate moved from {train:.1%} in training to {holdout:.1%} in the "
                "holdout: the newest leads convert differently."
            )
        shifted = {c: v for c, v in self.psi.items() if v >= PSI_MAJOR}
        if shifted:
            named = ", ".join(f"{c} ({v:.2f})" for c, v in sorted(shifted.items(), key=_second))
            lines.append(
                f"These columns shifted between training and holdout (population stability "
                f"index >= {PSI_MAJOR}): {named}."
            )
        outside = {c: v for c, v in self.out_of_range.items() if v >= OUT_OF_RANGE_SHARE}
        if outside:
            named = ", ".join(f"{c} ({v:.0%})" for c, v in sorted(outside.items(), key=_second))
            lines.append(
                f"Holdout values outside the training range, which trees cannot extrapolate: "
                f"{named}."
            )
        return lines

    def drifting_numeric(self) -> list[str]:
        """Numeric features whose holdout values leave the training range or shift strongly."""
        return [
            name
            for name, share in sorted(self.out_of_range.items(), key=_second)
            if share >= OUT_OF_RANGE_SHARE or self.psi.get(name, 0.0) >= PSI_MAJOR
        ]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "warnings": self.warnings()}


PSI_MAJOR = 0.25
OUT_OF_RANGE_SHARE = 0.01


def _second(item: tuple[str, float]) -> float:
    return -item[1]


def drift_report(dataset: Dataset, splits: dict[str, np.ndarray]) -> DriftReport:
    """Win rates, population stability index per feature, and numeric values out of range."""
    learn = np.concatenate([splits["train"], splits["validation"]])
    holdout = splits["holdout"]
    psi, out_of_range = {}, {}
    for feature in dataset.feature_set:
        if isinstance(feature.computation, CreatedAt):
            continue  # the calendar moves on by construction: a newer month is no drift
        column = dataset.features[feature.name]
        before, after = column.iloc[learn], column.iloc[holdout]
        if feature.kind == "numeric":
            psi[feature.name] = round(
                _numeric_psi(before.to_numpy(float), after.to_numpy(float)), 4
            )
            low, high = (
                np.nanmin(before.to_numpy(float), initial=np.inf),
                np.nanmax(before.to_numpy(float), initial=-np.inf),
            )
            values = after.to_numpy(float)
            present = values[~np.isnan(values)]
            if len(present) and np.isfinite(low):
                out_of_range[feature.name] = round(
                    float(np.mean((present < low) | (present > high))), 4
                )
        else:
            psi[feature.name] = round(_categorical_psi(before, after), 4)
    return DriftReport(
        train_positive_rate=float(dataset.labels[learn].mean()),
        holdout_positive_rate=float(dataset.labels[holdout].mean()),
        psi=psi,
        out_of_range=out_of_range,
    )


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    expected = np.clip(expected, 1e-4, None)
    actual = np.clip(actual, 1e-4, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _numeric_psi(before: np.ndarray, after: np.ndarray) -> float:
    present = before[~np.isnan(before)]
    if len(present) == 0:
        return 0.0
    edges = np.unique(np.quantile(present, np.linspace(0, 1, 11)[1:-1]))

    def shares(values: np.ndarray) -> np.ndarray:
        missing = np.isnan(values)
        bins = np.bincount(np.searchsorted(edges, values[~missing], side="right"),
                           minlength=len(edges) + 1)  # fmt: skip
        return np.append(bins, missing.sum()) / max(len(values), 1)

    return _psi(shares(before), shares(after))


def _categorical_psi(before: pd.Series, after: pd.Series) -> float:
    left = before.astype(object).where(before.notna(), "<missing>").value_counts(normalize=True)
    right = after.astype(object).where(after.notna(), "<missing>").value_counts(normalize=True)
    values = left.index.union(right.index)
    return _psi(
        left.reindex(values, fill_value=0).to_numpy(),
        right.reindex(values, fill_value=0).to_numpy(),
    )
