"""The leakage audit: columns that know the outcome are caught before any model sees them.

Checks, on the training rows' raw lead columns:

* stamped_after_snapshot: a date column whose values fall after the snapshot (or the outcome),
  so it was written later than the moment we score at.
* separates_too_well: one column alone ranks the holdout with an AUC above the threshold.
* dominates: one column alone ranks the holdout better than all other columns together, as a
  field filled in after contact typically does (the call length of a sales call, say).
* missingness_gap: the column is missing far more often for won than for lost leads or the
  reverse, as fields that sales fills in after the first call are.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from features import Attribute, FeatureSet, series_to_micros
from training.evaluate import baseline_auc
from training.examples import Dataset

AFTER_SNAPSHOT_SHARE = 0.01
DOMINANCE_FLOOR = 0.7


@dataclass(frozen=True)
class Finding:
    column: str
    check: str
    detail: str


@dataclass
class AuditReport:
    findings: list[Finding] = field(default_factory=list)
    single_column_auc: dict[str, float] = field(default_factory=dict)
    allowed: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> list[str]:
        return list(dict.fromkeys(f.column for f in self.findings))

    @property
    def excluded(self) -> list[str]:
        return [column for column in self.flagged if column not in self.allowed]

    def to_dict(self) -> dict:
        return {
            "findings": [asdict(f) for f in self.findings],
            "excluded": self.excluded,
            "allowed": self.allowed,
            "single_column_auc": self.single_column_auc,
        }


def audit(
    dataset: Dataset,
    splits: dict[str, np.ndarray],
    timestamp_columns: list[str],
    *,
    auc_threshold: float = 0.9,
    missingness_gap: float = 0.3,
    allow: list[str] | tuple[str, ...] = (),
) -> AuditReport:
    """Flag leaky lead columns; `allow` keeps named columns in the model despite a flag."""
    report = AuditReport(allowed=[c for c in allow])
    leads = dataset.leads
    if leads is None:
        return report
    labels = dataset.labels
    train = np.concatenate([splits["train"], splits["validation"]])
    holdout = splits["holdout"]

    for column in timestamp_columns:
        _check_timestamp(report, leads[column], dataset, column)

    columns = _attribute_columns(dataset.feature_set)
    for column, kind in columns.items():
        values = leads[column]
        auc = _single_column_auc(values, kind, labels, train, holdout)
        report.single_column_auc[column] = round(auc, 4)
        if auc > auc_threshold:
            report.findings.append(
                Finding(column, "separates_too_well",
                        f"alone it ranks the holdout with AUC {auc:.3f} > {auc_threshold}")
            )  # fmt: skip
        gap = _missingness_gap(values, labels)
        if abs(gap) >= missingness_gap:
            more = "won" if gap > 0 else "lost"
            report.findings.append(
                Finding(column, "missingness_gap",
                        f"missing {abs(gap):.0%} more often for {more} leads than for the others")
            )  # fmt: skip
    _check_dominance(report, dataset, splits, columns)
    return report


def _attribute_columns(feature_set: FeatureSet) -> dict[str, str]:
    return {
        f.computation.column: f.kind for f in feature_set if isinstance(f.computation, Attribute)
    }


def _check_timestamp(report: AuditReport, values: pd.Series, dataset: Dataset, column: str) -> None:
    present = values.notna().to_numpy()
    if not present.any():
        return
    stamps = series_to_micros(values[present], source="leads", column=column)
    as_of = dataset.as_of[present]
    if dataset.closed_at is not None:
        closed = dataset.closed_at[present]
        after_outcome = np.mean((closed < np.iinfo(np.int64).max) & (stamps >= closed))
        if after_outcome > AFTER_SNAPSHOT_SHARE:
            report.findings.append(
                Finding(column, "stamped_after_outcome",
                        f"{after_outcome:.0%} of its values are at or after the lead's outcome")
            )  # fmt: skip
            return
    if as_of.max() > 0:
        after = np.mean(stamps > as_of)
        if after > AFTER_SNAPSHOT_SHARE:
            report.findings.append(
                Finding(column, "stamped_after_snapshot",
                        f"{after:.0%} of its values are after the lead's snapshot")
            )  # fmt: skip


def _single_column_auc(
    values: pd.Series, kind: str, labels: np.ndarray, train: np.ndarray, holdout: np.ndarray
) -> float:
    """Holdout AUC of the best one-column rule learnt on the training rows, in [0.5, 1]."""
    y_holdout = labels[holdout]
    if y_holdout.min() == y_holdout.max():
        return 0.5
    if kind == "numeric":
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        fill = np.nanmedian(numbers[train]) if np.isfinite(numbers[train]).any() else 0.0
        score = np.where(np.isnan(numbers), fill, numbers)[holdout]
    else:
        text = values.astype(object).where(values.notna(), "<missing>").astype(str).to_numpy()
        prior = labels[train].mean()
        stats = (
            pd.DataFrame({"v": text[train], "y": labels[train]})
            .groupby("v")["y"]
            .agg(["sum", "count"])
        )
        rate = (stats["sum"] + 10 * prior) / (stats["count"] + 10)  # smoothed win rate per value
        score = pd.Series(text[holdout]).map(rate).fillna(prior).to_numpy()
    auc = roc_auc_score(y_holdout, score)
    return float(max(auc, 1 - auc))


def _missingness_gap(values: pd.Series, labels: np.ndarray) -> float:
    missing = values.isna().to_numpy()
    if labels.min() == labels.max():
        return 0.0
    return float(missing[labels == 1].mean() - missing[labels == 0].mean())


def _check_dominance(
    report: AuditReport,
    dataset: Dataset,
    splits: dict[str, np.ndarray],
    columns: dict[str, str],
) -> None:
    """Does the strongest single column beat all the other columns together?"""
    candidates = {
        c: auc
        for c, auc in report.single_column_auc.items()
        if c not in report.flagged and auc >= DOMINANCE_FLOOR
    }
    if not candidates or len(dataset.feature_set) < 3:
        return
    strongest = max(candidates, key=candidates.get)
    others = FeatureSet(
        tuple(
            f
            for f in dataset.feature_set
            if not (isinstance(f.computation, Attribute) and f.computation.column in report.flagged)
            and not (isinstance(f.computation, Attribute) and f.computation.column == strongest)
        )
    )
    together = baseline_auc(dataset.with_features(others), splits)
    if candidates[strongest] > together:
        report.findings.append(
            Finding(strongest, "dominates",
                    f"alone it ranks the holdout with AUC {candidates[strongest]:.3f}, better "
                    f"than all {len(others)} other features together ({together:.3f}); a field "
                    "known only after contact looks like this")
        )  # fmt: skip
