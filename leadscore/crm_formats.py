"""Scores back into the CRM: the columns, codes, encodings and limits of Dynamics 365 Sales,
Salesforce and HubSpot imports, in one place (the README's "Back into the CRM" quotes them).

Every layout matches a lead on the CRM's own record id (`lead_id`), never on personal data.
Sources: Dynamics 365 Sales "Populate predictive scores using custom scoring model" and the
`msdyn_predictivescore` table reference; Salesforce Bulk API 2.0 "Prepare CSV Files" and the
Data Import Wizard's lead matching; HubSpot "Set up import files".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

import orjson
import pandas as pd

from scoring import TRENDS, Grade, Trend, dynamics_code

CrmName = Literal["dynamics", "salesforce", "hubspot"]
CRM_NAMES: tuple[CrmName, ...] = get_args(CrmName)

# `msdyn_grade` and `msdyn_scoretrend` option values, as the table reference lists them.
DYNAMICS_GRADES: dict[Grade, int] = {"A": 0, "B": 1, "C": 2, "D": 3}
DYNAMICS_TRENDS: dict[Trend, int] = {trend: dynamics_code(trend) for trend in TRENDS}
DYNAMICS_ENTITY_TYPE = "lead"
# Dynamics' own labels, used as the picklist values of the other two.
TREND_LABELS: dict[Trend, str] = {
    "improving": "Improving", "steady": "Steady", "declining": "Declining",
    "not_enough_info": "Not enough info",
}  # fmt: skip
REASONS_SEPARATOR = "; "
ELLIPSIS = "…"

DYNAMICS_COLUMNS = (
    "msdyn_entityid", "msdyn_entitytype", "msdyn_score", "msdyn_grade", "msdyn_scoretrend",
    "msdyn_scorereasons",
)  # fmt: skip
SALESFORCE_COLUMNS = (
    "Id", "Lead_Score__c", "Lead_Grade__c", "Lead_Recommendation__c", "Lead_Score_Reasons__c",
    "Lead_Score_Trend__c", "Lead_Score_Model__c", "Lead_Scored_At__c",
)  # fmt: skip
HUBSPOT_COLUMNS = (
    "Record ID", "leadscore_score", "leadscore_grade", "leadscore_recommendation",
    "leadscore_reasons", "leadscore_trend", "leadscore_model", "leadscore_scored_on",
)  # fmt: skip


@dataclass(frozen=True)
class CrmLayout:
    """What one CRM's import takes: its header, where the record id and the score are, how long
    the reasons may be, the file's encoding and types, and the import tool's size limit."""

    title: str
    columns: tuple[str, ...]
    id_column: str
    score_column: str
    reasons_limit: int  # the reasons field's documented maximum length, in UTF-16 code units
    byte_order_mark: bool
    suffixes: tuple[str, ...]
    id_pattern: re.Pattern[str]
    id_expected: str
    max_rows: int | None
    max_csv_bytes: int | None
    too_large: str


LAYOUTS: dict[CrmName, CrmLayout] = {
    # The documented way in is the Web API (POST/PATCH msdyn_predictivescores): .jsonl holds one
    # body per lead; .csv is the same rows for the import from CSV, which upserts on the table's
    # alternate key (msdyn_entityid, msdyn_entitytype). The byte-order mark lets Excel, which
    # people open the file with first, read it as UTF-8.
    "dynamics": CrmLayout(
        title="Dynamics 365 Sales",
        columns=DYNAMICS_COLUMNS,
        id_column="msdyn_entityid",
        score_column="msdyn_score",
        reasons_limit=10_000,
        byte_order_mark=True,
        suffixes=(".csv", ".jsonl"),
        id_pattern=re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"),
        id_expected="the lead's GUID (leadid)",
        max_rows=None,
        max_csv_bytes=8 * 1024 * 1024,
        too_large="the import takes CSV files up to 8 MB: zip it (up to 32 MB) or write .jsonl "
        "for the Web API",
    ),
    # UTF-8 without a byte-order mark: Data Loader reads a mark as part of the first header.
    "salesforce": CrmLayout(
        title="Salesforce",
        columns=SALESFORCE_COLUMNS,
        id_column="Id",
        score_column="Lead_Score__c",
        reasons_limit=32_768,  # a Long Text Area's default length
        byte_order_mark=False,
        suffixes=(".csv",),
        id_pattern=re.compile(r"[A-Za-z0-9]{15}([A-Za-z0-9]{3})?"),
        id_expected="the Lead's 15- or 18-character Salesforce ID",
        max_rows=50_000,
        max_csv_bytes=None,
        too_large="the Data Import Wizard takes up to 50,000 records: use Data Loader",
    ),
    "hubspot": CrmLayout(
        title="HubSpot",
        columns=HUBSPOT_COLUMNS,
        id_column="Record ID",
        score_column="leadscore_score",
        reasons_limit=65_536,  # a text property's maximum
        byte_order_mark=False,
        suffixes=(".csv",),
        id_pattern=re.compile(r"[1-9][0-9]*"),
        id_expected="the contact's numeric Record ID",
        max_rows=1_048_576,
        max_csv_bytes=None,
        too_large="the import takes up to 1,048,576 rows a file: split it",
    ),
}


def reasons_text(sentences: Iterable[str], limit: int) -> str:
    """The sentences joined with "; ", as many whole ones as fit in `limit` UTF-16 code units
    (as .NET and Java count a string, the most any of the CRMs could count). Only a first
    sentence longer than the field alone is cut, between two characters, with an ellipsis."""
    text = ""
    for sentence in sentences:
        joined = f"{text}{REASONS_SEPARATOR}{sentence}" if text else sentence
        if _utf16_units(joined) <= limit:
            text = joined
        elif not text:
            return _cut(sentence, limit)
        else:
            break
    return text


def crm_table(
    rows: pd.DataFrame,
    crm: CrmName,
    *,
    trends: Sequence[Trend],
    model: str,
    scored_at: datetime,
) -> pd.DataFrame:
    """`leadscore score`'s rows as `crm`'s import wants them: its columns, in its order
    (`scored_at` in UTC)."""
    layout = LAYOUTS[crm]
    scores = pd.array(pd.to_numeric(rows["score"]), dtype="Int64")
    grades = [None if pd.isna(g) else g for g in rows["grade"]]
    reasons = [
        reasons_text((r["sentence"] for r in orjson.loads(cell)), layout.reasons_limit)
        for cell in rows["reasons"]
    ]
    if crm == "dynamics":
        values: list[object] = [
            rows["lead_id"], DYNAMICS_ENTITY_TYPE, scores,
            pd.array([None if g is None else DYNAMICS_GRADES[g] for g in grades], dtype="Int64"),
            [DYNAMICS_TRENDS[t] for t in trends], reasons,
        ]  # fmt: skip
    else:
        labels = [TREND_LABELS[t] for t in trends]
        if crm == "salesforce":
            moment = f"{scored_at:%Y-%m-%dT%H:%M:%S}.{scored_at.microsecond // 1000:03d}Z"
        else:
            moment = f"{scored_at:%Y-%m-%d}"
        values = [
            rows["lead_id"], scores, grades, rows["recommendation"], reasons, labels, model, moment,
        ]  # fmt: skip
    return pd.DataFrame(dict(zip(layout.columns, values, strict=True)), index=rows.index)


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(sentence: str, limit: int) -> str:
    room, kept = limit - _utf16_units(ELLIPSIS), []
    for character in sentence:
        room -= _utf16_units(character)
        if room < 0:
            break
        kept.append(character)
    return "".join(kept) + ELLIPSIS
