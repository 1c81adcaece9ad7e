"""The model runtime that training builds and serving loads: the scorer artifact and its
save/load, the calibrator, attribution (TreeSHAP tables, path attribution), applying the policy,
reasons in plain words, the MLflow wrapper, and the one `Settings`. Fitting anything belongs to
`training`; HTTP belongs to `serving`. Names load on first use, so reading the settings does not
import LightGBM or MLflow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scoring.calibrator import Calibrator
    from scoring.cluster import Cluster, PartitionedScores, connect, score_on_cluster
    from scoring.drift import DriftReference
    from scoring.encoding import FeatureEncoder
    from scoring.errors import (
        ClusterError,
        InvalidRule,
        ModelArtifactError,
        SettingsError,
        StoreError,
        TablesTooLarge,
    )
    from scoring.next_steps import Move, NextStep, NextSteps
    from scoring.performance import OUTCOME_COLUMNS, PREDICTION_COLUMNS, performance_report
    from scoring.policy import FLOOR_SHARE_OF_BASE_RATE, Grade, Policy, Recommendation, Rule
    from scoring.pyfunc import (
        REGISTERED_URI,
        SCORER_ARTIFACT,
        LeadScoringModel,
        RegisteredScorer,
        input_example,
        load_registered,
        model_code,
        signature,
    )
    from scoring.scorer import LeadScorer, Reason, ScoredLead
    from scoring.settings import (
        CHAMPION,
        DEFAULT_MODEL_NAME,
        Scope,
        Settings,
        key_digest,
        load_settings,
    )
    from scoring.store import check_store, connect_timeout
    from scoring.table import SCORE_COLUMNS, scored_table
    from scoring.treeshap import TreeShapTables
    from scoring.trend import TREND_BAND, TRENDS, Trend, dynamics_code, score_trend

# Each public name and the module that defines it: imported on first use.
_EXPORTS = {
    "CHAMPION": "scoring.settings",
    "Calibrator": "scoring.calibrator",
    "Cluster": "scoring.cluster",
    "ClusterError": "scoring.errors",
    "PartitionedScores": "scoring.cluster",
    "SCORE_COLUMNS": "scoring.table",
    "connect": "scoring.cluster",
    "score_on_cluster": "scoring.cluster",
    "scored_table": "scoring.table",
    "DEFAULT_MODEL_NAME": "scoring.settings",
    "DriftReference": "scoring.drift",
    "FeatureEncoder": "scoring.encoding",
    "Grade": "scoring.policy",
    "InvalidRule": "scoring.errors",
    "LeadScorer": "scoring.scorer",
    "Move": "scoring.next_steps",
    "NextStep": "scoring.next_steps",
    "NextSteps": "scoring.next_steps",
    "LeadScoringModel": "scoring.pyfunc",
    "ModelArtifactError": "scoring.errors",
    "Policy": "scoring.policy",
    "REGISTERED_URI": "scoring.pyfunc",
    "Reason": "scoring.scorer",
    "Recommendation": "scoring.policy",
    "FLOOR_SHARE_OF_BASE_RATE": "scoring.policy",
    "RegisteredScorer": "scoring.pyfunc",
    "Rule": "scoring.policy",
    "SCORER_ARTIFACT": "scoring.pyfunc",
    "Scope": "scoring.settings",
    "ScoredLead": "scoring.scorer",
    "Settings": "scoring.settings",
    "SettingsError": "scoring.errors",
    "StoreError": "scoring.errors",
    "TablesTooLarge": "scoring.errors",
    "TreeShapTables": "scoring.treeshap",
    "TREND_BAND": "scoring.trend",
    "TRENDS": "scoring.trend",
    "dynamics_code": "scoring.trend",
    "Trend": "scoring.trend",
    "score_trend": "scoring.trend",
    "check_store": "scoring.store",
    "connect_timeout": "scoring.store",
    "input_example": "scoring.pyfunc",
    "key_digest": "scoring.settings",
    "load_registered": "scoring.pyfunc",
    "load_settings": "scoring.settings",
    "model_code": "scoring.pyfunc",
    "performance_report": "scoring.performance",
    "OUTCOME_COLUMNS": "scoring.performance",
    "PREDICTION_COLUMNS": "scoring.performance",
    "signature": "scoring.pyfunc",
}
__all__ = [
    "CHAMPION",
    "DEFAULT_MODEL_NAME",
    "FLOOR_SHARE_OF_BASE_RATE",
    "OUTCOME_COLUMNS",
    "PREDICTION_COLUMNS",
    "REGISTERED_URI",
    "SCORER_ARTIFACT",
    "SCORE_COLUMNS",
    "TRENDS",
    "TREND_BAND",
    "Calibrator",
    "Cluster",
    "ClusterError",
    "DriftReference",
    "FeatureEncoder",
    "Grade",
    "InvalidRule",
    "LeadScorer",
    "LeadScoringModel",
    "ModelArtifactError",
    "Move",
    "NextStep",
    "NextSteps",
    "PartitionedScores",
    "Policy",
    "Reason",
    "Recommendation",
    "RegisteredScorer",
    "Rule",
    "Scope",
    "ScoredLead",
    "Settings",
    "SettingsError",
    "StoreError",
    "TablesTooLarge",
    "TreeShapTables",
    "Trend",
    "check_store",
    "connect",
    "connect_timeout",
    "dynamics_code",
    "input_example",
    "key_digest",
    "load_registered",
    "load_settings",
    "model_code",
    "performance_report",
    "score_on_cluster",
    "score_trend",
    "scored_table",
    "signature",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
