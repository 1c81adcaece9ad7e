"""Keeping the served model current: load it after the port is open, retry a load that failed,
and move to a new champion without dropping a request.

Requests read the model reference once, so replacing it is atomic for them. A version that
fails to load is not served: the old model (if any) keeps answering, the reason is kept for
`/readyz` and `/v1/model`, and the load is tried again with backoff (1 s doubling to 5 min),
so a version that is fixed in place or promoted again is picked up without a restart.
"""

from __future__ import annotations

import asyncio
import gc
import logging

from fastapi import FastAPI

from scoring import check_store
from serving.errors import short_error
from serving.loading import load_model

logger = logging.getLogger("leadscore.serving")
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 1.0, 300.0


def aliased_version(uri: str, tracking_uri: str) -> tuple[str, str] | None:
    """(name, version) an alias URI points at now; None for a URI that cannot move."""
    from mlflow import MlflowClient

    from scoring import REGISTERED_URI

    match = REGISTERED_URI.match(uri)
    if not match or match["alias"] is None:
        return None
    check_store(tracking_uri, create=False)  # a mistyped store is refused, not created empty
    client = MlflowClient(tracking_uri)
    version = client.get_model_version_by_alias(match["name"], match["alias"]).version
    return match["name"], str(version)


async def keep_current(app: FastAPI) -> None:
    """Load the model, then follow the registry every LEADSCORE_MODEL_POLL_SECONDS (0: load
    once); a failed load is retried with backoff either way."""
    poll = app.state.settings.model_poll_seconds
    failures = 0
    while True:
        if await refresh(app):
            failures = 0
            if poll <= 0:
                return
            await asyncio.sleep(poll)
        else:
            failures += 1
            await asyncio.sleep(min(RETRY_FIRST_SECONDS * 2 ** (failures - 1), RETRY_MAX_SECONDS))


async def refresh(app: FastAPI) -> bool:
    """Serve what the registry names; False when that could not be loaded (retry later)."""
    state, settings = app.state, app.state.settings
    try:
        target = await asyncio.to_thread(
            aliased_version, settings.model_uri, settings.mlflow_tracking_uri
        )
    except Exception as error:  # the registry is away: keep serving what we have
        logger.warning("registry not reachable", extra={"error": short_error(error)})
        if state.model is None:
            state.load_error = f"registry not reachable: {short_error(error)}"
            return False
        return True
    uri = settings.model_uri if target is None else f"models:/{target[0]}/{target[1]}"
    state.registry_champion = None if target is None else target[1]
    current = state.model
    if current is not None and (target is None or current.version == target[1]):
        return True
    try:
        loaded = await asyncio.to_thread(load_model, uri, settings.mlflow_tracking_uri)
    except Exception as error:  # a model that cannot load is never served
        state.load_error = f"{uri} not loaded: {short_error(error)}"
        logger.warning("model not loaded", extra={"model_uri": uri, "error": short_error(error)})
        return False
    state.model = loaded
    state.drift.use(loaded.scorer, loaded.name, loaded.version)
    state.accounts.use(loaded.scorer.metadata)
    state.load_error = None
    freeze_garbage()
    logger.info(
        "model loaded" if current is None else "model swapped",
        extra={"from": current.version if current else None, "to": loaded.version},
    )
    return True


def freeze_garbage() -> None:
    """Hundreds of thousands of long-lived objects (MLflow, the model) would otherwise be
    traversed by every full collection that parsing big batches sets off; and a batch makes
    tens of thousands of short-lived, acyclic objects, so the youngest generation is collected
    every 100,000 allocations rather than every 700."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 10, 10)
