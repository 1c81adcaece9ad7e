"""Training: reading and checking exports, examples and labels, splits, the leakage audit,
fitting and calibration, placing the policy, evaluation, tuning, the report, and the MLflow
registry and promotion gate. Serving never imports this package. Names load on first use, so a
command that needs one module does not import MLflow, Optuna and matplotlib with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from training.audit import AuditReport, audit
    from training.columns import feature_set_for
    from training.config import DatasetConfig, load_config
    from training.data import (
        CrmExport,
        demo_config,
        load_dataset,
        load_export,
        read_file,
        read_outcomes,
    )
    from training.errors import (
        ConfigError,
        InsufficientData,
        NoPreviousChampion,
        RegistryError,
        UnusableSplit,
    )
    from training.examples import Dataset, LabelCounts, build_dataset, make_examples
    from training.gate import GateRules, current_champion, promote, refusals, rollback
    from training.next_steps import attach_next_steps
    from training.pipeline import (
        ConfigCheck,
        RetrainOutcome,
        TrainingResult,
        check_config,
        log_and_register,
        retrain,
        train_and_register,
        train_rules_only,
    )
    from training.policy import PolicySpec, load_policy
    from training.registry import CHALLENGER, HOLDOUT_ARTIFACT, Registration
    from training.report import LEADS_TO_CALL_ARTIFACT, render_performance_page
    from training.splits import time_split
    from training.train import LeadScoreTrainer, TrainConfig

# Each public name and the module that defines it: imported on first use.
_EXPORTS = {
    "AuditReport": "training.audit",
    "CHALLENGER": "training.registry",
    "ConfigCheck": "training.pipeline",
    "ConfigError": "training.errors",
    "CrmExport": "training.data",
    "Dataset": "training.examples",
    "DatasetConfig": "training.config",
    "GateRules": "training.gate",
    "HOLDOUT_ARTIFACT": "training.registry",
    "InsufficientData": "training.errors",
    "LabelCounts": "training.examples",
    "LeadScoreTrainer": "training.train",
    "NoPreviousChampion": "training.errors",
    "PolicySpec": "training.policy",
    "Registration": "training.registry",
    "RegistryError": "training.errors",
    "RetrainOutcome": "training.pipeline",
    "TrainConfig": "training.train",
    "TrainingResult": "training.pipeline",
    "UnusableSplit": "training.errors",
    "attach_next_steps": "training.next_steps",
    "audit": "training.audit",
    "build_dataset": "training.examples",
    "check_config": "training.pipeline",
    "current_champion": "training.gate",
    "demo_config": "training.data",
    "feature_set_for": "training.columns",
    "load_config": "training.config",
    "load_dataset": "training.data",
    "load_export": "training.data",
    "load_policy": "training.policy",
    "log_and_register": "training.pipeline",
    "make_examples": "training.examples",
    "promote": "training.gate",
    "refusals": "training.gate",
    "read_file": "training.data",
    "LEADS_TO_CALL_ARTIFACT": "training.report",
    "render_performance_page": "training.report",
    "read_outcomes": "training.data",
    "retrain": "training.pipeline",
    "rollback": "training.gate",
    "time_split": "training.splits",
    "train_and_register": "training.pipeline",
    "train_rules_only": "training.pipeline",
}
__all__ = [
    "CHALLENGER",
    "HOLDOUT_ARTIFACT",
    "LEADS_TO_CALL_ARTIFACT",
    "AuditReport",
    "ConfigCheck",
    "ConfigError",
    "CrmExport",
    "Dataset",
    "DatasetConfig",
    "GateRules",
    "InsufficientData",
    "LabelCounts",
    "LeadScoreTrainer",
    "NoPreviousChampion",
    "PolicySpec",
    "Registration",
    "RegistryError",
    "RetrainOutcome",
    "TrainConfig",
    "TrainingResult",
    "UnusableSplit",
    "attach_next_steps",
    "audit",
    "build_dataset",
    "check_config",
    "current_champion",
    "demo_config",
    "feature_set_for",
    "load_config",
    "load_dataset",
    "load_export",
    "load_policy",
    "log_and_register",
    "make_examples",
    "promote",
    "read_file",
    "read_outcomes",
    "refusals",
    "render_performance_page",
    "retrain",
    "rollback",
    "time_split",
    "train_and_register",
    "train_rules_only",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
