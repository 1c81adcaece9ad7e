"""The leads to call: the export's open leads scored as of its end, SQL first, then MQL, best
score first, with the three biggest reasons in words. Only the columns listed here are written,
so no personal data (email, phone, name, notes) can reach the file."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features import CREATED_AT, LEAD_ID, MICROS_PER_DAY, build_features, series_to_micros
from scoring import LeadScorer, ScoredLead
from training.data import CrmExport
from training.report.holdout import channel_features
from training.report.words import reason_words

LEADS_TO_CALL_ARTIFACT = "leads_to_call.csv"
REASONS = 3
LEADS_TO_CALL_COLUMNS = (
    "lead_id", "score", "grade", "recommendation", "source", "campaign", "created_at",
    *(f"reason_{n}" for n in range(1, REASONS + 1)),
)  # fmt: skip
TO_CALL = ("SQL", "MQL")


def leads_to_call(
    scorer: LeadScorer, export: CrmExport, *, snapshot_days: float, horizon_days: float
) -> pd.DataFrame:
    """Open leads (no outcome yet) created within the model's snapshot and horizon before the
    export's end, the only ones it can still be right about, that the policy recommends as SQL
    or MQL; empty (with the columns) when the export has no outcomes table to tell open leads."""
    if export.outcomes is None or export.observed_until is None:
        return pd.DataFrame(columns=list(LEADS_TO_CALL_COLUMNS))
    end = export.observed_until
    leads = export.leads
    created = series_to_micros(leads[CREATED_AT], source="leads", column=CREATED_AT)
    decided = leads[LEAD_ID].astype(object).isin(export.outcomes[LEAD_ID].astype(object))
    recent = created > end - int((snapshot_days + horizon_days) * MICROS_PER_DAY)
    chosen = (~decided.to_numpy()) & recent & (created <= end)
    if not chosen.any():
        return pd.DataFrame(columns=list(LEADS_TO_CALL_COLUMNS))
    open_leads = leads.loc[chosen].reset_index(drop=True)
    features = build_features(
        open_leads, export.activities, np.full(len(open_leads), end), scorer.feature_set
    )
    scored = scorer.score_frame(features, reasons=REASONS)
    source, campaign = channel_features(scorer.feature_set)
    rows = [
        _row(scorer, result, features, position, created[chosen][position], source, campaign)
        for position, result in enumerate(scored)
        if result.recommendation in TO_CALL
    ]
    frame = pd.DataFrame(rows, columns=list(LEADS_TO_CALL_COLUMNS))
    order = frame["recommendation"].map({kind: rank for rank, kind in enumerate(TO_CALL)})
    frame = frame.assign(_order=order).sort_values(
        ["_order", "score", "lead_id"], ascending=[True, False, True], kind="stable"
    )
    return frame.drop(columns="_order").reset_index(drop=True)


def _row(
    scorer: LeadScorer,
    result: ScoredLead,
    features: pd.DataFrame,
    position: int,
    created: int,
    source: str | None,
    campaign: str | None,
) -> list[object]:
    reasons = [
        reason_words(scorer.feature_set[r.feature], r.value, r.contribution, r.sentence)
        for r in result.reasons
    ]
    reasons += [""] * (REASONS - len(reasons))
    stamp = pd.Timestamp(created, unit="us", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        result.lead_id,
        result.score,
        result.grade,
        result.recommendation,
        None if source is None else features[source].iloc[position],
        None if campaign is None else features[campaign].iloc[position],
        stamp,
        *reasons,
    ]
