"""Training on a real LocalCluster: the same features as one process, a model as good on the same
split, and a registered artifact that serves like any other."""

from __future__ import annotations

import os
import signal
import threading
import time
from functools import partial
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from features import DataContractError
from leadscore.cli import DEMO_POLICY
from scoring import Cluster, ClusterError, LeadScorer, Settings, connect, load_registered
from tests.conftest import FittedModel
from training import build_dataset, load_policy, train_and_register
from training.data import CrmExport
from training.distributed import cluster_features, fit_on_cluster, rounds_on_sample
from training.errors import ConfigError
from training.pipeline import check_distributable
from training.train import TrainConfig, fit_booster

pytestmark = pytest.mark.integration


def test_features_bucket_by_bucket_equal_the_single_process_engine_on_the_demo(
    dask_cluster: Cluster, demo_export: CrmExport
) -> None:
    single = build_dataset(demo_export)
    spread = build_dataset(demo_export, compute=partial(cluster_features, dask_cluster))
    pd.testing.assert_frame_equal(spread.features, single.features)
    np.testing.assert_array_equal(spread.labels, single.labels)


def test_a_bad_activity_is_named_at_its_row_of_the_whole_table(
    dask_cluster: Cluster, demo_export: CrmExport
) -> None:
    dataset = build_dataset(demo_export)
    events = demo_export.activities.astype({"occurred_at": object})
    events.loc[1234, "occurred_at"] = "yesterday-ish"
    raised = []
    for compute in (partial(cluster_features, dask_cluster), None):
        with pytest.raises(DataContractError) as error:
            (compute or _engine)(
                dataset.leads, events, dataset.as_of, dataset.feature_set,
                source="leads.parquet", activities_source="activities.parquet",
            )  # fmt: skip
        raised.append((error.value.source, error.value.row, error.value.column))
    assert raised[0] == raised[1] == ("activities.parquet", 1235, "occurred_at")


def _engine(*args: object, **kwargs: object) -> pd.DataFrame:
    from features import build_features

    return build_features(*args, **kwargs)


def test_the_booster_fitted_on_the_cluster_is_within_a_hundredth_of_auc_of_one_process(
    dask_cluster: Cluster, fitted: FittedModel
) -> None:
    dataset = fitted.dataset
    config = TrainConfig()
    splits = config.splits(dataset)
    holdout = splits["holdout"]
    single = fit_booster(config, dataset, splits)
    chosen, rounds, family = rounds_on_sample(dataset, config, splits, family=False, sample=4_000)
    assert family is None and chosen == config and rounds >= 1
    spread = fit_on_cluster(dask_cluster, config, dataset, splits, rounds)
    assert isinstance(spread.booster, lgb.Booster)
    assert spread.booster.current_iteration() == rounds
    assert spread.encoder.vocabularies_ == single.encoder.vocabularies_
    labels = dataset.labels[holdout]
    auc_single = roc_auc_score(labels, single.booster.predict(single.matrix[holdout]))
    auc_spread = roc_auc_score(labels, spread.booster.predict(spread.matrix[holdout]))
    assert abs(auc_spread - auc_single) <= 0.01, (auc_spread, auc_single)


def test_training_on_the_cluster_registers_a_model_that_loads_and_scores_as_any_other(
    dask_cluster: Cluster, empty_store: Settings, demo_dir: Path
) -> None:
    settings = empty_store.model_copy(update={"data_dir": demo_dir})
    steps: list[str] = []
    result = train_and_register(
        settings, policy=load_policy(DEMO_POLICY), on_step=steps.append, cluster=dask_cluster
    )
    assert any(s.startswith("Fitting LightGBM on the cluster") for s in steps), steps
    assert all("linear_trees" not in s for s in steps)  # one machine only: not offered
    scorer = result.trainer.scorer_
    assert scorer.metadata["fitted_on"]["dask_workers"] == 2
    assert scorer.metadata["model_family"] in ("default_trees", "shallow_trees")
    assert result.trainer.metrics_["roc_auc"] > 0.7
    registration = result.registration
    uri = f"models:/{registration.model_name}/{registration.version}"
    loaded = load_registered(uri, settings.mlflow_tracking_uri).scorer
    assert isinstance(loaded, LeadScorer)
    features = result.dataset.features.iloc[:20]
    assert [s.score for s in loaded.score_frame(features)] == [
        s.score for s in scorer.score_frame(features)
    ]


def test_what_a_cluster_cannot_train_is_refused_before_reading_data() -> None:
    with pytest.raises(ConfigError, match="--tune or --dask"):
        check_distributable(TrainConfig(), 5, "own.toml")
    linear = TrainConfig(lightgbm_overrides={"linear_tree": True})
    with pytest.raises(ConfigError, match="linear leaves on one machine only"):
        check_distributable(linear, 0, "own.toml")
    check_distributable(TrainConfig(lightgbm_overrides={"num_leaves": 7}), 0, "own.toml")


def test_a_worker_lost_during_the_fit_ends_it_at_once_in_one_line(fitted: FittedModel) -> None:
    dataset = fitted.dataset
    config = TrainConfig(lightgbm_overrides={"learning_rate": 0.001})
    splits = config.splits(dataset)
    failure: list[BaseException] = []
    with connect("local:2") as cluster:
        victim = next(iter(cluster.client.run(os.getpid).values()))

        def fit() -> None:
            try:
                fit_on_cluster(cluster, config, dataset, splits, 200_000)  # minutes, unkilled
            except BaseException as error:  # handed to the test's thread
                failure.append(error)

        thread = threading.Thread(target=fit)
        thread.start()
        time.sleep(4)  # the workers have found each other and are boosting
        killed = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        thread.join(timeout=150)
        assert not thread.is_alive()
    assert time.monotonic() - killed < 60
    assert len(failure) == 1 and isinstance(failure[0], ClusterError), failure
    assert "worker was lost during the LightGBM fit" in str(failure[0])
    assert "run the training again" in str(failure[0])
