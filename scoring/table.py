"""Scored leads as the table `leadscore score` writes: one row per lead, reasons and next steps
as JSON. One
place, so the single-process job and the per-partition job on a cluster write the same bytes."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import pandas as pd

from scoring.scorer import ScoredLead

SCORE_COLUMNS = [
    "lead_id", "score", "probability", "grade", "recommendation", "recommendation_reason",
    "reasons", "next_steps", "warnings", "model_version",
]  # fmt: skip


def scored_table(scored: Sequence[ScoredLead], version: str) -> pd.DataFrame:
    """A row per scored lead, in order, with `version` as the model_version of each."""
    return pd.DataFrame(
        {
            "lead_id": [s.lead_id for s in scored],
            "score": [s.score for s in scored],
            "probability": [s.probability for s in scored],
            "grade": [s.grade for s in scored],
            "recommendation": [s.recommendation for s in scored],
            "recommendation_reason": [s.recommendation_reason for s in scored],
            "reasons": [_reasons_json(s) for s in scored],
            "next_steps": [_next_steps_json(s) for s in scored],
            "warnings": ["; ".join(s.warnings) for s in scored],
            "model_version": version,
        },
        columns=SCORE_COLUMNS,
    )


def _reasons_json(scored: ScoredLead) -> str:
    return orjson.dumps(
        [{"feature": r.feature, "value": r.value, "contribution": round(r.contribution, 4),
          "direction": r.direction, "sentence": r.sentence} for r in scored.reasons]
    ).decode()  # fmt: skip


def _next_steps_json(scored: ScoredLead) -> str:
    return orjson.dumps(
        [{"moves": [{"feature": m.feature, "action": m.action, "before": m.before,
                     "after": m.after} for m in step.moves],
          "score": step.score, "recommendation": step.recommendation,
          "sentence": step.sentence} for step in scored.next_steps or ()]
    ).decode()  # fmt: skip
