"""A lead's score history: every score the prediction log kept for it, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from scoring import score_trend
from serving.auth import require
from serving.errors import PredictionLogOff, PredictionLogUnreachable, short_error
from serving.schemas import ScoreHistory

router = APIRouter(prefix="/v1", tags=["history"], dependencies=[Depends(require("score"))])


@router.get("/leads/{lead_id}/scores", response_model=ScoreHistory)
def lead_scores(
    request: Request,
    lead_id: Annotated[str, Path(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=1000, description="How many scores, newest first.")] = 100,
) -> dict[str, Any]:
    """The lead's scores, newest first, each with its trend against the one before it under the
    same model name. An email or phone id is looked up by its keyed hash, as it is stored."""
    log = request.app.state.prediction_log
    if log is None:
        raise PredictionLogOff(
            "the prediction log is off (LEADSCORE_PREDICTION_DB is empty), so no score history "
            "is kept; set it and restart"
        )
    try:
        # One more than asked: the oldest entry shown still gets its trend.
        found = log.history(request.app.state.lead_key(lead_id), limit + 1)
    except Exception as error:  # the database is away: say so, do not guess
        raise PredictionLogUnreachable(
            f"the prediction log's database did not answer ({short_error(error)}); try again"
        ) from None
    entries = []
    for index, entry in enumerate(found[:limit]):
        name = entry["model_name"]
        earlier = next((e for e in found[index + 1 :] if e["model_name"] == name), None)
        entries.append(
            {
                "scored_at": entry["scored_at"],
                "as_of": entry.get("as_of"),
                "model_name": entry["model_name"],
                "model_version": entry["model_version"],
                "score": entry["score"],
                "grade": entry.get("grade"),
                "recommendation": entry["recommendation"],
                "trend": score_trend(entry["score"], earlier["score"] if earlier else None),
            }
        )
    return {"lead_id": lead_id, "scores": entries}
