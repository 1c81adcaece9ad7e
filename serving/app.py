"""The FastAPI application. Build it with `create_app()`; importing this module does nothing."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from scoring import Settings, load_settings
from serving.bodies import document_bodies
from serving.errors import error_body, install_error_handlers
from serving.loading import LoadedModel, load_model
from serving.observe import BodyLimitAndMetrics, Metrics
from serving.predlog import PredictionLog
from serving.routes import health, metrics, model, report, score
from serving.schemas import BatchRequest, Lead
from serving.swap import poll

logger = logging.getLogger("leadscore.serving")


def create_app(settings: Settings | None = None, loaded: LoadedModel | None = None) -> FastAPI:
    """An app that loads its model once at start-up and serves without it if that fails.

    `loaded` serves an already loaded model instead (an embedding program's, or a test's).
    """
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.model, app.state.load_error = (
            (loaded, None) if loaded is not None else _try_load(settings)
        )
        app.state.batch_slot = anyio.CapacityLimiter(1)  # made on the loop that serves
        # Hundreds of thousands of long-lived objects (MLflow, the model) would otherwise be
        # traversed by every full garbage collection that parsing big batches sets off; and a
        # batch makes tens of thousands of short-lived, acyclic objects, so the youngest
        # generation is collected every 100,000 allocations rather than every 700.
        gc.collect()
        gc.freeze()
        gc.set_threshold(100_000, 10, 10)
        app.state.prediction_log = (
            PredictionLog(settings.prediction_db, settings.prediction_table).start()
            if settings.prediction_db
            else None
        )
        poller = asyncio.create_task(poll(app)) if settings.model_poll_seconds > 0 else None
        yield
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        if app.state.prediction_log is not None:
            await asyncio.to_thread(app.state.prediction_log.close)

    app = FastAPI(
        title="leadscore",
        version="1",
        summary="Predictive lead scoring: a calibrated score, a grade, reasons and a "
        "recommendation for every lead.",
        lifespan=lifespan,
        responses={
            422: {"description": "Invalid input", "content": {"application/json": {
                "example": error_body("invalid_request", "company_size: Input should be a "
                                      "valid number", "company_size")}}},
            503: {"description": "No model loaded", "content": {"application/json": {
                "example": error_body("model_unavailable", "expected a model at models:/"
                                      "lead-scoring@champion, got none; train one with "
                                      "`leadscore train`")}}},
        },
    )  # fmt: skip
    app.state.settings = settings
    app.state.api_keys = settings.key_digests()
    app.state.model = None
    app.state.load_error = "the server is starting"
    app.state.failed_version = None
    app.state.prediction_log = None
    app.state.swap_error = None
    app.state.metrics = Metrics()
    app.add_middleware(
        BodyLimitAndMetrics, max_bytes=settings.max_body_bytes, metrics=app.state.metrics
    )
    install_error_handlers(app)
    app.include_router(score.router)
    app.include_router(model.router)
    app.include_router(health.router)
    app.include_router(report.router)
    app.include_router(metrics.router)
    document_bodies(app, [Lead, BatchRequest])
    return app


def _try_load(settings: Settings) -> tuple[LoadedModel | None, str | None]:
    try:
        loaded = load_model(settings.model_uri, settings.mlflow_tracking_uri)
    except Exception as error:  # any failure leaves the server up and not ready, with the reason
        logger.warning(
            "model not loaded", extra={"model_uri": settings.model_uri, "error": str(error)}
        )
        return None, f"{type(error).__name__}: {error}"
    logger.info("model loaded", extra={"model": loaded.name, "version": loaded.version})
    return loaded, None
