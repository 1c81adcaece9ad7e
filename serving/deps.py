"""Typed dependencies: the settings and the loaded model, from the app's state.

All are `async def`: they only read app state, and a sync dependency would cost a thread hop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from serving.errors import ModelUnavailable
from serving.loading import LoadedModel
from serving.observe import Metrics
from serving.predlog import PredictionLog
from serving.settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_model(request: Request) -> LoadedModel:
    model: LoadedModel | None = request.app.state.model
    if model is None:
        reason = request.app.state.load_error or "no model loaded"
        raise ModelUnavailable(
            f"expected a model at {request.app.state.settings.model_uri}, got none ({reason}); "
            "train one with `leadscore train` (or run `make demo`), then restart the server"
        )
    return model


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


async def get_prediction_log(request: Request) -> PredictionLog | None:
    return request.app.state.prediction_log


SettingsDep = Annotated[Settings, Depends(get_settings)]
PredictionLogDep = Annotated[PredictionLog | None, Depends(get_prediction_log)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ModelDep = Annotated[LoadedModel, Depends(get_model)]
