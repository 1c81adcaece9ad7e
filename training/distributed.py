"""Training on a Dask cluster: point-in-time features bucket by bucket, and LightGBM's own
`DaskLGBMClassifier` for the fit. Everything else (calibration, thresholds, audit, report,
registration) is the single-machine path on the booster it returns, so the artifact, and
serving, do not change.

LightGBM has no early stopping across machines, so the number of rounds is chosen first, on one
machine: the model shape and its rounds are early-stopped on a sample of the training rows (at
most `ROUNDS_SAMPLE`) against the whole validation slice, and the distributed fit then runs that
many rounds on every training row. Linear leaves train on one machine only, so that shape is not
offered here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import CancelledError
from typing import Any

import numpy as np
import pandas as pd

from features import LEAD_ID, DataContractError, FeatureSet, bucket_rows
from scoring import Cluster, ClusterError, FeatureEncoder
from training.examples import Dataset
from training.train import (
    MODEL_FAMILY,
    FamilyChoice,
    FittedBooster,
    TrainConfig,
    choose_family,
    fit_booster,
)

ROUNDS_SAMPLE = 250_000  # training rows the rounds are early-stopped on, on one machine
DISTRIBUTED_FAMILY = {name: p for name, p in MODEL_FAMILY.items() if not p.get("linear_tree")}
NETWORK_MINUTES = 2  # how long LightGBM's workers wait to find each other before giving up


def cluster_features(
    cluster: Cluster,
    leads: pd.DataFrame,
    activities: pd.DataFrame | None,
    as_of: np.ndarray,
    feature_set: FeatureSet,
    *,
    source: str = "leads",
    activities_source: str = "activities",
) -> pd.DataFrame:
    """`build_features`' result, computed one bucket of leads (with their own activities) per
    task: the same values, in the same order, indexed by lead_id. A bad cell names its row in
    the tables given, as the single-process engine does."""
    from distributed import KilledWorker

    from features import build_features

    buckets = cluster.buckets_for(len(leads))
    lead_rows = bucket_rows(leads[LEAD_ID], buckets)
    no_events = [np.empty(0, dtype=np.int64)] * buckets
    event_rows_of = no_events if activities is None else bucket_rows(activities[LEAD_ID], buckets)
    client = cluster.client
    tasks = []
    for rows, event_rows in zip(lead_rows, event_rows_of, strict=True):
        if len(rows) == 0:
            continue
        events = None if activities is None else activities.iloc[event_rows]
        part = client.scatter((leads.iloc[rows], events, as_of[rows]), hash=False)
        task = client.submit(_bucket, part, feature_set, pure=False)
        tasks.append((rows, event_rows, task))
    frames = []
    for rows, event_rows, task in tasks:
        try:
            result = task.result()
        except (CancelledError, KilledWorker) as error:
            # The bucket was scattered to the worker that died, and is gone with it.
            raise ClusterError(
                f"a Dask worker was lost while computing features ({type(error).__name__}); "
                "nothing was registered: run the training again"
            ) from error
        if isinstance(result, DataContractError):
            of_leads = result.source == "leads"
            raise DataContractError(
                result.detail,
                source=source if of_leads else activities_source,
                row=None
                if result.row is None
                else int((rows if of_leads else event_rows)[result.row - 1]) + 1,
                column=result.column,
            )
        frames.append(result)
    if not frames:  # no leads at all: the engine's own empty frame
        return build_features(leads, activities, as_of, feature_set, source=source)
    order = np.concatenate([rows for rows, _, _ in tasks])
    return pd.concat(frames).iloc[np.argsort(order, kind="stable")]


def _bucket(
    part: tuple[pd.DataFrame, pd.DataFrame | None, np.ndarray], feature_set: FeatureSet
) -> pd.DataFrame | DataContractError:
    from features import build_features

    leads, activities, as_of = part
    try:
        return build_features(leads, activities, as_of, feature_set)
    except DataContractError as error:
        return error  # the driver names the row as the user's table numbers it


def rounds_on_sample(
    dataset: Dataset,
    config: TrainConfig,
    splits: dict[str, np.ndarray],
    *,
    family: bool,
    sample: int = ROUNDS_SAMPLE,
    on_step: Callable[[str], None] = lambda _message: None,
) -> tuple[TrainConfig, int, FamilyChoice | None]:
    """The config and number of rounds the distributed fit runs: early stopping of a local fit
    on at most `sample` training rows (seeded) against the validation slice; with `family`, the
    best shape of `DISTRIBUTED_FAMILY` on the same rows. The holdout is not read."""
    train = splits["train"]
    if len(train) > sample:
        train = np.sort(np.random.default_rng(config.seed).choice(train, sample, replace=False))
    local = {**splits, "train": train}
    on_step(
        f"Choosing the rounds on one machine: {len(train):,} training rows, early-stopped on "
        f"{len(splits['validation']):,} validation rows"
    )
    if family:
        choice = choose_family(
            dataset,
            config,
            local,
            on_candidate=lambda c: on_step(
                f"Model family: {c.name}, validation AUC {c.validation_roc_auc:.4f}, "
                f"{c.best_iteration} rounds"
            ),
            shapes=DISTRIBUTED_FAMILY,
        )
        best = max(choice.candidates, key=lambda c: c.validation_roc_auc)
        return choice.config, max(best.best_iteration, 1), choice
    fitted = fit_booster(config, dataset, local)
    return config, max(int(fitted.booster.best_iteration or 0), 1), None


def fit_on_cluster(
    cluster: Cluster,
    config: TrainConfig,
    dataset: Dataset,
    splits: dict[str, np.ndarray],
    rounds: int,
) -> FittedBooster:
    """`DaskLGBMClassifier` for `rounds` rounds on every training row, spread over the workers;
    category codes are fixed from the whole training slice first, so every part agrees. Returns
    a local booster, as `fit_booster` does."""
    import dask.array as da
    import lightgbm as lgb
    from distributed import KilledWorker
    from lightgbm.dask import DaskLGBMClassifier

    encoder = FeatureEncoder(dataset.feature_set).fit(dataset.features.iloc[splits["train"]])
    matrix = encoder.transform(dataset.features)
    train = splits["train"]
    client = cluster.client
    parts = max(1, len(cluster.threads))
    features = _scattered(client, matrix[train], parts, da)
    labels = _scattered(client, dataset.labels[train].astype(np.float64), parts, da)
    params = _distributed_params(config, cluster)
    model = DaskLGBMClassifier(client=client, n_estimators=rounds, **params)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will be ignored.*")
        warnings.filterwarnings("ignore", message=".*Found .* in params.*")
        try:
            model.fit(
                features,
                labels,
                feature_name=dataset.feature_set.names,
                categorical_feature=encoder.categorical_indices,
            )
        except (CancelledError, KilledWorker, lgb.basic.LightGBMError) as error:
            # LightGBM's workers train as one ring: losing one ends the fit for all, and the
            # rows it held are gone. Nothing is registered; the run can simply be started again.
            raise ClusterError(
                f"a Dask worker was lost during the LightGBM fit ({type(error).__name__}); "
                "nothing was registered: run the training again"
            ) from error
    booster = model.booster_
    return FittedBooster(booster, encoder, matrix)


def _scattered(client: Any, array: np.ndarray, parts: int, da: Any) -> Any:
    """`array` as a Dask array of `parts` row blocks, each already on a worker."""
    pieces = [p for p in np.array_split(array, parts) if len(p)]
    futures = client.scatter(pieces, hash=False)
    blocks = [
        da.from_delayed(f, shape=p.shape, dtype=p.dtype)
        for f, p in zip(futures, pieces, strict=True)
    ]
    return da.concatenate(blocks)


def _distributed_params(config: TrainConfig, cluster: Cluster) -> dict[str, Any]:
    params = config.lightgbm_params()
    params.pop("num_threads", None)  # each worker uses its own threads
    params["time_out"] = NETWORK_MINUTES
    if cluster.listen_port is not None:
        params["local_listen_port"] = cluster.listen_port
    return params
