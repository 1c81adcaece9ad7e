"""Realised performance: the funnel, accuracy on leads whose outcomes are known, expected wins,
the control group's comparison and drift, from the prediction log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from serving.auth import require
from serving.errors import PredictionLogOff, PredictionLogUnreachable, short_error

WEEKS = "Weeks of scoring to read; default LEADSCORE_PERFORMANCE_WEEKS (26)."
router = APIRouter(prefix="/v1", tags=["performance"], dependencies=[Depends(require("score"))])


@router.get("/performance")
def get_performance(
    request: Request,
    weeks: Annotated[int | None, Query(ge=1, le=520, description=WEEKS)] = None,
) -> Response:
    """Per model version, week of scoring, source and campaign: leads scored -> MQL -> SQL ->
    won, realised AUC, ECE and SQL precision with 95% intervals, expected wins of open leads,
    the control group against the policy, and the drift checks. Reads the prediction log's
    database: scores still in the spool (about a second's worth) are not counted yet."""
    state = request.app.state
    log = state.prediction_log
    if log is None:
        raise PredictionLogOff(
            "the prediction log is off (LEADSCORE_PREDICTION_DB is empty), so nothing can be "
            "measured; set it and restart"
        )
    now = datetime.now(UTC)
    since = now - timedelta(weeks=weeks or state.settings.performance_weeks)
    try:
        rows = log.frames(since)
    except Exception as error:  # the database is away: say so, do not guess
        raise PredictionLogUnreachable(
            f"the prediction log's database did not answer ({short_error(error)}); try again"
        ) from None
    answer = measure_performance(rows, now, state.drift.last_check)
    return Response(orjson.dumps(answer), media_type="application/json")


def measure_performance(
    rows: dict[str, list[dict[str, Any]]], now: datetime, last_check: dict[str, Any] | None
) -> dict[str, Any]:
    """The performance answer from the log's rows (`serving.predlog.read_log`)."""
    # Imported here: the app answers /healthz before pandas would have loaded.
    import pandas as pd

    from scoring import OUTCOME_COLUMNS, PREDICTION_COLUMNS, performance_report

    predictions = pd.DataFrame(rows["predictions"]).reindex(columns=list(PREDICTION_COLUMNS))
    outcomes = pd.DataFrame(rows["outcomes"]).reindex(columns=list(OUTCOME_COLUMNS))
    answer = performance_report(predictions, outcomes, now=now)
    checks = rows["drift"]
    alerts = [
        check
        for before, check in zip([None, *checks], checks, strict=False)
        if check["alert"] and not (before and before["alert"])
    ]
    answer["drift"] = {
        "last_check": last_check or (checks[-1] if checks else None),
        "alerts": alerts,
    }
    return answer
