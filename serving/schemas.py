"""Request and response bodies of the HTTP API, with the examples the OpenAPI document shows."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

EXAMPLE_LEAD: dict[str, Any] = {
    "lead_id": "L-1001",
    "created_at": "2026-11-20T09:00:00Z",
    "source": "referral",
    "campaign": "customer-referral",
    "country": "US",
    "industry": "Software",
    "company_size": 250,
    "job_title": "VP of Marketing",
    "email_domain": "acme.example",
    "activities": [
        {"activity_type": "web_visit", "occurred_at": "2026-11-20T09:05:00Z"},
        {"activity_type": "pricing_page_view", "occurred_at": "2026-11-20T09:07:00Z"},
        {"activity_type": "demo_request", "occurred_at": "2026-11-21T14:30:00Z"},
    ],
    "as_of": "2026-11-23T12:00:00Z",
}


FIRST_YEAR, LAST_YEAR = 1900, 2199
MAX_EXTRA_FIELDS, MAX_EXTRA_TEXT = 100, 1000
# What the OpenAPI document promises for a date: RFC 3339 text whose year is 1900 to 2199.
DATE_TIME_SCHEMA: dict[str, Any] = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^(19\d\d|2[01]\d\d)-",
    "examples": ["2026-11-20T09:00:00Z"],
}


def _date_text(value: Any) -> Any:
    """Dates come as ISO 8601 text; a number is not read as a Unix time, a bool not at all, nor
    a text of digits (which pydantic would read as a Unix time): the text starts `YYYY-`."""
    if (isinstance(value, str) and value[4:5] == "-") or isinstance(value, datetime):
        return value
    raise ValueError("expected an ISO 8601 date-time string such as 2026-11-20T09:00:00Z")


def _in_range(value: datetime) -> datetime:
    """In UTC, written with a year from 1900 to 2199 (what the document's pattern says): far
    dates with an offset overflowed while scoring, and these cannot."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"expected a date-time from {FIRST_YEAR} to {LAST_YEAR}")
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


# The integers the JSON parser (orjson) reads as integers: a longer one arrives as a float.
RecordNumber = Annotated[int, Field(ge=-(2**63), le=2**64 - 1)]
# Up to this size a float holds the very integer that was written as `7.0`; past it, not always.
EXACT_FLOAT_INTEGERS = 2**53


def _id_text(value: Any) -> Any:
    """CRMs number their records: an integer id is taken as its text, also when written `7.0`,
    which JSON Schema counts as the integer 7 (and orjson reads as a float)."""
    if type(value) is int:
        return str(value)
    if type(value) is float and value.is_integer() and abs(value) <= EXACT_FLOAT_INTEGERS:
        return str(int(value))
    return value


LeadTime = Annotated[
    datetime,
    BeforeValidator(_date_text),
    AfterValidator(_in_range),
    WithJsonSchema(DATE_TIME_SCHEMA),
]
LeadId = Annotated[
    str,
    BeforeValidator(_id_text, json_schema_input_type=str | RecordNumber),
    Field(min_length=1, max_length=200),
]
# JSON numbers only: not "250", not true, not Infinity or 1e309.
FiniteNumber = Annotated[float, Field(strict=True, allow_inf_nan=False)]


def _extra_value(value: Any) -> Any:
    """A custom column's value: what a CRM export cell can hold, bounded in size."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, str) and len(value) <= MAX_EXTRA_TEXT:
        return value
    raise ValueError(
        f"expected a number, a boolean, null or a text of at most {MAX_EXTRA_TEXT} characters"
    )


ExtraValue = Annotated[
    Any,
    BeforeValidator(_extra_value),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "maxLength": MAX_EXTRA_TEXT}, {"type": "number"},
                   {"type": "boolean"}, {"type": "null"}]}
    ),
]  # fmt: skip


class Activity(BaseModel):
    """Something the lead did, as the CRM or marketing automation recorded it."""

    activity_type: str = Field(min_length=1, max_length=64, examples=["demo_request"])
    occurred_at: LeadTime


class Lead(BaseModel):
    """A lead's CRM fields and recent activities. Fields the model does not use are reported in
    the answer's `warnings`; extra fields (up to 100, each a number, a boolean, null or a text
    of at most 1,000 characters) are passed to models trained on custom columns."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [EXAMPLE_LEAD]})
    __pydantic_extra__: dict[str, ExtraValue] = Field(init=False)  # type: ignore[assignment]

    lead_id: LeadId | None = None
    created_at: LeadTime | None = None
    source: str | None = Field(None, max_length=200)
    campaign: str | None = Field(None, max_length=200)
    country: str | None = Field(None, max_length=100)
    industry: str | None = Field(None, max_length=200)
    company_size: FiniteNumber | None = Field(None, ge=0, le=10_000_000)
    job_title: str | None = Field(None, max_length=300)
    email_domain: str | None = Field(None, max_length=300)
    activities: list[Activity] = Field(default_factory=list)
    as_of: LeadTime | None = Field(
        None, description="Score the lead as of this moment; defaults to now."
    )

    @model_validator(mode="after")
    def _few_extra_fields(self) -> Lead:
        extra = self.__pydantic_extra__
        if extra and len(extra) > MAX_EXTRA_FIELDS:
            raise ValueError(f"expected at most {MAX_EXTRA_FIELDS} extra fields, got {len(extra)}")
        return self

    def as_mapping(self) -> dict[str, Any]:
        """The plain dict the online feature engine reads, without pydantic's dump overhead:
        the fields the lead sent (an absent column is then reported), and its activities."""
        fields = self.__dict__
        values = {name: fields[name] for name in self.model_fields_set if name in fields}
        values.update(self.__pydantic_extra__ or {})
        values["activities"] = [activity.__dict__ for activity in self.activities]
        return values


class BatchRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"leads": [EXAMPLE_LEAD]}]})

    leads: list[Lead] = Field(
        max_length=1000, description="At most LEADSCORE_MAX_BATCH_LEADS leads (1,000)."
    )


class ErrorDetail(BaseModel):
    code: str = Field(examples=["invalid_request"])
    message: str = Field(examples=["company_size: Input should be a finite number"])
    field: str | None = Field(None, examples=["company_size"])


class ErrorResponse(BaseModel):
    """The one shape of every 4xx and 5xx answer."""

    error: ErrorDetail


class Reason(BaseModel):
    feature: str = Field(examples=["days_since_last_demo_request"])
    description: str = Field(examples=["Days since the lead's last demo request."])
    value: float | str | None = Field(examples=[1.9])
    contribution: float = Field(
        description="Push on the score in log-odds: positive raises it.", examples=[0.84]
    )
    direction: Literal["up", "down"] = Field(examples=["up"])
    sentence: str = Field(examples=["Requested a demo 2 days ago"])


class Move(BaseModel):
    feature: str = Field(examples=["meeting_booked_count_30d"])
    action: str = Field(description="The move in plain words.", examples=["Book a meeting"])
    before: float | None = Field(description="The feature's value now.", examples=[0])
    after: float = Field(description="Its value after the move.", examples=[1])


class NextStep(BaseModel):
    """At most two actionable moves the model expects to carry the lead over its next threshold.
    What the model expects from history, not a promise: see the README's "Next steps"."""

    moves: list[Move]
    score: int = Field(ge=0, le=100, description="The score the model expects after the moves.")
    probability: float = Field(ge=0, le=1)
    recommendation: Literal["SQL", "MQL", "nurture", "disqualified"] = Field(
        description="The recommendation the policy gives the lead after the moves."
    )
    sentence: str = Field(examples=["Book a meeting: the model expects a score of 41 (SQL)."])


class ModelRef(BaseModel):
    name: str = Field(examples=["lead-scoring"])
    version: str = Field(examples=["3"])
    segment: str | None = Field(
        None, description="The segment model that scored the lead; null for the global model."
    )


class Score(BaseModel):
    lead_id: str | None = Field(examples=["L-1001"])
    score: int | None = Field(
        ge=0, le=100, description="Calibrated probability x 100, rounded; null without a model."
    )
    probability: float | None = Field(ge=0, le=1, description="Calibrated chance of winning.")
    grade: Literal["A", "B", "C", "D"] | None = Field(
        description="From the same thresholds: A at or above SQL, B at or above MQL, C below MQL, "
        "D below the disqualification floor; null without a score."
    )
    recommendation: Literal["SQL", "MQL", "nurture", "disqualified"] = Field(
        description="SQL: send to sales (score at or above the SQL threshold and every ICP rule "
        "met). MQL: marketing works it (at or above the MQL threshold). nurture: below MQL, "
        "keep in nurture programmes. disqualified: excluded by the policy, or a calibrated "
        "chance under half the average lead's."
    )
    recommendation_reason: str = Field(
        examples=["Meets the ICP, and score 52 is at or above the SQL threshold 35"]
    )
    reasons: list[Reason]
    fit_score: float | None = Field(
        None, description="Sum of the pushes of who the lead is (industry, size, seniority)."
    )
    engagement_score: float | None = Field(
        None, description="Sum of the pushes of what the lead did; null when reasons=0."
    )
    source_score: float | None = Field(
        None, description="Sum of the pushes of where the lead came from."
    )
    account_score: float | None = Field(
        None,
        description="Sum of the pushes of the lead's account (its buying group); 0 for a model "
        "without account features.",
    )
    next_steps: list[NextStep] = Field(
        default_factory=list,
        description="For a lead below SQL: the fewest actionable moves (at most 2) that the model "
        "expects to carry it over its next threshold, largest lift first; empty when none does, "
        "for an SQL, or with next_steps=0.",
    )
    state: Literal["scored", "insufficient_data"] = Field(
        description="insufficient_data: a rules-only model, too little history to score yet."
    )
    state_reason: str | None = None
    trend: Literal["improving", "steady", "declining", "not_enough_info"] = Field(
        description="Against this lead's previous score under the same model name (any "
        "version): improving or declining when it moved by 5 points or more, steady when less, "
        "not_enough_info without an earlier score or a lead_id (Dynamics 365's meanings).",
        examples=["improving"],
    )
    previous_score: int | None = Field(
        None, description="The lead's previous score under the same model name; null if none."
    )
    control: bool = Field(
        False,
        description="true: the lead is in the random control group (LEADSCORE_CONTROL_SHARE); "
        "its recommendation is the fixed LEADSCORE_CONTROL_RECOMMENDATION, not the policy's.",
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="What the model could not use: fields it does not read (with a guess at the "
        "one meant), columns it reads that were not sent, category values new to it (scored as "
        "unknown), activities dated after as_of or of unknown types. `?strict=true` answers 422 "
        "instead.",
        examples=[["industry 'finance' is new to the model: scored as unknown"]],
    )
    model: ModelRef


class LeadError(BaseModel):
    """A lead of a batch that could not be scored, in place of its score."""

    index: int = Field(ge=0, description="The lead's position in the batch, from 0.")
    lead_id: str | None = Field(None, description="The lead's id, when it could be read.")
    error: ErrorDetail


class AccountRequest(BaseModel):
    """An account's contacts (leads), scored together: the account's score and reasons."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"account": "acme.example", "leads": [EXAMPLE_LEAD]}]},
    )

    account: str | None = Field(
        None,
        max_length=300,
        description="The account (its key: a company domain or an account id); default the "
        "account of the first lead.",
    )
    leads: list[Lead] = Field(
        min_length=1, max_length=1000, description="The account's contacts, at most 1,000."
    )


class AccountContact(BaseModel):
    lead_id: str | None
    score: int | None = Field(ge=0, le=100)
    probability: float | None = Field(ge=0, le=1)
    recommendation: Literal["SQL", "MQL", "nurture", "disqualified"]


class AccountReason(BaseModel):
    feature: str = Field(examples=["account_engaged_contacts_30d"])
    description: str
    contribution: float = Field(
        description="The feature's push summed over the account's contacts, in log-odds."
    )
    direction: Literal["up", "down"]
    sentence: str = Field(
        description="The sentence of the contact this feature pushed most, with its id."
    )


class AccountKnown(BaseModel):
    """What the server's account state holds for the account, as of now."""

    contacts: int = Field(ge=0, description="Contacts it knows.")
    engaged_30d: int = Field(ge=0, description="Of them, those active in the last 30 days.")
    open: int = Field(ge=0)
    won: int = Field(ge=0)


class AccountScore(BaseModel):
    account: str | None
    probability: float | None = Field(
        ge=0,
        le=1,
        description="The chance that at least one of the contacts converts: 1 - the product "
        "of (1 - p) over the contacts' calibrated probabilities, taking them as independent "
        "(contacts of one account are not, so read it as an upper estimate).",
    )
    score: int | None = Field(ge=0, le=100, description="The probability x 100, rounded.")
    aggregation: Literal["at_least_one_converts"] = "at_least_one_converts"
    contacts: list[AccountContact] = Field(
        description="The contacts scored, the most likely to convert first (at most 10)."
    )
    reasons: list[AccountReason] = Field(description="The top 5 pushes over all contacts.")
    known: AccountKnown | None = Field(
        None, description="The server's account state; null for a model without accounts."
    )
    model: ModelRef


class BatchResponse(BaseModel):
    scores: list[Score | LeadError] = Field(
        description="One entry per lead, in the order sent: a score, or the lead's error."
    )


class ModelInfo(BaseModel):
    name: str
    version: str
    uri: str
    trained_at: str | None
    metrics: dict[str, float]
    thresholds: dict[str, int]
    icp_rules: list[str]
    exclusions: list[str]
    policy_hash: str | None = Field(
        None, description="Hash of the policy file the model was trained with; None: no policy."
    )
    policy_origin: str | None = Field(None, description="Where that policy came from.")
    state: Literal["scored", "insufficient_data"] = "scored"
    attribution: Literal["treeshap-tables", "pred_contrib", "path", "none"] = Field(
        "treeshap-tables", description="How reasons are computed; the README explains each."
    )
    segment_by: str | None = None
    segments: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Holdout metrics of each segment model."
    )
    splits: dict[str, dict[str, Any]]
    features: list[dict[str, str]]
    serving_version: str = Field(description="The version answering requests.")
    registry_champion: str | None = Field(
        None, description="The version the registry's alias names; differs while a load fails."
    )
    load_error: str | None = Field(None, description="Why the last model load failed.")


class LogHealth(BaseModel):
    state: Literal["ok", "degraded", "full"] = Field(
        description="degraded: more than `degraded_at` rows wait in the spool (the database is "
        "away or slow; nothing is lost); full: the spool cannot take rows, scoring answers 503."
    )
    spool_depth: int
    degraded_at: int
    shipped: int = Field(description="Rows this worker moved into the database since start.")
    quarantined: int = Field(description="Rows the database refused, kept aside in the spool.")
    last_error: str | None = None


class Status(BaseModel):
    status: Literal["ok", "ready", "degraded", "not_ready"] = Field(examples=["ready"])
    model: ModelRef | None = None
    serving_version: str | None = Field(None, description="The version answering requests.")
    registry_champion: str | None = Field(
        None, description="The version the registry's alias names; differs while a load fails."
    )
    load_error: str | None = Field(None, description="Why the last model load failed.")
    prediction_log: LogHealth | None = None


EXAMPLE_OUTCOME: dict[str, Any] = {
    "lead_id": "L-1001",
    "status": "won",
    "closed_at": "2027-01-15T16:00:00Z",
    "stages": [
        {"stage": "sal", "at": "2026-11-24T10:00:00Z"},
        {"stage": "sql", "at": "2026-11-26T15:30:00Z"},
        {"stage": "opportunity", "at": "2026-12-02T09:00:00Z"},
    ],
}


class StageChange(BaseModel):
    """A step of the lead through the funnel, as the CRM recorded it."""

    model_config = ConfigDict(extra="forbid")

    stage: Literal["sal", "sql", "opportunity"] = Field(
        description="sal: sales accepted the MQL; sql: sales qualified it; opportunity: an "
        "opportunity was opened."
    )
    at: LeadTime


class ClosedOutcome(BaseModel):
    """A lead won or lost, with when, and the stages it passed on the way."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_OUTCOME]})

    lead_id: LeadId
    status: Literal["won", "lost"]
    closed_at: LeadTime = Field(description="When it was won or lost.")
    stages: list[StageChange] = Field(default_factory=list, max_length=20)


class OpenOutcome(BaseModel):
    """A lead still open that passed a stage: sales accepted it, qualified it, or opened an
    opportunity."""

    model_config = ConfigDict(extra="forbid")

    lead_id: LeadId
    status: Literal["open"]
    stages: list[StageChange] = Field(min_length=1, max_length=20)


Outcome = Annotated[ClosedOutcome | OpenOutcome, Field(discriminator="status")]


class OutcomeBatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"outcomes": [EXAMPLE_OUTCOME]}]}
    )

    outcomes: list[Outcome] = Field(
        min_length=1, max_length=1000, description="At most LEADSCORE_MAX_BATCH_LEADS (1,000)."
    )


class OutcomesAccepted(BaseModel):
    outcomes: int = Field(description="Outcomes received.", examples=[1])
    events: int = Field(
        description="Events kept (won or lost, and each stage change); an event sent before is "
        "stored once.",
        examples=[4],
    )


class ScoreHistoryEntry(BaseModel):
    scored_at: datetime
    as_of: datetime | None
    model_name: str
    model_version: str
    score: int | None
    grade: Literal["A", "B", "C", "D"] | None
    recommendation: str
    trend: Literal["improving", "steady", "declining", "not_enough_info"] = Field(
        description="Against the entry before it under the same model name."
    )


class ScoreHistory(BaseModel):
    lead_id: str
    scores: list[ScoreHistoryEntry] = Field(description="Newest first.")
