"""POST /v1/accounts/score: an account's contacts scored together, and the account's score.

Each contact is scored as /v1/score/batch scores it (account features, prediction log, account
state and all); the account's probability is the chance that at least one converts. One contact
that cannot be scored fails the request with its error (422 naming `leads[i]`): an account's
score without one of its contacts would read as the whole account's.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import anyio
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from serving.bodies import body_doc, parse_body
from serving.errors import ApiError, InvalidParameter, describe
from serving.routes.score import Options, _resolve, _score
from serving.schemas import AccountRequest, AccountScore, Lead

router = APIRouter(prefix="/v1", tags=["accounts"])
TOP_CONTACTS = 10
TOP_REASONS = 5
ALL_REASONS = 50  # every feature's push of every contact, to sum them by feature


@router.post(
    "/accounts/score",
    response_model=AccountScore,
    openapi_extra=body_doc(
        AccountRequest, "The account's contacts, with their recent activities.", []
    ),
)
async def score_account(request: Request) -> Response:
    """Score an account's contacts together: the account's chance that at least one converts,
    its contacts most likely first, and the pushes that matter most across them."""
    scoring, _ = _resolve(request, batch=True)
    account, leads = _body(parse_body(await request.body()), scoring.settings.max_batch_leads)
    options = Options(reasons=ALL_REASONS, next_steps=0, strict=False, all_or_nothing=True)
    answers = await anyio.to_thread.run_sync(
        lambda: _score(scoring, leads, options, batch=True), limiter=scoring.batch_slot
    )
    account = account or _account_of(leads, scoring.model.scorer.metadata)
    known = None if account is None else scoring.accounts.summary(account, datetime.now(UTC))
    return Response(
        orjson.dumps(_account_answer(account, answers, known, scoring.model)),
        media_type="application/json",
    )


def _body(raw: Any, most: int) -> tuple[str | None, list[Lead]]:
    """The account named, and each contact read on its own, so that the first bad one is named
    as `leads[i]` (as in a batch)."""
    if not isinstance(raw, dict):
        raise InvalidParameter("expected a JSON object with leads", field=None)
    items = raw.get("leads")
    if not isinstance(items, list) or not 1 <= len(items) <= most:
        raise InvalidParameter(
            f"leads: expected a list of 1 to {most} leads, got "
            f"{len(items) if isinstance(items, list) else type(items).__name__}",
            field="leads",
        )
    try:  # the account, checked with a stand-in for the leads, which are read one by one
        head = AccountRequest.model_validate({**raw, "leads": [{}]})
    except ValidationError as error:
        message, field = describe(error)
        raise InvalidParameter(message, field=field) from None
    leads: list[Lead] = []
    for index, item in enumerate(items):
        try:
            leads.append(Lead.model_validate(item))
        except ValidationError as error:
            message, field = describe(error, f"leads[{index}]")
            raise InvalidParameter(message, field=field) from None
    return head.account, leads


def _account_of(leads: list[Lead], metadata: dict[str, Any]) -> str | None:
    key = metadata.get("accounts", {}).get("key")
    if key is None:
        return None
    values = [(lead.__pydantic_extra__ or {}).get(key) for lead in leads]
    return next((str(value) for value in values if value is not None), None)


def _account_answer(
    account: str | None,
    answers: list[dict[str, Any] | ApiError],
    known: dict[str, Any] | None,
    model: Any,
) -> dict[str, Any]:
    """The account's answer in the shape of `AccountScore`."""
    scored = [a for a in answers if not isinstance(a, ApiError)]  # all: all or nothing
    chances = [a["probability"] for a in scored if a["probability"] is not None]
    probability = 1.0 - math.prod(1.0 - p for p in chances) if chances else None
    contacts = sorted(scored, key=lambda a: -(a["probability"] or 0.0))[:TOP_CONTACTS]
    return {
        "account": account,
        "probability": probability,
        "score": None if probability is None else round(probability * 100),
        "aggregation": "at_least_one_converts",
        "contacts": [
            {key: a[key] for key in ("lead_id", "score", "probability", "recommendation")}
            for a in contacts
        ],
        "reasons": _reasons(scored),
        "known": None
        if known is None
        else {key: known[key] for key in ("contacts", "engaged_30d", "open", "won")},
        "model": {"name": model.name, "version": model.version, "segment": None},
    }


def _reasons(scored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each feature's pushes summed over the contacts, the largest in size first; worded by the
    contact it pushed most."""
    total: dict[str, float] = {}
    strongest: dict[str, tuple[float, dict[str, Any], str | None]] = {}
    for answer in scored:
        for reason in answer["reasons"]:
            feature, push = reason["feature"], reason["contribution"]
            total[feature] = total.get(feature, 0.0) + push
            if abs(push) > abs(strongest.get(feature, (0.0, {}, None))[0]):
                strongest[feature] = (push, reason, answer["lead_id"])
    top = sorted(total, key=lambda f: -abs(total[f]))[:TOP_REASONS]
    out = []
    for feature in top:
        _, reason, lead_id = strongest[feature]
        who = f" ({lead_id})" if lead_id is not None else ""
        out.append(
            {
                "feature": feature,
                "description": reason["description"],
                "contribution": total[feature],
                "direction": "up" if total[feature] > 0 else "down",
                "sentence": f"{reason['sentence']}{who}",
            }
        )
    return out
