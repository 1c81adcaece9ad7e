"""The FastAPI application. Build it with `create_app()`; importing this module does nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from scoring import Settings, load_settings
from serving.accounts import Accounts
from serving.bodies import document_bodies
from serving.docs import install_docs
from serving.drift import DriftWatch
from serving.errors import install_error_handlers
from serving.loading import LoadedModel
from serving.observe import BodyLimitAndMetrics, Metrics
from serving.predlog import PredictionLog
from serving.privacy import LeadKey
from serving.routes import (
    accounts,
    health,
    leads,
    metrics,
    model,
    outcomes,
    performance,
    report,
    score,
)
from serving.schemas import (
    AccountRequest,
    BatchRequest,
    ClosedOutcome,
    Lead,
    OpenOutcome,
    OutcomeBatch,
)
from serving.swap import freeze_garbage, keep_current

logger = logging.getLogger("leadscore.serving")


def create_app(settings: Settings | None = None, loaded: LoadedModel | None = None) -> FastAPI:
    """An app that answers /healthz at once, loads its model in the background (retrying a
    failed load) and scores once it has one.

    `loaded` serves an already loaded model instead (an embedding program's, or a test's).
    """
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.batch_slot = anyio.CapacityLimiter(1)  # made on the loop that serves
        log = None
        watched = []
        if settings.prediction_db:
            log = app.state.prediction_log = await asyncio.to_thread(_open_log, settings)
            watched.append(app.state.metrics.watch(log))
        accounts = app.state.accounts
        saver = asyncio.create_task(accounts.keep_saved()) if accounts.path is not None else None
        drift = app.state.drift = DriftWatch(
            settings, record=(lambda rows: log.record(rows, kind="drift")) if log else None
        ).start()
        watched.append(app.state.metrics.watch_drift(drift))
        # The model loads after the port is open: /healthz answers at once, /readyz says 503
        # (with the reason) until a model can score.
        if loaded is not None:
            app.state.model, app.state.load_error = loaded, None
            drift.use(loaded.scorer, loaded.name, loaded.version)
            accounts.use(loaded.scorer.metadata)
            freeze_garbage()
        keeper = (
            asyncio.create_task(keep_current(app))
            if loaded is None or settings.model_poll_seconds > 0
            else None
        )
        yield
        if keeper is not None:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        if saver is not None:
            saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saver
            await asyncio.to_thread(accounts.save)
        app.state.metrics.forget(watched)
        await asyncio.to_thread(drift.close)
        if log is not None:  # the log this start opened, even if a later start replaced it
            await asyncio.to_thread(log.close)

    app = FastAPI(
        title="leadscore",
        version="1",
        docs_url=None,
        redoc_url=None,
        summary="Predictive lead scoring: a calibrated score, a grade, reasons and a "
        "recommendation for every lead.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.api_keys = settings.key_digests()
    app.state.model = None
    app.state.load_error = "the model is loading"
    app.state.registry_champion = None
    app.state.prediction_log = None
    app.state.drift = None
    app.state.lead_key = LeadKey(settings.secret)
    # The account book is saved beside the prediction log's spool, when there is a log.
    app.state.accounts = Accounts(
        settings.prediction_spool.with_name(f"{settings.prediction_spool.stem}.accounts.json")
        if settings.prediction_db
        else None,
        settings.secret,
        settings.accounts_save_seconds,
    )
    app.state.metrics = Metrics()
    app.add_middleware(
        BodyLimitAndMetrics, max_bytes=settings.max_body_bytes, metrics=app.state.metrics
    )
    install_error_handlers(app)
    app.include_router(score.router)
    app.include_router(accounts.router)
    app.include_router(outcomes.router)
    app.include_router(leads.router)
    app.include_router(performance.router)
    app.include_router(model.router)
    app.include_router(health.router)
    app.include_router(report.router)
    app.include_router(metrics.router)
    document_bodies(
        app, [Lead, BatchRequest, AccountRequest, ClosedOutcome, OpenOutcome, OutcomeBatch]
    )
    install_docs(app)
    return app


def _open_log(settings: Settings) -> PredictionLog:
    return PredictionLog.from_settings(settings).start()
