"""Shared fixtures: a small generated export and a model really trained on it, in a temp MLflow."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from leadscore import demo_data
from leadscore.cli import DEMO_POLICY
from serving.app import create_app
from serving.settings import Settings
from training import TrainingResult, TrainingSettings, train_and_register
from training.config import load_policy
from training.data import CrmExport, load_export

SMALL_LEADS = 6_000
SEED = 7


@dataclass(frozen=True)
class TrainedModel:
    settings: TrainingSettings
    result: TrainingResult
    data_dir: Path

    @property
    def serving_settings(self) -> Settings:
        return Settings(
            model_uri=f"models:/{self.settings.model_name}@champion",
            mlflow_tracking_uri=self.settings.mlflow_tracking_uri,
        )


@pytest.fixture(scope="session", autouse=True)
def _prediction_log_in_a_temporary_database(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Servers started by tests log predictions to a scratch database, not the checkout."""
    path = tmp_path_factory.mktemp("predictions") / "predictions.db"
    previous = os.environ.get("LEADSCORE_PREDICTION_DB")
    os.environ["LEADSCORE_PREDICTION_DB"] = f"sqlite:///{path}"
    yield
    if previous is None:
        del os.environ["LEADSCORE_PREDICTION_DB"]
    else:
        os.environ["LEADSCORE_PREDICTION_DB"] = previous


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    demo_data.write(demo_data.generate(SMALL_LEADS, SEED), out, seed=SEED)
    return out


@pytest.fixture(scope="session")
def demo_export(demo_dir: Path) -> CrmExport:
    return load_export(demo_dir)


@pytest.fixture(scope="session")
def trained(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    warnings.filterwarnings("ignore", module="mlflow")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    store = tmp_path_factory.mktemp("mlflow")
    settings = TrainingSettings(
        data_dir=demo_dir,
        mlflow_tracking_uri=f"sqlite:///{store / 'mlflow.db'}",
        mlflow_artifact_root=store / "artifacts",
    )
    policy = load_policy(DEMO_POLICY)
    return TrainedModel(settings, train_and_register(settings, policy=policy), demo_dir)


@pytest.fixture(scope="session")
def client(trained: TrainedModel) -> Iterator[TestClient]:
    with TestClient(create_app(trained.serving_settings)) as test_client:
        yield test_client
