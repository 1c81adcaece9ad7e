"""Outcomes in: what became of scored leads, so realised accuracy and the funnel can be measured.

An outcome is kept exactly as a score is: committed to the prediction log's spool before the
answer, then shipped to the `lead_outcomes` table of the same database. Each event (won, lost,
a stage change) is stored once, keyed by the lead, the event and its time: a CRM that sends the
same outcome again, or a client that retries, changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError

from serving.auth import require
from serving.bodies import parse_body, require_json
from serving.errors import InvalidParameter, PredictionLogFull, PredictionLogOff, describe
from serving.predlog import LogFull, event_row
from serving.privacy import LeadKey
from serving.schemas import ClosedOutcome, Outcome, OutcomeBatch, OutcomesAccepted

router = APIRouter(prefix="/v1", tags=["outcomes"])
ONE_OUTCOME: TypeAdapter[Outcome] = TypeAdapter(Outcome)
STATUSES = frozenset({"won", "lost", "open"})


@router.post(
    "/outcomes",
    response_model=OutcomesAccepted,
    dependencies=[Depends(require("feedback"))],
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "One outcome (won or lost with `closed_at`, or open with stage "
            'changes), or `{"outcomes": [...]}` with up to LEADSCORE_MAX_BATCH_LEADS (1,000). '
            "A batch is kept whole or refused whole (422 naming the outcome at fault).",
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/ClosedOutcome"},
                            {"$ref": "#/components/schemas/OpenOutcome"},
                            {"$ref": "#/components/schemas/OutcomeBatch"},
                        ]
                    }
                }
            },
        },
    },
)
async def post_outcomes(request: Request) -> Response:
    """Record won or lost leads and the stages they passed; answered once they are kept."""
    log = request.app.state.prediction_log
    if log is None:
        raise PredictionLogOff(
            "the prediction log is off (LEADSCORE_PREDICTION_DB is empty), so outcomes cannot "
            "be kept; set it and restart"
        )
    require_json(request)
    outcomes = _outcomes(parse_body(await request.body()), request.app.state.settings)
    rows = events(outcomes, request.app.state.lead_key, datetime.now(UTC))
    try:
        log.record(rows, kind="outcomes")
    except LogFull:
        raise PredictionLogFull(
            "the prediction log cannot keep these outcomes (its spool is full or its disk is), "
            "so they are not acknowledged; try again later"
        ) from None
    accounts = request.app.state.accounts
    for outcome in outcomes:
        if isinstance(outcome, ClosedOutcome):  # closes the contact in its account's state
            accounts.outcome(str(outcome.lead_id), outcome.status, outcome.closed_at)
    accepted = OutcomesAccepted(outcomes=len(outcomes), events=len(rows))
    return Response(accepted.model_dump_json(), media_type="application/json")


def _outcomes(body: Any, settings: Any) -> list[Outcome]:
    """One outcome or a batch of them; a bad one is a 422 naming it."""
    try:
        if isinstance(body, dict) and "outcomes" in body:
            items = body["outcomes"]
            if isinstance(items, list) and len(items) > settings.max_batch_leads:
                raise InvalidParameter(
                    f"outcomes: expected at most {settings.max_batch_leads}, got {len(items)}; "
                    "split the batch",
                    field="outcomes",
                )
            return OutcomeBatch.model_validate(body).outcomes
        return [ONE_OUTCOME.validate_python(body)]
    except ValidationError as error:
        message, field = describe(error, tags=STATUSES)
        raise InvalidParameter(message, field=field) from None


def events(outcomes: list[Outcome], lead_key: LeadKey, now: datetime) -> list[dict[str, Any]]:
    """The rows of `lead_outcomes`: one per won or lost, one per stage change."""
    rows = []
    for outcome in outcomes:
        key = lead_key(outcome.lead_id)
        happened = [(stage.stage, stage.at) for stage in outcome.stages]
        if isinstance(outcome, ClosedOutcome):
            happened.append((outcome.status, outcome.closed_at))
        rows.extend(event_row(key, event, at, now) for event, at in happened)
    return rows
