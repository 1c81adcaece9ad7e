"""Hyperparameter search with Optuna on the time-based validation slice; the holdout stays unseen.

The winner is then trained and evaluated like any model, so its holdout figures are honest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import optuna
from sklearn.metrics import roc_auc_score

from training.examples import Dataset
from training.train import LeadScoreTrainer, TrainConfig, fit_booster

LARGEST_SHAPE = {"num_leaves": 31, "min_data_in_leaf": 10, "max_rounds": 40}


def check_artifact(dataset: Dataset, config: TrainConfig) -> None:
    """Fit `config` and explain a few leads with the scorer it makes: what fails here would
    otherwise fail at the end of a long search."""
    scorer = LeadScoreTrainer(config).fit(dataset).scorer_
    scorer.contributions(scorer.encoder.transform(dataset.features.iloc[:50]))


@dataclass(frozen=True)
class Trial:
    number: int
    params: dict[str, float | int]
    validation_roc_auc: float
    best_iteration: int


def tune(
    dataset: Dataset,
    config: TrainConfig,
    trials: int,
    on_trial: Callable[[Trial], None] = lambda _trial: None,
) -> tuple[TrainConfig, list[Trial]]:
    """The best of `trials` configurations by validation AUC, and every trial for the log.

    First the most complex shape of the search space is fitted briefly and turned into a scorer
    that explains a few leads, so that no winner can fail after all the trials have run.
    """
    check_artifact(dataset, dataclasses.replace(config, **LARGEST_SHAPE))
    splits = config.splits(dataset)
    validation = splits["validation"]
    done: list[Trial] = []

    def objective(trial: optuna.Trial) -> float:
        candidate = dataclasses.replace(
            config,
            num_leaves=trial.suggest_int("num_leaves", 3, LARGEST_SHAPE["num_leaves"], log=True),
            learning_rate=trial.suggest_float("learning_rate", 0.01, 0.15, log=True),
            min_data_in_leaf=trial.suggest_int("min_data_in_leaf", 10, 200, log=True),
            feature_fraction=trial.suggest_float("feature_fraction", 0.5, 1.0),
            lambda_l2=trial.suggest_float("lambda_l2", 1e-3, 10.0, log=True),
        )
        booster, _, matrix = fit_booster(candidate, dataset, splits)
        auc = float(roc_auc_score(dataset.labels[validation], booster.predict(matrix[validation])))
        record = Trial(trial.number, dict(trial.params), auc, int(booster.best_iteration or 0))
        done.append(record)
        on_trial(record)
        return auc

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=config.seed)
    )
    study.optimize(objective, n_trials=trials)
    best = dataclasses.replace(config, **study.best_params)
    return best, done
