"""Scoring: one lead, or a batch in the same order."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from serving.auth import require
from serving.deps import MetricsDep, ModelDep, PredictionLogDep, SettingsDep
from serving.errors import ApiError
from serving.loading import LoadedModel
from serving.observe import Metrics
from serving.predlog import PredictionLog, row
from serving.schemas import BatchRequest, BatchResponse, Lead, Score
from serving.settings import Settings

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


@router.post("/score", response_model=Score)
def score_lead(
    lead: Lead,
    model: ModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    log: PredictionLogDep,
    reasons: ReasonsQuery = None,
) -> Score:
    """Score one lead: probability, 0-100 score, grade, recommendation and top reasons."""
    return _score(model, settings, metrics, log, [lead], reasons)[0]


@router.post("/score/batch", response_model=BatchResponse)
def score_batch(
    batch: BatchRequest,
    model: ModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    log: PredictionLogDep,
    reasons: ReasonsQuery = None,
) -> BatchResponse:
    """Score many leads in one call; answers come back in the order the leads were sent."""
    if len(batch.leads) > settings.max_batch_leads:
        raise BatchTooLarge(
            f"expected at most {settings.max_batch_leads} leads, got {len(batch.leads)}; "
            "split the batch",
            field="leads",
        )
    return BatchResponse(scores=_score(model, settings, metrics, log, batch.leads, reasons))


def _score(
    model: LoadedModel,
    settings: Settings,
    metrics: Metrics,
    prediction_log: PredictionLog | None,
    leads: list[Lead],
    reasons: int | None,
) -> list[Score]:
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
    for result in results:
        metrics.scores.labels(result.recommendation).inc()
    if prediction_log is not None:
        prediction_log.record([row(r, model.name, model.version, now) for r in results])
    return [
        Score.model_validate(
            {
                **asdict(result),
                **{f"{group}_score": value for group, value in (result.group_scores or {}).items()},
                "model": {"name": model.name, "version": model.version, "segment": result.segment},
            }
        )
        for result in results
    ]
