"""Scoring a whole file: features built once, then slices of leads scored on every core.

Slices go to forked processes, which share the model and the features with the parent without
copying them; only the finished rows come back. Forking is safe here because the TreeSHAP
tables never call into LightGBM (and its OpenMP threads); a model that needs LightGBM to explain
is scored in this process.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import orjson
import pandas as pd

from features import ACTIVITY_TYPE, CREATED_AT, LEAD_ID, OCCURRED_AT
from leadscore.errors import ScoringInputError
from scoring import LeadScorer, ScoredLead
from training import DatasetConfig

SLICE = 20_000
COLUMNS = [
    "lead_id", "score", "probability", "grade", "recommendation", "recommendation_reason",
    "reasons", "warnings", "model_version",
]  # fmt: skip
OUTPUT_FORMATS = (".csv", ".parquet")


def canonical_columns(
    leads: pd.DataFrame,
    activities: pd.DataFrame | None,
    config: DatasetConfig | None,
    *,
    source: str,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The file's columns under the names the model reads: the dataset config's id, created_at
    and activity columns renamed as training renamed them.

    A leads file without rows is refused (a header alone is an export that went wrong, not zero
    leads to score); activities may have none, as new leads often do.
    """
    if leads.empty:
        raise ScoringInputError(f"{source}: has no rows, only a header; expected a row per lead")
    if config is not None:
        renames = {config.leads.id: LEAD_ID, config.leads.created_at: CREATED_AT}
        leads = leads.rename(columns={k: v for k, v in renames.items() if k})
        if activities is not None and config.activities is not None:
            section = config.activities
            names = {section.id: LEAD_ID, section.occurred_at: OCCURRED_AT}
            activities = activities.rename(columns={**names, section.type: ACTIVITY_TYPE})
    if LEAD_ID not in leads.columns:
        raise ScoringInputError(
            f"{source}: expected a {LEAD_ID!r} column, found {sorted(map(str, leads.columns))}; "
            "pass the dataset config with --config so its [leads] id applies"
        )
    return leads, activities


def write_table(rows: pd.DataFrame, out: Path) -> None:
    """CSV or Parquet, as the extension says (checked before scoring)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        rows.to_parquet(out, index=False)
    else:
        rows.to_csv(out, index=False)


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
            "warnings": ["; ".join(s.warnings) for s in scored],
            "model_version": version,
        },
        columns=COLUMNS,
    )


def _reasons_json(scored: ScoredLead) -> str:
    return orjson.dumps(
        [{"feature": r.feature, "value": r.value, "contribution": round(r.contribution, 4),
          "direction": r.direction, "sentence": r.sentence} for r in scored.reasons]
    ).decode()  # fmt: skip
