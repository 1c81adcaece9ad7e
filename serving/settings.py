"""Server configuration from `LEADSCORE_*` environment variables, validated at start-up."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from serving.auth import parse_keys


class Settings(BaseSettings):
    """Defaults serve the local champion from the embedded SQLite MLflow store; no server needed."""

    model_config = SettingsConfigDict(env_prefix="LEADSCORE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, description="uvicorn worker processes")
    model_uri: str = "models:/lead-scoring@champion"
    mlflow_tracking_uri: str = "sqlite:///mlflow.db"
    max_batch_leads: int = Field(1000, ge=1)
    max_activities_per_lead: int = Field(1000, ge=1)
    default_reasons: int = Field(5, ge=0, le=50)
    max_body_bytes: int = Field(5_000_000, ge=1024)
    prediction_db: str = Field(
        "sqlite:///predictions.db", description="SQLAlchemy URL of the prediction log; '' for none"
    )
    prediction_table: str = "predictions"
    model_poll_seconds: float = Field(30.0, ge=0, description="0 turns hot swap off")
    api_keys: str = Field("", repr=False, description="key:scope pairs, comma separated")

    @field_validator("api_keys")
    @classmethod
    def _keys_parse(cls, value: str) -> str:
        parse_keys(value)
        return value

    @property
    def is_loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")
