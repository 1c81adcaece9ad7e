"""The marketer's HTML report of the serving model: an admin key, or a signed report link, which
a browser can open (see `serving.auth`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from serving.auth import admin_key_or_report_link
from serving.deps import ModelDep
from serving.errors import NoReport

router = APIRouter(tags=["report"], dependencies=[Depends(admin_key_or_report_link)])

# Read by hand in `admin_key_or_report_link`, so documented here, as the scoring routes do theirs.
LINK_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "expires",
        "in": "query",
        "required": False,
        "description": "With `signature`, instead of a key: when the link stops opening the "
        "report, in Unix seconds. `leadscore report-link` prints such links; an expired one "
        "answers 403 `link_expired`.",
        "schema": {"type": "string", "pattern": "^[0-9]{1,12}$", "examples": ["1767225600"]},
    },
    {
        "name": "signature",
        "in": "query",
        "required": False,
        "description": "With `expires`: hex HMAC-SHA256 of `GET /report\\n<expires>` under the "
        "server's secret. It opens this route only; a wrong one answers 403 `forbidden`.",
        "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    },
]


@router.get("/report", response_class=HTMLResponse, openapi_extra={"parameters": LINK_PARAMETERS})
def report(model: ModelDep) -> HTMLResponse:
    """One self-contained HTML page: what drives conversion, source quality, lift, calibration."""
    if model.report_html is None:
        raise NoReport(
            f"expected a report logged with {model.name} v{model.version}, found none; "
            "retrain the model with this version of leadscore"
        )
    return HTMLResponse(model.report_html)
