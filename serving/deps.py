"""Typed dependencies: the loaded model and what scoring needs, from the app's state.

All are `async def`: they only read app state, and a sync dependency would cost a thread hop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import Depends, Request

from serving.errors import ModelUnavailable
from serving.loading import LoadedModel
from serving.observe import Metrics
from serving.predlog import PredictionLog
from serving.settings import Settings


async def get_model(request: Request) -> LoadedModel:
    model: LoadedModel | None = request.app.state.model
    if model is None:
        reason = request.app.state.load_error or "no model loaded"
        raise ModelUnavailable(
            f"expected a model at {request.app.state.settings.model_uri}, got none ({reason}); "
            "train one with `leadscore train` (or run `make demo`), then restart the server"
        )
    return model


@dataclass(frozen=True)
class Scoring:
    """What a scoring route needs, in one dependency: each one FastAPI resolves costs time."""

    model: LoadedModel
    settings: Settings
    metrics: Metrics
    prediction_log: PredictionLog | None
    batch_slot: anyio.CapacityLimiter


async def get_scoring(request: Request) -> Scoring:
    state = request.app.state
    return Scoring(
        await get_model(request),
        state.settings,
        state.metrics,
        state.prediction_log,
        state.batch_slot,
    )


ModelDep = Annotated[LoadedModel, Depends(get_model)]
ScoringDep = Annotated[Scoring, Depends(get_scoring)]
