"""The MLflow pyfunc face of a `LeadScorer`: how the model is logged, registered and loaded.

The model is logged "from code": MLflow stores `mlflow_model.py` (which names this wrapper) and
the scorer's own JSON and booster files, and pickles nothing of ours. The wrapper owns its
signature instead of letting MLflow infer one from pandas dtypes, so JSON requests to any
MLflow-compatible server are read the way our own API reads them.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import ModelSignature
from mlflow.types.schema import Array, ColSpec, Object, Property, Schema

from features import ACTIVITY_TYPE, CREATED_AT, LEAD_ID, OCCURRED_AT, FeatureSet
from scoring.errors import ModelArtifactError
from scoring.scorer import LeadScorer
from scoring.store import check_store

SCORER_ARTIFACT = "scorer"
REGISTERED_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")


class LeadScoringModel(mlflow.pyfunc.PythonModel):
    """Loads the scorer saved beside it and scores a frame of leads, one row per lead."""

    def load_context(self, context: Any) -> None:
        self.scorer = LeadScorer.load(context.artifacts[SCORER_ARTIFACT])

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        records = model_input.astype(object).where(model_input.notna(), None).to_dict("records")
        now = datetime.now(UTC)
        moments = [record.pop("as_of", None) or now for record in records]
        rows = []
        for scored in self.scorer.score_leads(records, moments):
            row = asdict(scored)
            row["reasons"] = json.dumps(row["reasons"])
            rows.append(row)
        return pd.DataFrame(rows, columns=[*_OUTPUT_COLUMNS])


_OUTPUT_COLUMNS = {
    "lead_id": "string",
    "probability": "double",
    "score": "long",
    "grade": "string",
    "recommendation": "string",
    "recommendation_reason": "string",
    "reasons": "string",
    "state": "string",
    "state_reason": "string",
}


def signature(feature_set: FeatureSet) -> ModelSignature:
    """The request schema: lead_id, the lead columns the features read, and its activities."""
    kinds = {
        f.computation.column: ("double" if f.kind == "numeric" else "string")
        for f in feature_set
        if hasattr(f.computation, "column")
    }
    activity = Object([Property(ACTIVITY_TYPE, "string"), Property(OCCURRED_AT, "string")])
    inputs = [
        ColSpec("string", LEAD_ID, required=False),
        ColSpec("string", CREATED_AT, required=False),
        *(ColSpec(kind, column, required=False) for column, kind in sorted(kinds.items())),
        ColSpec(Array(activity), "activities", required=False),
        ColSpec("string", "as_of", required=False),
    ]
    outputs = [ColSpec(kind, name) for name, kind in _OUTPUT_COLUMNS.items()]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def input_example(feature_set: FeatureSet, lead: dict[str, Any]) -> pd.DataFrame:
    """One example lead shaped as the signature expects (missing columns as empty cells)."""
    columns = [spec.name for spec in signature(feature_set).inputs.inputs]
    row = {column: lead.get(column) for column in columns}
    row = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
    return pd.DataFrame([row])


def model_code() -> str:
    """The file MLflow logs as the model's code and runs to load it."""
    return str(Path(__file__).with_name("mlflow_model.py"))


@dataclass(frozen=True)
class RegisteredScorer:
    """A scorer with the registered name and version it really is (an alias resolved first)."""

    scorer: LeadScorer
    name: str
    version: str
    uri: str
    registered: bool


def load_registered(uri: str, tracking_uri: str) -> RegisteredScorer:
    """Load `uri`, resolving an alias to its version first so name, version and model agree;
    a missing or unreachable store is a `StoreError` at once, never created or waited for."""
    check_store(tracking_uri, create=False)
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
        raise ModelArtifactError(
            f"expected a leadscore model at {uri}, got {type(wrapper).__name__}; "
            "point LEADSCORE_MODEL_URI at a model trained by `leadscore train`"
        )
    return RegisteredScorer(wrapper.scorer, name, str(version), resolved, match is not None)
