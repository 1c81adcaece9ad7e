"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from serving.errors import ModelUnavailable, PredictionLogFull, error_body
from serving.schemas import ModelRef, Status

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Status, response_model_exclude_none=True)
async def healthz() -> Status:
    """The process is alive and answering; says nothing about the model. Answers as soon as
    the port is open, while the model is still loading."""
    return Status(status="ok")


@router.get("/readyz", response_model=Status, responses={503: {"description": "Not ready."}})
async def readyz(request: Request) -> JSONResponse:
    """200 once a model can score (`degraded` while the prediction log has a backlog); 503
    while no model is loaded or the prediction log cannot keep scores. Both say which version
    serves, which one the registry names, and the last load error."""
    state = request.app.state
    model = state.model
    log = state.prediction_log.health() if state.prediction_log is not None else None
    status = Status(
        status="ready" if log is None or log["state"] == "ok" else "degraded",
        model=ModelRef(name=model.name, version=model.version) if model else None,
        serving_version=model.version if model else None,
        registry_champion=state.registry_champion,
        load_error=state.load_error,
        prediction_log=log,
    )
    problem: ModelUnavailable | PredictionLogFull | None = None
    if model is None:
        problem = ModelUnavailable(
            f"no model loaded yet (registry champion: {state.registry_champion or 'unknown'}): "
            f"{state.load_error}"
        )
    elif log is not None and log["state"] == "full":
        problem = PredictionLogFull(
            f"the prediction log cannot keep scores: {log['last_error'] or 'its spool is full'}"
        )
    if problem is None:
        return JSONResponse(status.model_dump(mode="json"))
    return JSONResponse(error_body(problem.code, problem.message), status_code=problem.status_code)
