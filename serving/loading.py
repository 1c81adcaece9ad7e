"""Loading a registered model for serving: the scorer, the version it really is, and its report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # MLflow and LightGBM load with the model, after the port opens
    from scoring import LeadScorer

REPORT_ARTIFACT = "report.html"


@dataclass(frozen=True)
class LoadedModel:
    scorer: LeadScorer
    name: str
    version: str
    uri: str
    report_html: str | None = None


def load_model(uri: str, tracking_uri: str) -> LoadedModel:
    """Load `uri` (an alias resolves to its version first) with the report logged beside it."""
    from scoring import load_registered

    found = load_registered(uri, tracking_uri)
    return LoadedModel(
        scorer=found.scorer,
        name=found.name,
        version=found.version,
        uri=found.uri,
        report_html=_report(found.name, found.version) if found.registered else None,
    )


def _report(name: str, version: str) -> str | None:
    """The HTML report logged with the model's training run, if there is one."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    run_id = client.get_model_version(name, version).run_id
    try:
        path = client.download_artifacts(run_id, REPORT_ARTIFACT)
    except (MlflowException, OSError):  # an older run without a report: the route says so
        return None
    return Path(path).read_text()
