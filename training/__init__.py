"""Training: datasets from features, LightGBM, calibration, evaluation, MLflow registry."""

from training.data import CrmExport, load_export
from training.pipeline import TrainingResult, train_and_register
from training.registry import CHAMPION, Registration, log_and_register
from training.settings import TrainingSettings
from training.train import Dataset, LeadScoreTrainer, TrainConfig, build_dataset, time_split

__all__ = [
    "CHAMPION",
    "CrmExport",
    "Dataset",
    "LeadScoreTrainer",
    "Registration",
    "TrainConfig",
    "TrainingResult",
    "TrainingSettings",
    "build_dataset",
    "load_export",
    "log_and_register",
    "time_split",
    "train_and_register",
]
