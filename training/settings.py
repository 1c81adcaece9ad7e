"""Training configuration from `LEADSCORE_*` environment variables, with embedded defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class TrainingSettings(BaseSettings):
    """Where data comes from and where runs and models go. No server is needed by default."""

    model_config = SettingsConfigDict(env_prefix="LEADSCORE_", extra="ignore")

    data_dir: Path = Path("data/demo")
    mlflow_tracking_uri: str = "sqlite:///mlflow.db"
    mlflow_artifact_root: Path = Path("models/mlartifacts")
    experiment_name: str = "leadscore"
    model_name: str = "lead-scoring"
    policy_file: Path | None = None
