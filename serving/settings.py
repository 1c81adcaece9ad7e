"""Server configuration from `LEADSCORE_*` environment variables, validated at start-up."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Defaults serve the local champion from the embedded SQLite MLflow store; no server needed."""

    model_config = SettingsConfigDict(env_prefix="LEADSCORE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    model_uri: str = "models:/lead-scoring@champion"
    mlflow_tracking_uri: str = "sqlite:///mlflow.db"
    max_batch_leads: int = Field(1000, ge=1)
    max_activities_per_lead: int = Field(1000, ge=1)
    default_reasons: int = Field(5, ge=0, le=50)
