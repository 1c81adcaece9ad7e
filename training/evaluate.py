"""Holdout metrics and the tables that explain a model."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from features import FeatureSet


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
