"""The MLflow pyfunc face of a `LeadScorer`: how the model is logged, registered and served.

The wrapper owns its signature instead of letting MLflow infer one from pandas dtypes, so JSON
requests to any MLflow-compatible server are read the way our own API reads them.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import mlflow.pyfunc
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types.schema import Array, ColSpec, Object, Property, Schema

from features.definitions import FeatureSet
from features.schema import ACTIVITY_TYPE, CREATED_AT, LEAD_ID, OCCURRED_AT
from features.scoring import LeadScorer

SCORER_ARTIFACT = "scorer"


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
