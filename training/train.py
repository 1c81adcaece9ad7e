"""Fitting: LightGBM on the train rows, Platt calibration on the validation rows, the policy's
thresholds, and one model per segment when asked."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from features import micros_to_datetime
from scoring import Calibrator, DriftReference, FeatureEncoder, LeadScorer, Policy
from training.errors import ConfigError, InsufficientData, UnusableSplit
from training.evaluate import holdout_metrics, importance_table
from training.examples import Dataset
from training.policy import PolicySpec, fit_policy
from training.splits import SPLITS, make_splits

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

    def splits(self, dataset: Dataset) -> dict[str, np.ndarray]:
        """Row positions of the train, validation and holdout splits of `dataset`."""
        return make_splits(dataset, self.holdout_share, self.validation_share, self.seed)


@dataclass(frozen=True)
class SplitSummary:
    rows: int
    positives: int
    first_as_of: str | None
    last_as_of: str | None


class _LightGbmLog:
    """LightGBM's messages while checking parameters; otherwise passed on to `logging`."""

    def __init__(self) -> None:
        self.capture: list[str] | None = None

    def info(self, message: str) -> None:
        if self.capture is not None:
            self.capture.append(message)
        else:
            logging.getLogger("lightgbm").debug(message.strip())

    warning = info


_LIGHTGBM_LOG = _LightGbmLog()


def check_lightgbm_params(overrides: dict[str, Any], source: str | None = None) -> None:
    """Refuse `[model]` parameters LightGBM does not know or cannot read, before any data is
    read: one boosting round on a few made-up rows says what LightGBM thinks of them."""
    if not overrides:
        return
    rng = np.random.default_rng(0)
    rows = rng.random((60, 2))
    labels = (rows[:, 0] > 0.5).astype(int)
    params = {**TrainConfig(lightgbm_overrides=overrides).lightgbm_params(), "verbose": 1}
    _LIGHTGBM_LOG.capture = []
    lgb.register_logger(_LIGHTGBM_LOG)
    try:
        lgb.train(params, lgb.Dataset(rows, labels), num_boost_round=1)
    except lgb.basic.LightGBMError as error:
        raise ConfigError(
            f"[model]: LightGBM refused the parameters: {str(error).split('[LightGBM]')[0]}",
            source=source,
        ) from None
    finally:
        messages, _LIGHTGBM_LOG.capture = _LIGHTGBM_LOG.capture, None
    unknown = sorted(
        {m.split("Unknown parameter:", 1)[1].strip() for m in messages if "Unknown parameter" in m}
    )
    if unknown:
        raise ConfigError(
            f"[model]: expected LightGBM parameters, got unknown {unknown}; see LightGBM's "
            "parameter list",
            source=source,
        )


def check_minimum(labels: np.ndarray, minimum: int) -> None:
    """Refuse to train on fewer than `minimum` won or lost leads: the result would be noise."""
    won = int(np.sum(labels))
    lost = len(labels) - won
    if won < minimum or lost < minimum:
        raise InsufficientData(
            f"expected at least {minimum} won and {minimum} lost labelled leads, got {won} won "
            f"and {lost} lost; add more history (or lower [training] min_per_class knowingly)"
        )


class FittedBooster(NamedTuple):
    booster: lgb.Booster
    encoder: FeatureEncoder
    matrix: np.ndarray  # every row, encoded


def fit_booster(
    config: TrainConfig, dataset: Dataset, splits: dict[str, np.ndarray]
) -> FittedBooster:
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
    return FittedBooster(booster, encoder, matrix)


# The shapes compared when the config has no [model] section: plain trees, shallow ones that
# overfit less on small or noisy data, and shallow trees with linear leaves, which extrapolate
# numeric columns that drift out of their training range.
MODEL_FAMILY: dict[str, dict[str, Any]] = {
    "default_trees": {},
    "shallow_trees": {"num_leaves": 3, "max_depth": 2, "learning_rate": 0.05,
                      "min_data_in_leaf": 50},
    "linear_trees": {"linear_tree": True, "num_leaves": 3, "learning_rate": 0.05,
                     "min_data_in_leaf": 50, "feature_fraction": 1.0},
}  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """One model shape tried on the validation slice."""

    name: str
    params: dict[str, Any]
    validation_roc_auc: float
    best_iteration: int


@dataclass(frozen=True)
class FamilyChoice:
    """The chosen shape's config and booster (fitted once, reused), and every candidate."""

    config: TrainConfig
    fitted: FittedBooster
    candidates: list[Candidate]

    @property
    def chosen(self) -> str:
        return max(self.candidates, key=lambda c: c.validation_roc_auc).name


def choose_family(
    dataset: Dataset,
    config: TrainConfig,
    splits: dict[str, np.ndarray],
    on_candidate: Callable[[Candidate], None] = lambda _candidate: None,
    shapes: Mapping[str, dict[str, Any]] = MODEL_FAMILY,
) -> FamilyChoice:
    """The shape of `shapes` with the best validation AUC (the first on a tie); the holdout is
    not read."""
    validation = splits["validation"]
    candidates: list[Candidate] = []
    best: tuple[TrainConfig, FittedBooster] | None = None
    for name, params in shapes.items():
        candidate_config = replace(
            config, lightgbm_overrides={**config.lightgbm_overrides, **params}
        )
        fitted = fit_booster(candidate_config, dataset, splits)
        scores = fitted.booster.predict(fitted.matrix[validation])
        auc = float(roc_auc_score(dataset.labels[validation], scores))
        if best is None or auc > max(c.validation_roc_auc for c in candidates):
            best = (candidate_config, fitted)  # only the best so far stays in memory
        candidate = Candidate(name, params, auc, int(fitted.booster.best_iteration or 0))
        candidates.append(candidate)
        on_candidate(candidate)
    chosen_config, chosen = best
    return FamilyChoice(chosen_config, chosen, candidates)


class LeadScoreTrainer:
    """Fits a `LeadScorer`; after `fit`, the learned state and its evaluation end in `_`."""

    def __init__(self, config: TrainConfig | None = None, policy: PolicySpec | None = None) -> None:
        self.config = config or TrainConfig()
        self.policy = policy

    def fit(self, dataset: Dataset, fitted: FittedBooster | None = None) -> LeadScoreTrainer:
        """`fitted`: the booster `fit_booster` already made with this config on this dataset
        (the model family's choice), so it is not fitted twice."""
        config = self.config
        check_minimum(dataset.labels, config.min_per_class)
        splits = config.splits(dataset)
        for name in SPLITS:
            labels = dataset.labels[splits[name]]
            if len(labels) == 0 or labels.min() == labels.max():
                raise UnusableSplit(
                    f"expected won and lost leads in the {name} split, got {len(labels)} rows "
                    f"with {int(labels.sum())} won; supply more history"
                )
        booster, encoder, matrix = fitted or fit_booster(config, dataset, splits)
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
        base_rate = float(dataset.labels[splits["train"]].mean())
        policy, self.what_if_ = fit_policy(
            self.policy,
            holdout_scores,
            holdout_labels,
            dataset.features.iloc[holdout_rows],
            weeks,
            base_rate,
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
            # What serving compares live leads to: features as the training rows had them, the
            # score as the validation rows got it (the training rows' own scores are in-sample).
            "drift_reference": DriftReference.fit(
                dataset.feature_set,
                encoder.vocabularies_,
                matrix[splits["train"]],
                calibrator.probability(validation_margin) * 100,
            ).to_dict(),
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
    """Fit a model for each value of `segment_by` (a categorical feature: the pipeline checks
    it first); every model applies the global policy."""
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
        except (InsufficientData, UnusableSplit) as error:
            fallback[key] = str(error)
            continue
        trainer.scorer_.policy = policy
        scorers[key] = trainer.scorer_
        metrics[key] = {**trainer.metrics_, "labelled_leads": float(len(rows))}
    return SegmentModels(scorers, metrics, fallback)
