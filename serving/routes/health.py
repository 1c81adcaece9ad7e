"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter

from serving.deps import ModelDep
from serving.schemas import ModelRef, Status

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Status)
async def healthz() -> Status:
    """The process is alive; says nothing about the model."""
    return Status(status="ok")


@router.get(
    "/readyz",
    response_model=Status,
    responses={503: {"description": "No model is loaded yet."}},
)
async def readyz(model: ModelDep) -> Status:
    """200 once a model is loaded and can score; 503 otherwise."""
    return Status(status="ready", model=ModelRef(name=model.name, version=model.version))
