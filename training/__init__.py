"""Training: datasets from features, LightGBM, calibration, evaluation, MLflow registry.

Names load on first use, so a command that needs one module does not import MLflow, Optuna
and matplotlib with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from training.audit import AuditReport, audit
    from training.columns import feature_set_for
    from training.config import DatasetConfig, load_config
    from training.data import CrmExport, demo_config, load_dataset, load_export
    from training.gate import CHALLENGER, CHAMPION, GateRules, promote, rollback
    from training.pipeline import TrainingResult, train_and_register
    from training.registry import Registration, log_and_register
    from training.settings import TrainingSettings
    from training.train import Dataset, LeadScoreTrainer, TrainConfig, build_dataset, time_split

# Each public name and the module that defines it: imported on first use.
_EXPORTS = {
    "AuditReport": "training.audit",
    "CHALLENGER": "training.gate",
    "CHAMPION": "training.gate",
    "CrmExport": "training.data",
    "Dataset": "training.train",
    "DatasetConfig": "training.config",
    "GateRules": "training.gate",
    "LeadScoreTrainer": "training.train",
    "Registration": "training.registry",
    "TrainConfig": "training.train",
    "TrainingResult": "training.pipeline",
    "TrainingSettings": "training.settings",
    "audit": "training.audit",
    "build_dataset": "training.train",
    "demo_config": "training.data",
    "feature_set_for": "training.columns",
    "load_config": "training.config",
    "load_dataset": "training.data",
    "load_export": "training.data",
    "log_and_register": "training.registry",
    "promote": "training.gate",
    "rollback": "training.gate",
    "time_split": "training.train",
    "train_and_register": "training.pipeline",
}
__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "AuditReport",
    "CrmExport",
    "Dataset",
    "DatasetConfig",
    "GateRules",
    "LeadScoreTrainer",
    "Registration",
    "TrainConfig",
    "TrainingResult",
    "TrainingSettings",
    "audit",
    "build_dataset",
    "demo_config",
    "feature_set_for",
    "load_config",
    "load_dataset",
    "load_export",
    "log_and_register",
    "promote",
    "rollback",
    "time_split",
    "train_and_register",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
