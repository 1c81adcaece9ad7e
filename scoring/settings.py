"""Every `LEADSCORE_*` environment variable, with its default, in one validated object.

The command line, training and serving all read `Settings`; the README's Configuration table
lists the same variables (a test holds the two together). Build it with `load_settings`, which
turns a bad value into one line naming the variable.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scoring.errors import SettingsError

Scope = Literal["score", "feedback", "admin"]
SCOPES: tuple[Scope, ...] = ("score", "feedback", "admin")
DEFAULT_MODEL_NAME = "lead-scoring"
CHAMPION = "champion"
ENV_PREFIX = "LEADSCORE_"


class Settings(BaseSettings):
    """Defaults run everything locally: an SQLite MLflow store in the working directory."""

    # `model_*` fields name the served model, not pydantic's own namespace.
    # Inputs stay out of error texts: an API key must never reach a traceback or a log.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", protected_namespaces=(), hide_input_in_errors=True
    )

    # Data and training
    data_dir: Path = Field(Path("data/demo"), description="The export `leadscore train` reads.")
    demo_leads: int = Field(20_000, ge=100, description="Leads in a generated demo export.")
    policy_file: Path | None = Field(None, description="The policy file training applies.")
    mlflow_tracking_uri: str = Field("sqlite:///mlflow.db", description="The MLflow store.")
    mlflow_artifact_root: Path = Field(
        Path("models/mlartifacts"), description="Where MLflow keeps model files."
    )
    experiment_name: str = Field("leadscore", description="The MLflow experiment of runs.")
    model_name: str = Field(DEFAULT_MODEL_NAME, description="The registered model.")
    gate_auc_tolerance: float = Field(0.005, ge=0, description="AUC a challenger may lose.")
    gate_ece_margin: float = Field(0.01, ge=0, description="ECE a challenger may add.")
    gate_bootstrap_rounds: int = Field(
        400, ge=20, description="Resamples behind the gate's AUC interval."
    )
    # Serving
    model_uri: str = Field("", description="The model served; default the champion alias.")
    host: str = Field("127.0.0.1", description="Address the server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the server listens on.")
    workers: int = Field(1, ge=1, description="Server processes.")
    api_keys: str | None = Field(
        None, repr=False, description="`key:scope` pairs, comma separated; unset: no auth."
    )
    api_keys_file: Path | None = Field(
        None, description="A file of `key:scope` pairs, one per line (instead of API_KEYS)."
    )
    secret_key: str | None = Field(
        None, repr=False, description="Signs report links, keys lead-id hashes; else the file."
    )
    secret_file: Path = Field(
        Path("leadscore.secret"), description="Holds the secret, made on first use (0600)."
    )
    max_batch_leads: int = Field(1000, ge=1, description="Leads in one batch request.")
    max_activities_per_lead: int = Field(1000, ge=1, description="Activities of one lead.")
    max_body_bytes: int = Field(5_000_000, ge=1024, description="Size of one request body.")
    default_reasons: int = Field(5, ge=0, le=50, description="Reasons when none are asked.")
    accounts_save_seconds: float = Field(
        30.0, gt=0, description="How often the account book is saved beside the spool."
    )
    default_next_steps: int = Field(
        3, ge=0, le=10, description="Next steps per lead below SQL when none are asked."
    )
    prediction_db: str = Field(
        "sqlite:///predictions.db", description="SQLAlchemy URL of the prediction log; '' off."
    )
    prediction_table: str = Field("predictions", description="Table of the prediction log.")
    prediction_spool: Path = Field(
        Path("prediction-spool.db"), description="Local spool every logged score goes to first."
    )
    prediction_spool_max_mb: int = Field(
        1024, ge=1, description="Spool size at which scoring answers 503 rather than lose rows."
    )
    prediction_spool_degraded_rows: int = Field(
        100_000, ge=1, description="Rows waiting in the spool past which /readyz says degraded."
    )
    read_timeout_seconds: float = Field(
        10.0, gt=0, description="Time a client has to send a request's headers and body."
    )
    model_poll_seconds: float = Field(30.0, ge=0, description="Champion checks; 0 turns off.")
    # Closing the loop: outcomes, the control group, drift
    control_share: float = Field(
        0.0, ge=0, le=0.5, description="Share of leads kept out of the policy, as a control group."
    )
    control_recommendation: Literal["SQL", "MQL", "nurture"] = Field(
        "MQL", description="What control leads are answered instead of the policy's call."
    )
    performance_weeks: int = Field(
        26, ge=1, le=520, description="Weeks of scoring /v1/performance reads by default."
    )
    drift_window_leads: int = Field(
        500, ge=50, description="Most recent scored leads the drift check compares."
    )
    drift_check_seconds: float = Field(
        30.0, gt=0, description="How often the drift check runs in each worker."
    )
    drift_psi_alert: float = Field(
        0.25, gt=0, description="PSI of the score or a feature that raises a drift alert."
    )
    drift_unseen_alert: float = Field(
        0.05, gt=0, le=1, description="Share of unseen category values that raises an alert."
    )
    drift_webhook_url: str | None = Field(
        None, description="Drift alerts are posted here as JSON (with retries); unset: logs only."
    )

    @field_validator("api_keys")
    @classmethod
    def _keys_parse(cls, value: str | None) -> str | None:
        if value is not None:
            parse_keys(value)
        return value

    @model_validator(mode="after")
    def _keys_from_one_place(self) -> Settings:
        if self.api_keys is not None and self.api_keys_file is not None:
            raise ValueError("set LEADSCORE_API_KEYS or LEADSCORE_API_KEYS_FILE, not both")
        if self.api_keys_file is not None:
            parse_keys(_read_keys_file(self.api_keys_file))
        return self

    @model_validator(mode="after")
    def _champion_by_default(self) -> Settings:
        if not self.model_uri:
            self.model_uri = f"models:/{self.model_name}@{CHAMPION}"
        return self

    @property
    def is_loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")

    def relative_to(self, base: Path) -> Settings:
        """These settings with relative paths and SQLite files read from `base`: a notebook
        whose kernel starts in notebooks/ then uses the repository's data and MLflow store."""

        def path(value: Path) -> Path:
            return value if value.is_absolute() else base / value

        def sqlite(url: str) -> str:
            prefix = "sqlite:///"
            if not url.startswith(prefix) or url[len(prefix) :].startswith("/"):
                return url
            return prefix + str(base / url[len(prefix) :])

        return self.model_copy(
            update={
                "data_dir": path(self.data_dir),
                "policy_file": None if self.policy_file is None else path(self.policy_file),
                "mlflow_tracking_uri": sqlite(self.mlflow_tracking_uri),
                "mlflow_artifact_root": path(self.mlflow_artifact_root),
                "prediction_db": sqlite(self.prediction_db),
                "prediction_spool": path(self.prediction_spool),
                "secret_file": path(self.secret_file),
            }
        )

    def key_digests(self) -> dict[str, Scope]:
        """SHA-256 digest of each API key, with its scope: the keys themselves are not kept.
        Empty only when no key list is set at all, which keeps the server on loopback."""
        if self.api_keys_file is not None:
            return parse_keys(_read_keys_file(self.api_keys_file))
        return {} if self.api_keys is None else parse_keys(self.api_keys)

    def secret(self) -> bytes:
        """The server's secret: LEADSCORE_SECRET_KEY, else the secret file, made on first use.

        It signs report links and keys the hashes of lead ids that are emails or phones, so
        every worker, the command line and later restarts must share it: losing the file
        breaks the links and the joins of hashed ids with outcomes.
        """
        if self.secret_key:
            return self.secret_key.encode()
        if not self.secret_file.exists():
            # Written aside and linked in place: a worker starting at the same moment reads
            # either no file or the whole secret, never a half-written one.
            draft = self.secret_file.with_name(f".{self.secret_file.name}.{os.getpid()}")
            draft.parent.mkdir(parents=True, exist_ok=True)
            draft.write_text(secrets.token_hex(32))
            draft.chmod(0o600)
            with contextlib.suppress(FileExistsError):
                os.link(draft, self.secret_file)
            draft.unlink()
        return self.secret_file.read_bytes().strip()

    @property
    def auth_configured(self) -> bool:
        return self.api_keys is not None or self.api_keys_file is not None


def parse_keys(spec: str) -> dict[str, Scope]:
    """`"k1:score,k2:admin"` (or one pair per line) -> {sha256(k1): "score", ...}.

    Several keys may share a scope, which is how keys rotate: add the new key, move clients,
    remove the old one. A list that is set but holds no key is an error, not "auth off"; and
    no part of a key is ever echoed, since the text after the last ':' may be one too.
    """
    keys: dict[str, Scope] = {}
    entries = [part.strip() for part in spec.replace("\n", ",").split(",")]
    for position, item in enumerate(entries, start=1):
        if not item or item.startswith("#"):
            continue
        key, colon, scope = item.rpartition(":")
        if not colon or not key.strip():
            raise ValueError(
                f"entry {position} is not 'key:scope'; expected entries like 'key:score' or "
                "'key:admin', separated by commas or new lines"
            )
        if scope not in SCOPES:
            raise ValueError(
                f"entry {position} has an unknown scope; expected 'score', 'feedback' or "
                "'admin' (lower case) after the last ':'"
            )
        keys[key_digest(key.strip())] = scope  # type: ignore[assignment]
    if not keys:
        raise ValueError(
            "the API key list is set but holds no key; set 'key:score' or 'key:admin' pairs, "
            "or unset it to serve on loopback without keys"
        )
    return keys


def _read_keys_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read the API keys file {path}: {error}") from None


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def load_settings(**overrides: object) -> Settings:
    """The settings from the environment (and `overrides`); a bad value is a `SettingsError`
    that names the variable, what it holds and what it should."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        problems = []
        for problem in error.errors(include_url=False):
            field = str(problem["loc"][0]) if problem["loc"] else ""
            name = f"{ENV_PREFIX}{field.upper()}" if field else "the settings"
            message = str(problem["msg"]).removeprefix("Value error, ")
            # API keys are secrets: never echoed, not even in an error.
            secret = field in ("api_keys", "api_keys_file", "secret_key") or not field
            shown = "" if secret else f" (got {problem.get('input')!r})"
            problems.append(f"{name}: {message}{shown}")
        raise SettingsError("; ".join(problems)) from None
