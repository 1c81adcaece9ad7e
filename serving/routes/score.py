"""Scoring: one lead, or a batch in the same order."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import anyio
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from scoring import ScoredLead
from serving.auth import authorize
from serving.bodies import body_doc, read_json
from serving.deps import Scoring
from serving.errors import BatchTooLarge, InvalidParameter, TooManyActivities, UnusedInput
from serving.loading import LoadedModel
from serving.predlog import row
from serving.schemas import BatchRequest, BatchResponse, Lead, Score

# The scoring routes take the bare request and resolve the rest in one step: authorization, the
# model, the body and `reasons`. FastAPI's dependency resolution cost about 50 us per dependency,
# the better part of an explained answer, so these two hot routes use none. Auth is the same
# check as `require("score")`; the OpenAPI document still shows the body, the query parameter
# and the answer.
router = APIRouter(prefix="/v1", tags=["score"])
MAX_REASONS = 50
REASONS_PARAMETER = {
    "name": "reasons",
    "in": "query",
    "required": False,
    "description": "How many reasons to return; 0 turns them off. Default 5.",
    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_REASONS},
}
STRICT_PARAMETER = {
    "name": "strict",
    "in": "query",
    "required": False,
    "description": "true: answer 422 `unused_input` when the model could not use part of a lead "
    "(the `warnings` of the answer), instead of scoring it.",
    "schema": {"type": "boolean", "default": False},
}
QUERY_PARAMETERS = [REASONS_PARAMETER, STRICT_PARAMETER]


@router.post(
    "/score",
    response_model=Score,
    openapi_extra=body_doc(Lead, "One lead, with its recent activities.", QUERY_PARAMETERS),
)
async def score_lead(request: Request) -> Response:
    """Score one lead: probability, 0-100 score, grade, recommendation and top reasons."""
    scoring, reasons, strict = _resolve(request)
    lead = await read_json(request, Lead)
    # One lead takes well under a millisecond: scoring it on the event loop beats a thread hop.
    (answer,) = _score(scoring, [lead], reasons, strict)
    return _json(answer)


@router.post(
    "/score/batch",
    response_model=BatchResponse,
    openapi_extra=body_doc(
        BatchRequest, "Up to LEADSCORE_MAX_BATCH_LEADS leads (1,000).", QUERY_PARAMETERS
    ),
)
async def score_batch(request: Request) -> Response:
    """Score many leads in one call; answers come back in the order the leads were sent."""
    scoring, reasons, strict = _resolve(request)
    batch = await read_json(request, BatchRequest)
    limit = scoring.settings.max_batch_leads
    if len(batch.leads) > limit:
        raise BatchTooLarge(
            f"expected at most {limit} leads, got {len(batch.leads)}; split the batch",
            field="leads",
        )
    # Up to a thousand leads: off the event loop, so single-lead calls keep flowing meanwhile,
    # and one batch at a time per worker, since threads scoring at once only fight for the GIL.
    answers = await anyio.to_thread.run_sync(
        _score, scoring, batch.leads, reasons, strict, limiter=scoring.batch_slot
    )
    return _json({"scores": answers})


def _resolve(request: Request) -> tuple[Scoring, int, bool]:
    """Authorize (401/403), find the model (503) and read `?reasons=` and `?strict=` (422), in
    that order."""
    authorize(request, "score")
    scoring = Scoring.of(request)
    query = request.query_params
    strict = query.get("strict", "false").lower()
    if strict not in ("true", "false", "1", "0"):
        raise InvalidParameter(f"strict: expected true or false, got {strict!r}", field="strict")
    text = query.get("reasons")
    if text is None:
        return scoring, scoring.settings.default_reasons, strict in ("true", "1")
    if not text.isdigit() or int(text) > MAX_REASONS:
        raise InvalidParameter(
            f"reasons: expected a whole number from 0 to {MAX_REASONS}, got {text!r}",
            field="reasons",
        )
    return scoring, int(text), strict in ("true", "1")


def _json(content: Any) -> Response:
    """The answer as JSON, built from plain values: the response models document the shape
    (and tests hold the answers to them) without validating every answer again."""
    return Response(orjson.dumps(content), media_type="application/json")


def _score(
    scoring: Scoring, leads: list[Lead], reasons: int, strict: bool = False
) -> list[dict[str, Any]]:
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
        reasons=reasons,
    )
    if strict:
        for index, result in enumerate(results):
            if result.warnings:
                raise UnusedInput(
                    f"the model could not use all of this lead: {'; '.join(result.warnings)}",
                    field=f"leads[{index}]" if len(leads) > 1 else None,
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
        "warnings": list(result.warnings),
        "model": {"name": model.name, "version": model.version, "segment": result.segment},
    }
