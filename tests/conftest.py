"""Shared fixtures: small generated data, one model fitted in memory, and MLflow stores.

Session fixtures are read-only. A test that changes a registry gets its own store: a copy of
an empty template database (made once), or of the registered demo store.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest
from fastapi.testclient import TestClient

from leadscore import demo_data
from leadscore.cli import DEMO_POLICY
from scoring import Cluster, Settings, connect
from serving.app import create_app
from serving.loading import LoadedModel
from training import (
    CrmExport,
    Dataset,
    LeadScoreTrainer,
    TrainingResult,
    attach_next_steps,
    build_dataset,
    demo_config,
    load_export,
    load_policy,
    train_and_register,
)

SMALL_LEADS = 6_000
SEED = 7
# Fewer resamples than the default 400 behind the gate's AUC interval: the same decisions on
# these clear-cut models, in a fraction of the time.
TEST_BOOTSTRAP_ROUNDS = 60


@dataclass(frozen=True)
class FittedModel:
    """The demo model fitted in memory, with the dataset it was fitted on: no MLflow."""

    trainer: LeadScoreTrainer
    dataset: Dataset
    data_dir: Path

    @property
    def loaded(self) -> LoadedModel:
        return LoadedModel(self.trainer.scorer_, "lead-scoring", "1", "models:/lead-scoring/1")


@dataclass(frozen=True)
class TrainedModel:
    """The demo model trained, logged and registered as champion in a store of its own."""

    settings: Settings
    result: TrainingResult
    data_dir: Path


def store_settings(directory: Path, **overrides: object) -> Settings:
    """Settings of an MLflow store in `directory` (artifacts beside the database)."""
    return Settings(
        mlflow_tracking_uri=f"sqlite:///{directory / 'mlflow.db'}",
        mlflow_artifact_root=directory / "artifacts",
        gate_bootstrap_rounds=TEST_BOOTSTRAP_ROUNDS,
        **overrides,
    )


@pytest.fixture(scope="session", autouse=True)
def _quiet_mlflow_and_scratch_prediction_log(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Servers started by tests log predictions to a scratch database (and spool), and keep
    their secret in a scratch file, not in the checkout."""
    warnings.filterwarnings("ignore", module="mlflow")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    scratch = tmp_path_factory.mktemp("predictions")
    scratch_env = {
        "LEADSCORE_PREDICTION_DB": f"sqlite:///{scratch / 'predictions.db'}",
        "LEADSCORE_PREDICTION_SPOOL": str(scratch / "spool.db"),
        "LEADSCORE_SECRET_FILE": str(scratch / "leadscore.secret"),
    }
    previous = {name: os.environ.get(name) for name in scratch_env}
    os.environ.update(scratch_env)
    yield
    for name, value in previous.items():
        if value is None:
            del os.environ[name]
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    demo_data.write(demo_data.generate(SMALL_LEADS, SEED), out, seed=SEED)
    return out


@pytest.fixture(scope="session")
def demo_export(demo_dir: Path) -> CrmExport:
    return load_export(demo_dir)


@pytest.fixture(scope="session")
def fitted(demo_dir: Path, demo_export: CrmExport) -> FittedModel:
    dataset = build_dataset(demo_export)
    trainer = LeadScoreTrainer(policy=load_policy(DEMO_POLICY)).fit(dataset)
    moves = demo_config(demo_dir).next_steps
    assert moves is not None  # the demo marks its engagement features as actionable
    attach_next_steps(trainer, dataset, moves, None)
    return FittedModel(trainer, dataset, demo_dir)


@pytest.fixture(scope="session")
def _template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow database with its schema made once; creating one costs seconds."""
    directory = tmp_path_factory.mktemp("mlflow-template")
    mlflow.MlflowClient(store_settings(directory).mlflow_tracking_uri).search_experiments()
    return directory / "mlflow.db"


@pytest.fixture
def empty_store(_template_store: Path, tmp_path: Path) -> Settings:
    """Settings of a fresh, empty MLflow store of this test's own."""
    store = tmp_path / "store"
    store.mkdir()
    shutil.copyfile(_template_store, store / "mlflow.db")
    return store_settings(store)


@pytest.fixture(scope="session")
def trained(
    demo_dir: Path, _template_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> TrainedModel:
    """Read-only: tests that change its registry take `trained_copy`."""
    store = tmp_path_factory.mktemp("mlflow")
    shutil.copyfile(_template_store, store / "mlflow.db")
    settings = store_settings(store, data_dir=demo_dir)
    result = train_and_register(settings, policy=load_policy(DEMO_POLICY))
    return TrainedModel(settings, result, demo_dir)


@pytest.fixture
def trained_copy(trained: TrainedModel, tmp_path: Path) -> TrainedModel:
    """The registered demo store, copied for a test that changes it (its runs' files shared)."""
    store = tmp_path / "store"
    store.mkdir()
    source = Path(trained.settings.mlflow_tracking_uri.removeprefix("sqlite:///"))
    shutil.copyfile(source, store / "mlflow.db")
    settings = trained.settings.model_copy(
        update={"mlflow_tracking_uri": f"sqlite:///{store / 'mlflow.db'}"}
    )
    return TrainedModel(settings, trained.result, trained.data_dir)


@pytest.fixture(scope="session")
def client(fitted: FittedModel) -> Iterator[TestClient]:
    """The API serving the in-memory demo model: no MLflow, no prediction log."""
    settings = Settings(prediction_db="", model_poll_seconds=0)
    with TestClient(create_app(settings, loaded=fitted.loaded)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[Cluster]:
    """A LocalCluster of 2 worker processes on 127.0.0.1, shared: tests that kill workers start
    their own."""
    with connect("local:2", buckets=6) as cluster:
        yield cluster
