"""Training examples: each lead's snapshot time and whether it was won within the horizon after.

Leads whose horizon has not fully passed by the export are left out, never labelled lost: we do
not know yet how the open ones end. Those already decided are left out too, because wins close
faster than losses: keeping only the decided recent leads would fill the newest rows, and so the
holdout, with wins. Leads already closed at their snapshot are left out: nothing is left to predict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from features.errors import DataContractError
from features.schema import CLOSED_AT, CREATED_AT, LEAD_ID, LOST, STATUS, WON
from features.timestamps import ONE_MICROSECOND, series_to_micros

SNAPSHOT_DELAY = timedelta(days=7)
HORIZON = timedelta(days=90)


@dataclass(frozen=True)
class LabelCounts:
    """How many leads each rule kept or left out, for the training log."""

    labelled: int
    won: int
    without_full_horizon: int
    closed_before_snapshot: int


def make_examples(
    leads: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    observed_until: int,
    snapshot_delay: timedelta = SNAPSHOT_DELAY,
    horizon: timedelta = HORIZON,
) -> tuple[pd.DataFrame, LabelCounts]:
    """One row per usable lead: lead_id, as_of (epoch microseconds) and label (1 = won in horizon).

    `observed_until` (epoch microseconds) is when the export was taken: a horizon that ends after
    it is not complete yet.
    """
    created = series_to_micros(leads[CREATED_AT], source="leads", column=CREATED_AT)
    as_of = created + snapshot_delay // ONE_MICROSECOND
    horizon_end = as_of + horizon // ONE_MICROSECOND

    by_lead = _outcomes_by_lead(outcomes)
    positions = pd.Index(by_lead.index).get_indexer(leads[LEAD_ID].astype(object))
    has_outcome = positions >= 0
    # A sentinel at the end answers position -1 (no outcome row).
    closed_at = np.append(by_lead["closed_us"].to_numpy(), 0)[positions]
    is_won = np.append(by_lead["won"].to_numpy(), False)[positions]

    closed_before = has_outcome & (closed_at <= as_of)
    # A lead won later than its horizon, or lost at any time, was not won within the horizon.
    won_in_horizon = is_won & (closed_at <= horizon_end)
    horizon_passed = horizon_end <= observed_until
    keep = horizon_passed & ~closed_before
    examples = pd.DataFrame(
        {
            LEAD_ID: leads[LEAD_ID].astype(object).to_numpy()[keep],
            "as_of": as_of[keep],
            "label": won_in_horizon[keep].astype(np.int8),
        }
    )
    counts = LabelCounts(
        labelled=int(keep.sum()),
        won=int(examples["label"].sum()),
        without_full_horizon=int((~horizon_passed & ~closed_before).sum()),
        closed_before_snapshot=int(closed_before.sum()),
    )
    return examples.reset_index(drop=True), counts


def _outcomes_by_lead(outcomes: pd.DataFrame) -> pd.DataFrame:
    status = outcomes[STATUS].astype(object).map(lambda v: str(v).strip().lower())
    unknown = ~status.isin([WON, LOST])
    if unknown.any():
        position = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataContractError(
            f"expected 'won' or 'lost', got {outcomes[STATUS].iloc[position]!r}",
            source="outcomes",
            row=position + 1,
            column=STATUS,
        )
    frame = pd.DataFrame(
        {
            LEAD_ID: outcomes[LEAD_ID].astype(object).to_numpy(),
            "closed_us": series_to_micros(outcomes[CLOSED_AT], source="outcomes", column=CLOSED_AT),
            "won": (status == WON).to_numpy(),
        }
    )
    # A lead closed more than once keeps its first close: later rows are re-opened deals.
    return frame.sort_values("closed_us").drop_duplicates(LEAD_ID).set_index(LEAD_ID)
