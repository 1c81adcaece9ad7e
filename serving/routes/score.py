"""Scoring: one lead, or a batch in the same order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from features import InvalidLeadError
from scoring import score_trend
from serving.auth import authorize
from serving.bodies import batch_leads, body_doc, parse_body, require_json
from serving.deps import Scoring
from serving.errors import (
    ApiError,
    InvalidParameter,
    PredictionLogFull,
    TooManyActivities,
    UnusedInput,
    describe,
    error_body,
)
from serving.loading import LoadedModel
from serving.predlog import LogFull, row
from serving.schemas import BatchRequest, BatchResponse, Lead, Score

if TYPE_CHECKING:  # the scorer (and LightGBM) loads with the model, after the port opens
    from scoring import ScoredLead

# The scoring routes take the bare request and resolve the rest in one step: authorization, the
# model, the body and `reasons`. FastAPI's dependency resolution cost about 50 us per dependency,
# the better part of an explained answer, so these two hot routes use none. Auth is the same
# check as `require("score")`; the OpenAPI document still shows the body, the query parameter
# and the answer.
router = APIRouter(prefix="/v1", tags=["score"])
MAX_REASONS = 50
REASONS_PARAMETER = {
    "name": "reasons",
    "in": "query",
    "required": False,
    "description": "How many reasons to return; 0 turns them off. Default 5.",
    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_REASONS},
}
STRICT_PARAMETER = {
    "name": "strict",
    "in": "query",
    "required": False,
    "description": "true: answer 422 `unused_input` when the model could not use part of a lead "
    "(the `warnings` of the answer), instead of scoring it.",
    "schema": {"type": "boolean", "default": False},
}
MAX_NEXT_STEPS = 10
NEXT_STEPS_PARAMETER = {
    "name": "next_steps",
    "in": "query",
    "required": False,
    "description": "How many next steps to return for a lead below SQL; 0 turns them off. "
    "Default 3 (LEADSCORE_DEFAULT_NEXT_STEPS).",
    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_NEXT_STEPS},
}
QUERY_PARAMETERS = [REASONS_PARAMETER, NEXT_STEPS_PARAMETER, STRICT_PARAMETER]


ALL_OR_NOTHING_PARAMETER = {
    "name": "all_or_nothing",
    "in": "query",
    "required": False,
    "description": "true: one lead that cannot be scored fails the whole batch with its error "
    "(422), instead of an error entry in its place.",
    "schema": {"type": "boolean", "default": False},
}
CONTROL_REASON = (
    "Control group ({share:.0%} of leads, chosen at random): answered {call} whatever the "
    "score, so that the policy's effect on outcomes can be measured"
)
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
LEAD_PARAMETERS = frozenset({"reasons", "next_steps", "strict"})
BATCH_PARAMETERS = LEAD_PARAMETERS | {"all_or_nothing"}


@dataclass(frozen=True)
class Options:
    reasons: int
    next_steps: int
    strict: bool
    all_or_nothing: bool = False


@router.post(
    "/score",
    response_model=Score,
    openapi_extra=body_doc(Lead, "One lead, with its recent activities.", QUERY_PARAMETERS),
)
async def score_lead(request: Request) -> Response:
    """Score one lead: probability, 0-100 score, grade, recommendation and top reasons."""
    scoring, options = _resolve(request)
    lead = Lead.model_validate(parse_body(await request.body()))
    # One lead takes well under a millisecond: scoring it on the event loop beats a thread hop.
    (answer,) = _score(scoring, [lead], options)
    if isinstance(answer, ApiError):
        raise answer
    return _json(answer)


@router.post(
    "/score/batch",
    response_model=BatchResponse,
    openapi_extra=body_doc(
        BatchRequest,
        "Up to LEADSCORE_MAX_BATCH_LEADS leads (1,000). Each lead gets its own entry: a score, "
        "or the lead's error (its index, id and the field at fault).",
        [*QUERY_PARAMETERS, ALL_OR_NOTHING_PARAMETER],
    ),
)
async def score_batch(request: Request) -> Response:
    """Score many leads in one call; answers come back in the order the leads were sent."""
    scoring, options = _resolve(request, batch=True)
    body = await request.body()
    # Parsed and scored off the event loop, so single-lead calls keep flowing meanwhile, and
    # one batch at a time per worker, since threads scoring at once only fight for the GIL.
    answers = await anyio.to_thread.run_sync(
        _score_batch, scoring, body, options, limiter=scoring.batch_slot
    )
    return _json({"scores": answers})


def _resolve(request: Request, *, batch: bool = False) -> tuple[Scoring, Options]:
    """Authorize (401/403), find the model (503), check the media type (415) and read the
    query (422), in that order."""
    authorize(request, "score")
    scoring = Scoring.of(request)
    require_json(request)
    query = request.query_params
    known = BATCH_PARAMETERS if batch else LEAD_PARAMETERS
    unknown = [name for name in query if name not in known]
    if unknown:  # a typo such as ?strcit=true would otherwise be dropped without a word
        raise InvalidParameter(
            f"{unknown[0][:40]}: not a parameter of this route; expected one of "
            f"{', '.join(sorted(known))}",
            field=unknown[0][:40],
        )
    reasons = _count(query, "reasons", scoring.settings.default_reasons, MAX_REASONS)
    next_steps = _count(query, "next_steps", scoring.settings.default_next_steps, MAX_NEXT_STEPS)
    names = ("strict", "all_or_nothing") if batch else ("strict",)
    flags = {name: _flag(query.get(name, "false"), name) for name in names}
    return scoring, Options(reasons, next_steps, **flags)


def _count(query: Mapping[str, str], name: str, default: int, most: int) -> int:
    text = query.get(name)
    if text is None:
        return default
    # ASCII digits only: str.isdigit() also takes '²', which int() refuses.
    if not (text.isascii() and text.isdigit() and len(text) <= 2) or int(text) > most:
        raise InvalidParameter(
            f"{name}: expected a whole number from 0 to {most}, got {text[:20]!r}", field=name
        )
    return int(text)


def _flag(text: str, name: str) -> bool:
    value = BOOLEANS.get(text.lower())
    if value is None:
        raise InvalidParameter(f"{name}: expected true or false, got {text[:20]!r}", field=name)
    return value


def _json(content: Any) -> Response:
    """The answer as JSON, built from plain values: the response models document the shape
    (and tests hold the answers to them) without validating every answer again."""
    return Response(orjson.dumps(content), media_type="application/json")


def _score_batch(scoring: Scoring, body: bytes, options: Options) -> list[dict[str, Any]]:
    """One entry per lead: its answer, or its error in the one error shape."""
    raw = batch_leads(body, scoring.settings.max_batch_leads)
    leads: list[Lead | ApiError] = []
    for index, item in enumerate(raw):
        try:
            leads.append(Lead.model_validate(item))
        except ValidationError as error:
            message, field = describe(error, f"leads[{index}]")
            leads.append(InvalidParameter(message, field=field))
    answers = _score(scoring, leads, options, batch=True)
    entries: list[dict[str, Any]] = []
    for index, (item, answer) in enumerate(zip(raw, answers, strict=True)):
        if isinstance(answer, ApiError):
            scoring.metrics.lead_errors.labels(answer.code).inc()
            error = error_body(answer.code, answer.message, answer.field)["error"]
            entries.append({"index": index, "lead_id": _raw_id(item), "error": error})
        else:
            entries.append(answer)
    return entries


def _score(
    scoring: Scoring, leads: Sequence[Lead | ApiError], options: Options, *, batch: bool = False
) -> list[dict[str, Any] | ApiError]:
    """Answers in the order of `leads`, an error in place of each lead that cannot be scored.
    Only scores the prediction log kept are answered: `PredictionLogFull` otherwise."""
    model, settings = scoring.model, scoring.settings
    now = datetime.now(UTC)
    answers: list[Lead | dict[str, Any] | ApiError] = list(leads)
    for index, lead in enumerate(leads):
        if isinstance(lead, Lead) and len(lead.activities) > settings.max_activities_per_lead:
            answers[index] = TooManyActivities(
                f"expected at most {settings.max_activities_per_lead} activities per lead, "
                f"got {len(lead.activities)}; send the most recent ones",
                field=_field(batch, index, "activities"),
            )
    todo = {i: lead for i, lead in enumerate(answers) if isinstance(lead, Lead)}
    results = _scored(scoring, list(todo.values()), now, options)
    kept: list[tuple[int, ScoredLead]] = []
    for index, result in zip(todo, results, strict=True):
        if isinstance(result, InvalidLeadError):
            answers[index] = InvalidParameter(str(result), field=_field(batch, index, result.field))
        elif options.strict and result.warnings:
            answers[index] = UnusedInput(
                f"the model could not use all of this lead: {'; '.join(result.warnings)}",
                field=_field(batch, index),
            )
        else:
            kept.append((index, result))
    failed = [a for a in answers if isinstance(a, ApiError)]
    if failed and options.all_or_nothing:
        raise type(failed[0])(
            failed[0].message + (f" (and {len(failed) - 1} more leads)" if len(failed) > 1 else ""),
            field=failed[0].field,
        )
    previous: list[int | None] = [None] * len(kept)
    controls = [False] * len(kept)
    if scoring.prediction_log is not None and kept:
        keys = [scoring.lead_key(result.lead_id) for _, result in kept]
        if settings.control_share > 0:
            controls = [scoring.in_control(key) for key in keys]
        control_call = settings.control_recommendation
        aliases = model.scorer.aliases
        rows = [
            row(
                result, model.name, model.version, now, key,
                as_of=todo[index].as_of,
                source=_attribute(todo[index], "source", aliases),
                campaign=_attribute(todo[index], "campaign", aliases),
                control=control,
                answered=control_call if control else None,
            )
            for (index, result), key, control in zip(kept, keys, controls, strict=True)
        ]  # fmt: skip
        try:
            previous = scoring.prediction_log.record_scores(rows, model.name)
        except LogFull:
            raise PredictionLogFull(
                "the prediction log cannot keep these scores (its spool is full or its disk "
                "is), so they are not answered; try again later"
            ) from None
    if kept:
        moments = [todo[index].as_of or now for index, _ in kept]
        scoring.drift.observe([result for _, result in kept], moments, model.scorer)
    control_answer = None
    if any(controls):  # worded once per request, and only when a control lead is in it
        call = settings.control_recommendation
        control_answer = (call, CONTROL_REASON.format(share=settings.control_share, call=call))
    answered = Counter[str]()
    for (index, result), before, control in zip(kept, previous, controls, strict=True):
        answer = answers[index] = _answer(
            result, model, before, control_answer if control else None
        )
        answered[answer["recommendation"]] += 1
    for recommendation, count in answered.items():
        scoring.metrics.scores.labels(recommendation).inc(count)
    return answers  # type: ignore[return-value]  # every Lead was answered above


def _scored(
    scoring: Scoring, leads: list[Lead], now: datetime, options: Options
) -> list[ScoredLead | InvalidLeadError]:
    """Score together; when one lead cannot be scored, score each alone to find which. With a
    model that reads accounts, each lead gets its account's features first, and the scored
    leads are observed into the account book after."""
    if not leads:
        return []
    scorer = scoring.model.scorer
    mappings = [lead.as_mapping() for lead in leads]
    moments = [lead.as_of or now for lead in leads]
    counts = {"reasons": options.reasons, "next_steps": options.next_steps}
    scoring.accounts.add_features(mappings, moments)
    try:
        found: list[ScoredLead | InvalidLeadError] = list(
            scorer.score_leads(mappings, moments, **counts)
        )
    except InvalidLeadError:
        if len(leads) == 1:
            raise
        found = []
        for mapping, moment in zip(mappings, moments, strict=True):
            try:
                found.extend(scorer.score_leads([mapping], [moment], **counts))
            except InvalidLeadError as error:
                found.append(error)
    scored = [i for i, result in enumerate(found) if not isinstance(result, InvalidLeadError)]
    problems = scoring.accounts.observe([mappings[i] for i in scored], [moments[i] for i in scored])
    for i, problem in zip(scored, problems, strict=True):
        result = found[i]
        if problem is not None and not isinstance(result, InvalidLeadError):
            result.warnings = (*result.warnings, problem)
    return found


def _field(batch: bool, index: int, name: str | None = None) -> str | None:
    """Where a lead's problem is: `leads[3].activities` in a batch, `activities` alone."""
    parts = (f"leads[{index}]" if batch else "", name or "")
    return ".".join(part for part in parts if part) or None


def _raw_id(item: Any) -> str | None:
    lead_id = item.get("lead_id") if isinstance(item, dict) else None
    return str(lead_id)[:200] if isinstance(lead_id, str | int) else None


def _attribute(lead: Lead, name: str, aliases: dict[str, str]) -> str | None:
    """A lead's `source` or `campaign`, also when the CRM sends it under its own field name."""
    value = getattr(lead, name)
    if value is None and aliases and lead.__pydantic_extra__:
        crm_name = next((crm for crm, ours in aliases.items() if ours == name), None)
        value = lead.__pydantic_extra__.get(crm_name) if crm_name else None
    return None if value is None else str(value)


def _answer(
    result: ScoredLead,
    model: LoadedModel,
    previous: int | None,
    control: tuple[str, str] | None,
) -> dict[str, Any]:
    """One lead's answer in the shape of `Score`; a control lead's `control` holds the
    recommendation it is answered and why."""
    groups = result.group_scores or {}
    recommendation, why = control or (result.recommendation, result.recommendation_reason)
    return {
        "lead_id": result.lead_id,
        "score": result.score,
        "probability": result.probability,
        "grade": result.grade,
        "recommendation": recommendation,
        "recommendation_reason": why,
        "reasons": [
            {
                "feature": reason.feature,
                "description": reason.description,
                "value": reason.value,
                "contribution": reason.contribution,
                "direction": reason.direction,
                "sentence": reason.sentence,
            }
            for reason in result.reasons
        ],
        "fit_score": groups.get("fit"),
        "engagement_score": groups.get("engagement"),
        "source_score": groups.get("source"),
        "account_score": groups.get("account"),
        "next_steps": [
            {
                "moves": [
                    {"feature": m.feature, "action": m.action, "before": m.before, "after": m.after}
                    for m in step.moves
                ],
                "score": step.score,
                "probability": step.probability,
                "recommendation": step.recommendation,
                "sentence": step.sentence,
            }
            for step in result.next_steps or ()
        ],
        "state": result.state,
        "state_reason": result.state_reason,
        "trend": score_trend(result.score, previous),
        "previous_score": previous,
        "control": control is not None,
        "warnings": list(result.warnings),
        "model": {"name": model.name, "version": model.version, "segment": result.segment},
    }
