"""Hot swap: poll the registry and move to a new champion without dropping a request.

Requests read the model reference once, so replacing it is atomic for them. A version that fails
to load is not used: the old model keeps serving, and the reason is logged and kept.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI
from mlflow import MlflowClient

from scoring import REGISTERED_URI
from serving.loading import load_model

logger = logging.getLogger("leadscore.serving")


def aliased_version(uri: str, tracking_uri: str) -> tuple[str, str] | None:
    """(name, version) an alias URI points at now; None for a URI that cannot move."""
    match = REGISTERED_URI.match(uri)
    if not match or match["alias"] is None:
        return None
    client = MlflowClient(tracking_uri)
    version = client.get_model_version_by_alias(match["name"], match["alias"]).version
    return match["name"], str(version)


async def poll(app: FastAPI) -> None:
    settings = app.state.settings
    while True:
        await asyncio.sleep(settings.model_poll_seconds)
        await swap_if_changed(app)


async def swap_if_changed(app: FastAPI) -> None:
    settings = app.state.settings
    current = app.state.model
    try:
        target = await asyncio.to_thread(
            aliased_version, settings.model_uri, settings.mlflow_tracking_uri
        )
    except Exception as error:  # the registry is down: keep serving what we have
        logger.warning("registry not reachable", extra={"error": str(error)})
        return
    if target is None:
        return
    name, wanted = target
    if (current is not None and current.version == wanted) or wanted == app.state.failed_version:
        return
    try:
        loaded = await asyncio.to_thread(
            load_model, f"models:/{name}/{wanted}", settings.mlflow_tracking_uri
        )
    except Exception as error:  # a model that cannot load is never served
        app.state.failed_version = wanted
        app.state.swap_error = f"version {wanted} not loaded: {type(error).__name__}: {error}"
        logger.warning("model swap failed", extra={"version": wanted, "error": str(error)})
        return
    app.state.model = loaded
    app.state.load_error = None
    logger.info(
        "model swapped",
        extra={"from": current.version if current else None, "to": loaded.version},
    )
