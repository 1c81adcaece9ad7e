"""Scoring: one lead, or a batch in the same order."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from features import ScoredLead
from serving.auth import require
from serving.bodies import body_doc, json_body
from serving.deps import Scoring, ScoringDep
from serving.errors import ApiError
from serving.loading import LoadedModel
from serving.predlog import row
from serving.schemas import BatchRequest, BatchResponse, Lead, Score

router = APIRouter(prefix="/v1", tags=["score"], dependencies=[Depends(require("score"))])
ReasonsQuery = Annotated[
    int | None, Query(ge=0, le=50, description="How many reasons to return; 0 turns them off.")
]


class TooManyActivities(ApiError):
    status_code = 422
    code = "too_many_activities"


class BatchTooLarge(ApiError):
    status_code = 413
    code = "batch_too_large"


@router.post(
    "/score",
    response_model=Score,
    openapi_extra=body_doc(Lead, "One lead, with its recent activities."),
)
async def score_lead(
    lead: Annotated[Lead, Depends(json_body(Lead))],
    scoring: ScoringDep,
    reasons: ReasonsQuery = None,
) -> Response:
    """Score one lead: probability, 0-100 score, grade, recommendation and top reasons."""
    # One lead takes well under a millisecond: scoring it on the event loop beats a thread hop.
    (answer,) = _score(scoring, [lead], reasons)
    return _json(answer)


@router.post(
    "/score/batch",
    response_model=BatchResponse,
    openapi_extra=body_doc(BatchRequest, "Up to LEADSCORE_MAX_BATCH_LEADS leads (1,000)."),
)
async def score_batch(
    batch: Annotated[BatchRequest, Depends(json_body(BatchRequest))],
    scoring: ScoringDep,
    reasons: ReasonsQuery = None,
) -> Response:
    """Score many leads in one call; answers come back in the order the leads were sent."""
    limit = scoring.settings.max_batch_leads
    if len(batch.leads) > limit:
        raise BatchTooLarge(
            f"expected at most {limit} leads, got {len(batch.leads)}; split the batch",
            field="leads",
        )
    # Up to a thousand leads: off the event loop, so single-lead calls keep flowing meanwhile,
    # and one batch at a time per worker, since threads scoring at once only fight for the GIL.
    answers = await anyio.to_thread.run_sync(
        _score, scoring, batch.leads, reasons, limiter=scoring.batch_slot
    )
    return _json({"scores": answers})


def _json(content: Any) -> Response:
    """The answer as JSON, built from plain values: the response models document the shape
    (and tests hold the answers to them) without validating every answer again."""
    return Response(orjson.dumps(content), media_type="application/json")


def _score(scoring: Scoring, leads: list[Lead], reasons: int | None) -> list[dict[str, Any]]:
    model, settings = scoring.model, scoring.settings
    now = datetime.now(UTC)
    for index, lead in enumerate(leads):
        if len(lead.activities) > settings.max_activities_per_lead:
            raise TooManyActivities(
                f"expected at most {settings.max_activities_per_lead} activities per lead, "
                f"got {len(lead.activities)}; send the most recent ones",
                field=f"leads[{index}].activities" if len(leads) > 1 else "activities",
            )
    results = model.scorer.score_leads(
        [lead.as_mapping() for lead in leads],
        [lead.as_of or now for lead in leads],
        reasons=settings.default_reasons if reasons is None else reasons,
    )
    for recommendation, count in Counter(r.recommendation for r in results).items():
        scoring.metrics.scores.labels(recommendation).inc(count)
    if scoring.prediction_log is not None:
        scoring.prediction_log.record([row(r, model.name, model.version, now) for r in results])
    return [_answer(result, model) for result in results]


def _answer(result: ScoredLead, model: LoadedModel) -> dict[str, Any]:
    """One lead's answer in the shape of `Score`."""
    groups = result.group_scores or {}
    return {
        "lead_id": result.lead_id,
        "score": result.score,
        "probability": result.probability,
        "grade": result.grade,
        "recommendation": result.recommendation,
        "recommendation_reason": result.recommendation_reason,
        "reasons": [
            {
                "feature": reason.feature,
                "description": reason.description,
                "value": reason.value,
                "contribution": reason.contribution,
                "direction": reason.direction,
                "sentence": reason.sentence,
            }
            for reason in result.reasons
        ],
        "fit_score": groups.get("fit"),
        "engagement_score": groups.get("engagement"),
        "source_score": groups.get("source"),
        "state": result.state,
        "state_reason": result.state_reason,
        "model": {"name": model.name, "version": model.version, "segment": result.segment},
    }
