"""Scoring a whole file: features built once, then slices of leads scored on every core.

Slices go to forked processes, which share the model and the features with the parent without
copying them; only the finished rows come back. Forking is safe here because the TreeSHAP
tables never call into LightGBM (and its OpenMP threads); a model that needs LightGBM to explain
is scored in this process.
"""

from __future__ import annotations

import multiprocessing

import orjson
import pandas as pd

from scoring import LeadScorer, ScoredLead

SLICE = 20_000
COLUMNS = [
    "lead_id", "score", "probability", "grade", "recommendation", "recommendation_reason",
    "reasons", "model_version",
]  # fmt: skip

# What forked workers read: set by score_table for the duration of one call.
_job: tuple[LeadScorer, pd.DataFrame, int, str] | None = None


def score_table(
    scorer: LeadScorer,
    features: pd.DataFrame,
    *,
    reasons: int,
    version: str,
    workers: int,
    slice_size: int = SLICE,
) -> pd.DataFrame:
    """A row per lead of `features` (indexed by lead id), in order, as `leadscore score` writes."""
    global _job
    bounds = [(i, min(i + slice_size, len(features))) for i in range(0, len(features), slice_size)]
    parallel = (
        workers > 1
        and len(bounds) > 1
        and scorer.attribution in ("treeshap-tables", "none")
        and "fork" in multiprocessing.get_all_start_methods()
    )
    _job = (scorer, features, reasons, version)
    try:
        if parallel:
            with multiprocessing.get_context("fork").Pool(min(workers, len(bounds))) as pool:
                parts = pool.map(_score_slice, bounds)
        else:
            parts = [_score_slice(b) for b in bounds]
    finally:
        _job = None
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)


def _score_slice(bounds: tuple[int, int]) -> pd.DataFrame:
    if _job is None:
        raise RuntimeError("score_table sets the job before scoring a slice")
    scorer, features, reasons, version = _job
    scored = scorer.score_frame(features.iloc[bounds[0] : bounds[1]], reasons=reasons)
    return pd.DataFrame(
        {
            "lead_id": [s.lead_id for s in scored],
            "score": [s.score for s in scored],
            "probability": [s.probability for s in scored],
            "grade": [s.grade for s in scored],
            "recommendation": [s.recommendation for s in scored],
            "recommendation_reason": [s.recommendation_reason for s in scored],
            "reasons": [_reasons_json(s) for s in scored],
            "model_version": version,
        },
        columns=COLUMNS,
    )


def _reasons_json(scored: ScoredLead) -> str:
    return orjson.dumps(
        [{"feature": r.feature, "value": r.value, "contribution": round(r.contribution, 4),
          "direction": r.direction, "sentence": r.sentence} for r in scored.reasons]
    ).decode()  # fmt: skip
