"""Training: datasets from features, LightGBM, calibration, evaluation, MLflow registry."""

from training.audit import AuditReport, audit
from training.columns import feature_set_for
from training.config import DatasetConfig, load_config
from training.data import CrmExport, demo_config, load_dataset, load_export
from training.gate import CHALLENGER, CHAMPION, GateRules, promote, rollback
from training.pipeline import TrainingResult, train_and_register
from training.registry import Registration, log_and_register
from training.settings import TrainingSettings
from training.train import Dataset, LeadScoreTrainer, TrainConfig, build_dataset, time_split

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
