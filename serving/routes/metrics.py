"""Prometheus metrics: request counts, latency histograms, scores by recommendation."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.auth import require

router = APIRouter(tags=["health"], dependencies=[Depends(require("admin"))])


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """The app's metrics in the Prometheus text format."""
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
