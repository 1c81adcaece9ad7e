"""The data contract: which tables and columns a CRM export brings, and what they mean."""

from __future__ import annotations

from dataclasses import dataclass

LEAD_ID = "lead_id"
CREATED_AT = "created_at"
OCCURRED_AT = "occurred_at"
ACTIVITY_TYPE = "activity_type"
STATUS = "status"
CLOSED_AT = "closed_at"
WON = "won"
LOST = "lost"

ACTIVITY_TYPES: tuple[str, ...] = (
    "email_open",
    "email_click",
    "web_visit",
    "pricing_page_view",
    "content_download",
    "webinar_attended",
    "demo_request",
    "form_submit",
    "meeting_booked",
)
HIGH_INTENT_ACTIVITIES: tuple[str, ...] = (
    "demo_request",
    "meeting_booked",
    "pricing_page_view",
    "webinar_attended",
)


@dataclass(frozen=True)
class TableContract:
    """The columns one table must have, and which of them hold timestamps."""

    name: str
    required: tuple[str, ...]
    timestamps: tuple[str, ...]


LEADS = TableContract("leads", (LEAD_ID, CREATED_AT), (CREATED_AT,))
ACTIVITIES = TableContract("activities", (LEAD_ID, OCCURRED_AT, ACTIVITY_TYPE), (OCCURRED_AT,))
OUTCOMES = TableContract("outcomes", (LEAD_ID, STATUS, CLOSED_AT), (CLOSED_AT,))
