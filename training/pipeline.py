"""The training job end to end: read and check the export, audit it, fit, compare, log, register."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features import DEFAULT_FEATURES, Attribute, FeatureSet, LeadScorer, Policy
from features.errors import DataContractError
from features.policy import PolicySpec
from features.schema import ACTIVITY_TYPE, CREATED_AT, LEAD_ID, OCCURRED_AT
from features.timestamps import micros_to_datetime, series_to_micros
from training.audit import AuditReport, audit
from training.columns import feature_set_for
from training.config import DatasetConfig, load_policy
from training.data import CrmExport, demo_config, load_dataset
from training.evaluate import DriftReport, baseline_auc, drift_report
from training.gate import HoldoutWindow
from training.registry import (
    Registration,
    find_version_by_fingerprint,
    log_and_register,
    log_rules_only,
)
from training.settings import TrainingSettings
from training.train import (
    Dataset,
    LeadScoreTrainer,
    TrainConfig,
    build_dataset,
    check_minimum,
    fit_segments,
    make_splits,
)
from training.tune import Trial, tune

Say = Callable[[str], None]
_TRAINING_KEYS = {"snapshot_days": "snapshot_delay_days", "horizon_days": "horizon_days"}


@dataclass(frozen=True)
class TrainingResult:
    trainer: LeadScoreTrainer
    dataset: Dataset
    registration: Registration
    audit: AuditReport
    baseline_roc_auc: float
    drift: DriftReport


def train_config_from(config: DatasetConfig) -> TrainConfig:
    """The training settings a dataset config asks for, on top of the defaults."""
    known = {f.name for f in fields(TrainConfig)}
    values: dict[str, Any] = {}
    for key, value in config.training.items():
        name = _TRAINING_KEYS.get(key, key)
        if name not in known or name in ("lightgbm_overrides", "min_per_class"):
            raise DataContractError(
                f"unknown key {key!r} in [training]; expected one of "
                f"{sorted({*_TRAINING_KEYS, *known} - {'lightgbm_overrides', 'min_per_class'})}",
                source=config.location,
            )
        values[name] = value
    return TrainConfig(
        **values, min_per_class=config.min_per_class, lightgbm_overrides=config.model
    )


def train_and_register(
    settings: TrainingSettings,
    *,
    config: DatasetConfig | None = None,
    data_dir: Path | None = None,
    train_config: TrainConfig | None = None,
    feature_set: FeatureSet | None = None,
    allow_leaky: Sequence[str] = (),
    policy: PolicySpec | None = None,
    export: CrmExport | None = None,
    tune_trials: int = 0,
    on_step: Say = lambda _message: None,
) -> TrainingResult:
    """Train on a dataset config (default: the demo layout in `data_dir`) and register the model.

    Every run validates the data, refuses too little of it, audits for leakage before fitting,
    and compares the booster with a logistic-regression baseline on the same split.
    """
    dataset_config = config or demo_config(data_dir or settings.data_dir)
    if policy is None and settings.policy_file is not None:
        policy = load_policy(settings.policy_file)
    train_config = train_config or train_config_from(dataset_config)
    if export is None:
        on_step(f"Reading and checking {dataset_config.location}")
        export = load_dataset(dataset_config)
    if feature_set is None:
        feature_set = DEFAULT_FEATURES if config is None else feature_set_for(config, export)
    on_step("Building point-in-time features and labels")
    dataset = build_dataset(export, feature_set, train_config)
    check_minimum(dataset.labels, train_config.min_per_class)
    splits = make_splits(dataset, train_config)
    on_step("Auditing columns for leakage")
    report = audit(
        dataset,
        splits,
        export.timestamp_columns,
        auc_threshold=dataset_config.audit.auc_threshold,
        missingness_gap=dataset_config.audit.missingness_gap,
        allow=[*dataset_config.audit.allow, *allow_leaky],
    )
    kept = FeatureSet(
        tuple(
            f
            for f in dataset.feature_set
            if not (
                isinstance(f.computation, Attribute) and f.computation.column in report.excluded
            )
        )
    )
    dataset = dataset.with_features(kept)
    trials: list[Trial] = []
    if tune_trials > 0:
        train_config, trials = tune(
            dataset,
            train_config,
            tune_trials,
            on_trial=lambda t: on_step(
                f"Tuning: trial {t.number + 1}/{tune_trials}, validation AUC "
                f"{t.validation_roc_auc:.4f}"
            ),
        )
    on_step(f"Fitting LightGBM on {len(dataset.labels):,} labelled leads")
    trainer = LeadScoreTrainer(train_config, policy).fit(dataset)
    segments = None
    if dataset_config.segment_by:
        on_step(f"Fitting one model per {dataset_config.segment_by}")
        segments = fit_segments(
            dataset, train_config, trainer.scorer_.policy, dataset_config.segment_by
        )
        scorer = trainer.scorer_
        scorer.segment_by = dataset_config.segment_by
        scorer.segments = segments.scorers
        scorer.metadata["segments"] = segments.metrics
        scorer.metadata["segment_fallback"] = segments.fallback
    on_step("Fitting the logistic-regression baseline and measuring drift")
    baseline = baseline_auc(dataset, splits)
    drift = drift_report(dataset, splits)
    on_step("Logging the run and registering the model in MLflow")
    registration = log_and_register(
        trainer,
        dataset,
        settings,
        example_lead=example_lead(export, dataset, int(splits["holdout"][-1])),
        data_location=dataset_config.location,
        model_name=dataset_config.model_name or settings.model_name,
        extras={
            "audit": report,
            "baseline_roc_auc": baseline,
            "drift": drift,
            "window": _holdout_window(export, dataset, splits["holdout"]),
            "fingerprint": fingerprint(export, dataset_config, policy),
            "trials": trials,
            "segments": segments,
        },
    )
    return TrainingResult(trainer, dataset, registration, report, baseline, drift)


def train_rules_only(
    settings: TrainingSettings,
    *,
    config: DatasetConfig | None = None,
    data_dir: Path | None = None,
    policy: PolicySpec | None = None,
    on_step: Say = lambda _message: None,
) -> Registration:
    """The cold start: register a model that recommends from the policy's rules alone."""
    if policy is None and settings.policy_file is not None:
        policy = load_policy(settings.policy_file)
    if policy is None or not (policy.icp or policy.exclusions):
        raise DataContractError(
            "expected a policy file with ICP rules or exclusions for a rules-only model, got "
            "none; pass --policy FILE"
        )
    dataset_config = config or demo_config(data_dir or settings.data_dir)
    on_step(f"Reading and checking {dataset_config.location}")
    export = load_dataset(dataset_config)
    feature_set = DEFAULT_FEATURES if config is None else feature_set_for(config, export)
    missing = {r.feature for r in (*policy.icp, *policy.exclusions)} - set(feature_set.names)
    if missing:
        raise DataContractError(
            f"expected the policy's rules to name features among {feature_set.names}, got "
            f"{sorted(missing)}",
            source=str(settings.policy_file or "the policy"),
        )
    labels = export.labels
    if labels is None and export.outcomes is not None:
        labels = (export.outcomes["status"] == "won").to_numpy()
    won = int(np.sum(labels)) if labels is not None else 0
    lost = (len(labels) - won) if labels is not None else 0
    rules = Policy(
        sql_threshold=0, mql_threshold=0, grade_a=0, grade_b=0, grade_c=0,
        icp=policy.icp, exclusions=policy.exclusions, rules_only=True,
    )  # fmt: skip
    scorer = LeadScorer.rules_only(
        feature_set,
        rules,
        {"trained_at": datetime.now(UTC).isoformat(), "won": won, "lost": lost, "metrics": {}},
    )
    on_step("Registering the rules-only model in MLflow")
    return log_rules_only(
        scorer,
        settings,
        model_name=dataset_config.model_name or settings.model_name,
        data_location=dataset_config.location,
        example_lead={LEAD_ID: str(export.leads[LEAD_ID].iloc[0])},
    )


PROMOTED, KEPT = 0, 3


@dataclass(frozen=True)
class RetrainOutcome:
    """What a scheduled retraining did: exit code 0 when it promoted, 3 when the champion stays."""

    exit_code: int
    message: str
    version: str | None
    result: TrainingResult | None = None


def retrain(
    settings: TrainingSettings,
    *,
    config: DatasetConfig | None = None,
    data_dir: Path | None = None,
    policy: PolicySpec | None = None,
    on_step: Say = lambda _message: None,
) -> RetrainOutcome:
    """Build, train, gate and promote or not; a second run on the same data changes nothing."""
    dataset_config = config or demo_config(data_dir or settings.data_dir)
    if policy is None and settings.policy_file is not None:
        policy = load_policy(settings.policy_file)
    on_step(f"Reading and checking {dataset_config.location}")
    export = load_dataset(dataset_config)
    print_ = fingerprint(export, dataset_config, policy)
    name = dataset_config.model_name or settings.model_name
    existing = find_version_by_fingerprint(settings, name, print_)
    if existing is not None:
        version, is_champion = existing
        role = "the champion" if is_champion else "not the champion"
        return RetrainOutcome(
            KEPT,
            f"already trained on exactly this data and policy as version {version} ({role}); "
            "nothing to do",
            version,
        )
    result = train_and_register(
        settings, config=config, data_dir=data_dir, policy=policy, export=export, on_step=on_step
    )
    registration = result.registration
    code = PROMOTED if registration.promoted else KEPT
    return RetrainOutcome(code, registration.decision, registration.version, result)


def fingerprint(export: CrmExport, config: DatasetConfig, policy: PolicySpec | None) -> str:
    """A digest of the data, the dataset config and the policy: same digest, same model."""
    digest = hashlib.sha256()
    for frame in (export.leads, export.activities, export.outcomes):
        if frame is not None:
            digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    if export.labels is not None:
        digest.update(export.labels.tobytes())
    digest.update(repr((config.leads, config.outcome, config.activities, config.training,
                        config.model, config.audit, policy)).encode())  # fmt: skip
    return digest.hexdigest()[:32]


def _holdout_window(export: CrmExport, dataset: Dataset, rows: np.ndarray) -> HoldoutWindow | None:
    if dataset.leads is None:
        return None
    return HoldoutWindow(
        leads=dataset.leads.iloc[rows].reset_index(drop=True),
        activities=export.activities,
        as_of=dataset.as_of[rows],
        labels=dataset.labels[rows],
    )


def example_lead(export: CrmExport, dataset: Dataset, row: int) -> dict[str, Any]:
    """One real lead as the API receives it: attributes and activities up to its snapshot."""
    assert dataset.leads is not None
    lead_row = dataset.leads.iloc[row]
    lead_id = str(lead_row[LEAD_ID])
    as_of = int(dataset.as_of[row])
    lead: dict[str, Any] = {LEAD_ID: lead_id}
    if CREATED_AT in dataset.leads.columns:
        created = series_to_micros(
            pd.Series([lead_row[CREATED_AT]]), source="leads", column=CREATED_AT
        )
        lead[CREATED_AT] = micros_to_datetime(created[0]).isoformat()
    for column in dataset.feature_set.lead_columns():
        value = lead_row.get(column)
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
    if as_of > 0:
        lead["as_of"] = micros_to_datetime(as_of).isoformat()
    return lead


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    return float(value) if isinstance(value, int) else value
