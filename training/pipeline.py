"""The training job end to end: read the export, build point-in-time rows, fit, log, register."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features import DEFAULT_FEATURES, FeatureSet
from features.schema import ACTIVITY_TYPE, CREATED_AT, LEAD_ID, OCCURRED_AT
from features.timestamps import micros_to_datetime, series_to_micros
from training.data import CrmExport, load_export
from training.registry import Registration, log_and_register
from training.settings import TrainingSettings
from training.train import Dataset, LeadScoreTrainer, TrainConfig, build_dataset

Step = Callable[[str], None]


@dataclass(frozen=True)
class TrainingResult:
    trainer: LeadScoreTrainer
    dataset: Dataset
    registration: Registration


def train_and_register(
    settings: TrainingSettings,
    *,
    data_dir: Path | None = None,
    config: TrainConfig | None = None,
    feature_set: FeatureSet = DEFAULT_FEATURES,
    on_step: Step = lambda _message: None,
) -> TrainingResult:
    """Train on the export in `data_dir` (default: settings) and register the model in MLflow."""
    folder = data_dir or settings.data_dir
    on_step(f"Reading the export in {folder}")
    export = load_export(folder)
    on_step("Building point-in-time features and labels")
    dataset = build_dataset(export, feature_set, config)
    on_step(f"Fitting LightGBM on {dataset.counts.labelled:,} labelled leads")
    trainer = LeadScoreTrainer(config).fit(dataset)
    on_step("Logging the run and registering the model in MLflow")
    registration = log_and_register(
        trainer,
        dataset,
        settings,
        example_lead=example_lead(export, str(trainer.holdout_["lead_id"].iloc[-1]), dataset),
        data_location=str(folder),
    )
    return TrainingResult(trainer, dataset, registration)


def example_lead(export: CrmExport, lead_id: str, dataset: Dataset) -> dict[str, Any]:
    """One real lead as the API receives it: attributes and activities up to its snapshot."""
    leads = export.leads
    row = leads.loc[leads[LEAD_ID].astype(object) == lead_id].iloc[0]
    position = int(np.flatnonzero(dataset.features.index == lead_id)[0])
    as_of = int(dataset.as_of[position])
    lead: dict[str, Any] = {LEAD_ID: lead_id}
    created = series_to_micros(pd.Series([row[CREATED_AT]]), source="leads", column=CREATED_AT)
    lead[CREATED_AT] = micros_to_datetime(created[0]).isoformat()
    for column in dataset.feature_set.lead_columns():
        value = row.get(column)
        lead[column] = None if pd.isna(value) else _plain(value)
    activities = []
    if export.activities is not None:
        own = export.activities.loc[export.activities[LEAD_ID].astype(object) == lead_id]
        stamps = series_to_micros(own[OCCURRED_AT], source="activities", column=OCCURRED_AT)
        for stamp, kind in zip(stamps, own[ACTIVITY_TYPE], strict=True):
            if stamp <= as_of:
                activities.append(
                    {ACTIVITY_TYPE: kind, OCCURRED_AT: micros_to_datetime(stamp).isoformat()}
                )
    lead["activities"] = activities
    lead["as_of"] = micros_to_datetime(as_of).isoformat()
    return lead


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    return float(value) if isinstance(value, int) else value
