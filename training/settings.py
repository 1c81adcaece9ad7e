"""Training configuration from `LEADSCORE_*` environment variables, with embedded defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from training.gate import GateRules


class TrainingSettings(BaseSettings):
    """Where data comes from and where runs and models go. No server is needed by default."""

    model_config = SettingsConfigDict(env_prefix="LEADSCORE_", extra="ignore")

    data_dir: Path = Path("data/demo")
    mlflow_tracking_uri: str = "sqlite:///mlflow.db"
    mlflow_artifact_root: Path = Path("models/mlartifacts")
    experiment_name: str = "leadscore"
    model_name: str = "lead-scoring"
    policy_file: Path | None = None
    gate_auc_tolerance: float = 0.005
    gate_ece_margin: float = 0.01

    def gate_rules(self) -> GateRules:
        return GateRules(auc_tolerance=self.gate_auc_tolerance, ece_margin=self.gate_ece_margin)
