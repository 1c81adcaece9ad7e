"""Loading a registered model from MLflow into a scorer, with the version it really is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow import MlflowClient

from features import LeadScorer
from features.pyfunc import LeadScoringModel

REPORT_ARTIFACT = "report.html"
REGISTERED_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")


@dataclass(frozen=True)
class LoadedModel:
    scorer: LeadScorer
    name: str
    version: str
    uri: str
    report_html: str | None = None


def load_model(uri: str, tracking_uri: str) -> LoadedModel:
    """Load `uri`, resolving an alias to its version first so name, version and model agree."""
    mlflow.set_tracking_uri(tracking_uri)
    match = REGISTERED_URI.match(uri)
    if match:
        name = match["name"]
        version = match["version"] or (
            MlflowClient().get_model_version_by_alias(name, match["alias"]).version
        )
        resolved = f"models:/{name}/{version}"
    else:
        name, version, resolved = uri.rstrip("/").rsplit("/", 1)[-1], "unregistered", uri
    wrapper = mlflow.pyfunc.load_model(resolved).unwrap_python_model()
    if not isinstance(wrapper, LeadScoringModel):
        raise TypeError(
            f"expected a leadscore model at {uri}, got {type(wrapper).__name__}; "
            "point LEADSCORE_MODEL_URI at a model trained by `leadscore train`"
        )
    return LoadedModel(
        scorer=wrapper.scorer,
        name=name,
        version=str(version),
        uri=resolved,
        report_html=_report(name, str(version)) if match else None,
    )


def _report(name: str, version: str) -> str | None:
    """The HTML report logged with the model's training run, if there is one."""
    client = MlflowClient()
    run_id = client.get_model_version(name, version).run_id
    try:
        path = client.download_artifacts(run_id, REPORT_ARTIFACT)
    except Exception:  # an older run without a report: the route says so
        return None
    return Path(path).read_text()
