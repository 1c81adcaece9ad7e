"""From an export to a fitted scorer: examples, time-based split, LightGBM, calibration, policy."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from features import (
    DEFAULT_FEATURES,
    Calibrator,
    FeatureEncoder,
    FeatureSet,
    LabelCounts,
    LeadScorer,
    build_features,
    make_examples,
)
from features.errors import DataContractError, InsufficientData
from features.policy import Policy, PolicySpec, fit_policy
from features.schema import CLOSED_AT, CREATED_AT, LEAD_ID
from features.timestamps import micros_to_datetime, series_to_micros
from training.data import CrmExport
from training.evaluate import holdout_metrics, importance_table

SPLITS = ("train", "validation", "holdout")
WEEK_US = 7 * 86_400_000_000


@dataclass(frozen=True)
class TrainConfig:
    """Everything that shapes a training run; logged as MLflow params."""

    snapshot_delay_days: float = 7.0
    horizon_days: float = 90.0
    holdout_share: float = 0.20
    validation_share: float = 0.15
    learning_rate: float = 0.02
    num_leaves: int = 5
    min_data_in_leaf: int = 20
    feature_fraction: float = 0.8
    lambda_l2: float = 1.0
    max_rounds: int = 2000
    early_stopping_rounds: int = 100
    seed: int = 0
    min_per_class: int = 40
    lightgbm_overrides: dict[str, Any] = field(default_factory=dict)

    def lightgbm_params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "lambda_l2": self.lambda_l2,
            "min_data_per_group": 50,
            "cat_smooth": 10.0,
            "max_cat_to_onehot": 8,
            "seed": self.seed,
            "deterministic": True,
            "num_threads": 2,
            "verbose": -1,
            **self.lightgbm_overrides,
        }


@dataclass
class Dataset:
    """Point-in-time training rows: features as of each lead's snapshot, and its label.

    `split_key` orders rows for the time-based split (snapshot time, or the export's declared
    order); when it is None the split is a stratified random one. `leads` keeps the raw lead rows
    for the leakage audit, and `closed_at` the outcome times when the export has them.
    """

    features: pd.DataFrame
    labels: np.ndarray
    as_of: np.ndarray
    counts: LabelCounts
    feature_set: FeatureSet
    split_key: np.ndarray | None = None
    leads: pd.DataFrame | None = None
    closed_at: np.ndarray | None = None

    def subset(self, rows: np.ndarray) -> Dataset:
        """The given rows only, with everything that goes with them."""
        return Dataset(
            features=self.features.iloc[rows],
            labels=self.labels[rows],
            as_of=self.as_of[rows],
            counts=self.counts,
            feature_set=self.feature_set,
            split_key=None if self.split_key is None else self.split_key[rows],
            leads=None if self.leads is None else self.leads.iloc[rows].reset_index(drop=True),
            closed_at=None if self.closed_at is None else self.closed_at[rows],
        )

    def with_features(self, feature_set: FeatureSet) -> Dataset:
        """The same rows with only the given features (a subset of these)."""
        return Dataset(
            features=self.features[feature_set.names],
            labels=self.labels,
            as_of=self.as_of,
            counts=self.counts,
            feature_set=feature_set,
            split_key=self.split_key,
            leads=self.leads,
            closed_at=self.closed_at,
        )


@dataclass(frozen=True)
class SplitSummary:
    rows: int
    positives: int
    first_as_of: str | None
    last_as_of: str | None


def build_dataset(
    export: CrmExport,
    feature_set: FeatureSet = DEFAULT_FEATURES,
    config: TrainConfig | None = None,
) -> Dataset:
    """Label each lead at its snapshot and compute its features as of that moment."""
    config = config or TrainConfig()
    delay_us = timedelta(days=config.snapshot_delay_days) // timedelta(microseconds=1)
    has_time = CREATED_AT in export.leads.columns
    closed_at = None
    if export.labels is not None:
        leads = export.leads.reset_index(drop=True)
        labels = export.labels
        as_of = (
            series_to_micros(leads[CREATED_AT], source="leads", column=CREATED_AT) + delay_us
            if has_time
            else np.zeros(len(leads), dtype=np.int64)
        )
        counts = LabelCounts(len(leads), int(labels.sum()), 0, 0)
        split_key = as_of if has_time else export.order
    else:
        assert export.outcomes is not None and export.observed_until is not None
        examples, counts = make_examples(
            export.leads,
            export.outcomes,
            observed_until=export.observed_until,
            snapshot_delay=timedelta(days=config.snapshot_delay_days),
            horizon=timedelta(days=config.horizon_days),
        )
        by_id = export.leads.set_index(export.leads[LEAD_ID].astype(object), drop=False)
        leads = by_id.loc[examples[LEAD_ID].to_numpy()].reset_index(drop=True)
        labels = examples["label"].to_numpy()
        as_of = examples["as_of"].to_numpy()
        split_key = as_of
        closed_at = _closed_at(export.outcomes, leads[LEAD_ID])
    features = build_features(
        leads,
        export.activities,
        as_of,
        feature_set,
        source=f"{export.location} leads",
        activities_source=f"{export.location} activities",
    )
    return Dataset(
        features=features,
        labels=np.asarray(labels),
        as_of=np.asarray(as_of, dtype=np.int64),
        counts=counts,
        feature_set=feature_set,
        split_key=split_key,
        leads=leads,
        closed_at=closed_at,
    )


def _closed_at(outcomes: pd.DataFrame, lead_ids: pd.Series) -> np.ndarray:
    """Each lead's first close (epoch microseconds), or the int64 maximum when still open."""
    stamps = series_to_micros(outcomes[CLOSED_AT], source="outcomes", column=CLOSED_AT)
    first = pd.Series(stamps, index=outcomes[LEAD_ID].astype(object)).groupby(level=0).min()
    aligned = first.reindex(lead_ids.astype(object))
    still_open = aligned.isna().to_numpy()
    values = aligned.fillna(0).to_numpy(dtype=np.int64)
    return np.where(still_open, np.iinfo(np.int64).max, values)


def time_split(
    as_of: np.ndarray, holdout_share: float, validation_share: float
) -> dict[str, np.ndarray]:
    """Row positions of each split by snapshot time: the newest rows are the holdout."""
    order = np.argsort(as_of, kind="stable")
    n = len(order)
    holdout_start = n - round(n * holdout_share)
    validation_start = holdout_start - round(n * validation_share)
    return {
        "train": order[:validation_start],
        "validation": order[validation_start:holdout_start],
        "holdout": order[holdout_start:],
    }


def make_splits(dataset: Dataset, config: TrainConfig) -> dict[str, np.ndarray]:
    """Time-ordered splits when the data has an order; otherwise stratified random ones."""
    if dataset.split_key is not None:
        return time_split(dataset.split_key, config.holdout_share, config.validation_share)
    rows = np.arange(len(dataset.labels))
    rest, holdout = train_test_split(
        rows, test_size=config.holdout_share, stratify=dataset.labels, random_state=config.seed
    )
    train, validation = train_test_split(
        rest,
        test_size=config.validation_share / (1 - config.holdout_share),
        stratify=dataset.labels[rest],
        random_state=config.seed,
    )
    return {"train": np.sort(train), "validation": np.sort(validation), "holdout": np.sort(holdout)}


def check_minimum(labels: np.ndarray, minimum: int) -> None:
    """Refuse to train on fewer than `minimum` won or lost leads: the result would be noise."""
    won = int(np.sum(labels))
    lost = len(labels) - won
    if won < minimum or lost < minimum:
        raise InsufficientData(
            f"expected at least {minimum} won and {minimum} lost labelled leads, got {won} won "
            f"and {lost} lost; add more history (or lower [training] min_per_class knowingly)"
        )


def fit_booster(
    config: TrainConfig, dataset: Dataset, splits: dict[str, np.ndarray]
) -> tuple[lgb.Booster, FeatureEncoder, np.ndarray]:
    """LightGBM on the train rows, stopped early on the validation rows; the holdout is untouched.

    Returns the booster, the category encoder learnt on the train rows, and every row encoded.
    """
    encoder = FeatureEncoder(dataset.feature_set).fit(dataset.features.iloc[splits["train"]])
    matrix = encoder.transform(dataset.features)
    train_set = lgb.Dataset(
        matrix[splits["train"]],
        label=dataset.labels[splits["train"]],
        feature_name=dataset.feature_set.names,
        categorical_feature=encoder.categorical_indices,
        free_raw_data=False,
    )
    valid_set = train_set.create_valid(
        matrix[splits["validation"]], label=dataset.labels[splits["validation"]]
    )
    booster = lgb.train(
        config.lightgbm_params(),
        train_set,
        num_boost_round=config.max_rounds,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
    )
    return booster, encoder, matrix


class LeadScoreTrainer:
    """Fits a `LeadScorer`; after `fit`, the learned state and its evaluation end in `_`."""

    def __init__(self, config: TrainConfig | None = None, policy: PolicySpec | None = None) -> None:
        self.config = config or TrainConfig()
        self.policy = policy

    def fit(self, dataset: Dataset) -> LeadScoreTrainer:
        config = self.config
        check_minimum(dataset.labels, config.min_per_class)
        splits = make_splits(dataset, config)
        for name in SPLITS:
            labels = dataset.labels[splits[name]]
            if len(labels) == 0 or labels.min() == labels.max():
                raise ValueError(
                    f"expected won and lost leads in the {name} split, got {len(labels)} rows "
                    f"with {int(labels.sum())} won; supply more history"
                )
        booster, encoder, matrix = fit_booster(config, dataset, splits)
        booster.free_dataset()
        # The calibrator learns on rows the booster never trained on.
        validation_margin = booster.predict(matrix[splits["validation"]], raw_score=True)
        platt = LogisticRegression(C=1e6).fit(
            validation_margin.reshape(-1, 1), dataset.labels[splits["validation"]]
        )
        calibrator = Calibrator(
            slope=float(platt.coef_[0, 0]), intercept=float(platt.intercept_[0])
        )

        holdout_rows = splits["holdout"]
        holdout_probability = calibrator.probability(
            booster.predict(matrix[holdout_rows], raw_score=True)
        )
        holdout_labels = dataset.labels[holdout_rows]
        self.metrics_ = holdout_metrics(holdout_labels, holdout_probability)
        holdout_scores = np.round(holdout_probability * 100).astype(int)
        holdout_as_of = dataset.as_of[holdout_rows]
        weeks = (
            (holdout_as_of.max() - holdout_as_of.min()) / WEEK_US
            if holdout_as_of.min() > 0
            else None
        )
        policy, self.what_if_ = fit_policy(
            self.policy, holdout_scores, holdout_labels, dataset.features.iloc[holdout_rows], weeks
        )
        self.holdout_weeks_ = weeks
        self.splits_ = {
            name: SplitSummary(
                rows=len(rows),
                positives=int(dataset.labels[rows].sum()),
                first_as_of=_moment(dataset.as_of[rows].min()),
                last_as_of=_moment(dataset.as_of[rows].max()),
            )
            for name, rows in splits.items()
        }
        self.best_iteration_ = int(booster.best_iteration or booster.current_iteration())
        self.importance_ = importance_table(booster, dataset.feature_set)
        self.holdout_ = pd.DataFrame(
            {
                "lead_id": dataset.features.index[holdout_rows],
                "as_of": dataset.as_of[holdout_rows],
                "label": holdout_labels,
                "probability": holdout_probability,
            }
        )
        self.splits_rows_ = splits
        metadata = {
            "split": "time" if dataset.split_key is not None else "stratified random",
            "trained_at": datetime.now(UTC).isoformat(),
            "metrics": self.metrics_,
            "splits": {name: asdict(summary) for name, summary in self.splits_.items()},
            "best_iteration": self.best_iteration_,
            "config": asdict(config),
        }
        self.scorer_ = LeadScorer(
            feature_set=dataset.feature_set,
            encoder=encoder,
            booster=booster,
            calibrator=calibrator,
            policy=policy,
            metadata=metadata,
        )
        return self


def _moment(micros: int) -> str | None:
    """A snapshot time as ISO text; exports without timestamps have none."""
    return micros_to_datetime(micros).isoformat() if micros > 0 else None


@dataclass(frozen=True)
class SegmentModels:
    """One scorer per segment value with enough history; the others fall back to the global one."""

    scorers: dict[str, LeadScorer]
    metrics: dict[str, dict[str, float]]
    fallback: dict[str, str]


def fit_segments(
    dataset: Dataset, config: TrainConfig, policy: Policy, segment_by: str
) -> SegmentModels:
    """Fit a model for each value of `segment_by`; every model applies the global policy."""
    if segment_by not in dataset.feature_set.names or (
        dataset.feature_set[segment_by].kind != "categorical"
    ):
        raise DataContractError(
            f"expected segment_by to name a categorical feature, got {segment_by!r}; features "
            f"are {dataset.feature_set.names}"
        )
    values = dataset.features[segment_by].astype(object)
    scorers, metrics, fallback = {}, {}, {}
    for key in sorted(values.dropna().unique()):
        rows = np.flatnonzero((values == key).to_numpy())
        won = int(dataset.labels[rows].sum())
        lost = len(rows) - won
        if min(won, lost) < config.min_per_class:
            fallback[key] = f"{won} won and {lost} lost: fewer than {config.min_per_class}"
            continue
        try:
            trainer = LeadScoreTrainer(config).fit(dataset.subset(rows))
        except ValueError as error:
            fallback[key] = str(error)
            continue
        trainer.scorer_.policy = policy
        scorers[key] = trainer.scorer_
        metrics[key] = {**trainer.metrics_, "labelled_leads": float(len(rows))}
    return SegmentModels(scorers, metrics, fallback)
