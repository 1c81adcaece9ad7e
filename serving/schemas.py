"""Request and response bodies of the HTTP API, with the examples the OpenAPI document shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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


class Activity(BaseModel):
    """Something the lead did, as the CRM or marketing automation recorded it."""

    activity_type: str = Field(min_length=1, max_length=64, examples=["demo_request"])
    occurred_at: datetime


class Lead(BaseModel):
    """A lead's CRM fields and recent activities. Fields the model does not use are ignored;
    extra fields are passed to models trained on custom columns."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [EXAMPLE_LEAD]})

    lead_id: str | None = Field(None, max_length=200)
    created_at: datetime | None = None
    source: str | None = Field(None, max_length=200)
    campaign: str | None = Field(None, max_length=200)
    country: str | None = Field(None, max_length=100)
    industry: str | None = Field(None, max_length=200)
    company_size: float | None = Field(None, ge=0)
    job_title: str | None = Field(None, max_length=300)
    email_domain: str | None = Field(None, max_length=300)
    activities: list[Activity] = Field(default_factory=list)
    as_of: datetime | None = Field(
        None, description="Score the lead as of this moment; defaults to now."
    )

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

    leads: list[Lead]


class Reason(BaseModel):
    feature: str = Field(examples=["days_since_last_demo_request"])
    description: str = Field(examples=["Days since the lead's last demo request."])
    value: float | str | None = Field(examples=[1.9])
    contribution: float = Field(
        description="Push on the score in log-odds: positive raises it.", examples=[0.84]
    )
    direction: Literal["up", "down"] = Field(examples=["up"])
    sentence: str = Field(examples=["Requested a demo 2 days ago"])


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
    state: Literal["scored", "insufficient_data"] = Field(
        description="insufficient_data: a rules-only model, too little history to score yet."
    )
    state_reason: str | None = None
    warnings: list[str] = Field(
        default_factory=list,
        description="What the model could not use: fields it does not read (with a guess at the "
        "one meant), columns it reads that were not sent, category values new to it (scored as "
        "unknown), activities dated after as_of or of unknown types. `?strict=true` answers 422 "
        "instead.",
        examples=[["industry 'finance' is new to the model: scored as unknown"]],
    )
    model: ModelRef


class BatchResponse(BaseModel):
    scores: list[Score]


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


class Status(BaseModel):
    status: str = Field(examples=["ok"])
    model: ModelRef | None = None
