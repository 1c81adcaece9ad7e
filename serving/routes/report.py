"""The marketer's HTML report of the serving model (admin scope)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from serving.auth import require
from serving.deps import ModelDep
from serving.errors import NoReport

router = APIRouter(tags=["report"], dependencies=[Depends(require("admin"))])


@router.get("/report", response_class=HTMLResponse)
def report(model: ModelDep) -> HTMLResponse:
    """One self-contained HTML page: what drives conversion, source quality, lift, calibration."""
    if model.report_html is None:
        raise NoReport(
            f"expected a report logged with {model.name} v{model.version}, found none; "
            "retrain the model with this version of leadscore"
        )
    return HTMLResponse(model.report_html)
