"""Training examples: each lead's snapshot, whether it was won within the horizon after, and its
features as of that snapshot.

Leads whose horizon has not fully passed by the export are left out, never labelled lost: we do
not know yet how the open ones end. Those already decided are left out too, because wins close
faster than losses: keeping only the decided recent leads would fill the newest rows, and so the
holdout, with wins. Leads already closed at their snapshot are left out: nothing is left to predict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from features import (
    CLOSED_AT,
    CREATED_AT,
    DEFAULT_FEATURES,
    LEAD_ID,
    LOST,
    ONE_MICROSECOND,
    STATUS,
    WON,
    DataContractError,
    FeatureSet,
    account_features,
    build_features,
    series_to_micros,
)
from training.config import AccountsSection
from training.data import CrmExport

SNAPSHOT_DELAY = timedelta(days=7)
# build_features' signature: (leads, activities, as_of, feature_set, *, source, activities_source)
FeatureBuilder = Callable[..., pd.DataFrame]
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


@dataclass
class Dataset:
    """Point-in-time training rows: features as of each lead's snapshot, and its label.

    `split_key` orders rows for the time-based split (snapshot time, or the export's declared
    order); when it is None the split is a stratified random one. `leads` keeps the raw lead rows
    for the leakage audit, and `closed_at` the outcome times when the export has them.
    """

    features: pd.DataFrame
    labels: np.ndarray
    as_of: np.ndarray
    counts: LabelCounts
    feature_set: FeatureSet
    split_key: np.ndarray | None = None
    leads: pd.DataFrame | None = None
    closed_at: np.ndarray | None = None

    def subset(self, rows: np.ndarray) -> Dataset:
        """The given rows only, with everything that goes with them."""
        return Dataset(
            features=self.features.iloc[rows],
            labels=self.labels[rows],
            as_of=self.as_of[rows],
            counts=self.counts,
            feature_set=self.feature_set,
            split_key=None if self.split_key is None else self.split_key[rows],
            leads=None if self.leads is None else self.leads.iloc[rows].reset_index(drop=True),
            closed_at=None if self.closed_at is None else self.closed_at[rows],
        )

    def with_features(self, feature_set: FeatureSet) -> Dataset:
        """The same rows with only the given features (a subset of these)."""
        return Dataset(
            features=self.features[feature_set.names],
            labels=self.labels,
            as_of=self.as_of,
            counts=self.counts,
            feature_set=feature_set,
            split_key=self.split_key,
            leads=self.leads,
            closed_at=self.closed_at,
        )


def build_dataset(
    export: CrmExport,
    feature_set: FeatureSet = DEFAULT_FEATURES,
    *,
    snapshot_delay_days: float = SNAPSHOT_DELAY.days,
    horizon_days: float = HORIZON.days,
    compute: FeatureBuilder = build_features,
    accounts: AccountsSection | None = None,
) -> Dataset:
    """Label each lead at its snapshot and compute its features as of that moment, with
    `compute` (the batch engine, or the same engine bucket by bucket on a cluster). With
    `accounts`, each lead's account features as of its snapshot join its columns first, read
    from every lead, activity and outcome of the export, strictly before that moment."""
    delay_us = timedelta(days=snapshot_delay_days) // ONE_MICROSECOND
    has_time = CREATED_AT in export.leads.columns
    closed_at = None
    if export.labels is not None:
        leads = export.leads.reset_index(drop=True)
        labels = export.labels
        as_of = (
            series_to_micros(leads[CREATED_AT], source="leads", column=CREATED_AT) + delay_us
            if has_time
            else np.zeros(len(leads), dtype=np.int64)
        )
        counts = LabelCounts(len(leads), int(labels.sum()), 0, 0)
        split_key = as_of if has_time else export.order
    elif export.outcomes is not None and export.observed_until is not None:
        examples, counts = make_examples(
            export.leads,
            export.outcomes,
            observed_until=export.observed_until,
            snapshot_delay=timedelta(days=snapshot_delay_days),
            horizon=timedelta(days=horizon_days),
        )
        by_id = export.leads.set_index(export.leads[LEAD_ID].astype(object), drop=False)
        leads = by_id.loc[examples[LEAD_ID].to_numpy()].reset_index(drop=True)
        labels = examples["label"].to_numpy()
        as_of = examples["as_of"].to_numpy()
        split_key = as_of
        closed_at = _closed_at(export.outcomes, leads[LEAD_ID])
    else:
        raise DataContractError(
            "expected a label column or an outcomes table, got neither; add [outcome] to the "
            "dataset config",
            source=export.location,
        )
    if accounts is not None:
        leads = with_account_features(export, leads, as_of, accounts)
    features = compute(
        leads,
        export.activities,
        as_of,
        feature_set,
        source=f"{export.location} leads",
        activities_source=f"{export.location} activities",
    )
    return Dataset(
        features=features,
        labels=np.asarray(labels),
        as_of=np.asarray(as_of, dtype=np.int64),
        counts=counts,
        feature_set=feature_set,
        split_key=split_key,
        leads=leads,
        closed_at=closed_at,
    )


def with_account_features(
    export: CrmExport, leads: pd.DataFrame, as_of: np.ndarray, accounts: AccountsSection
) -> pd.DataFrame:
    """`leads` with their account features as of `as_of` added as columns. Colleagues come from
    the whole export; without outcome times (a label column) no lead counts as won or closed."""
    found = account_features(
        export.leads,
        export.activities,
        export.outcomes,
        targets=leads[LEAD_ID].to_numpy(),
        as_of_us=as_of,
        key=accounts.key,
        title_column=accounts.title_column,
        **({} if accounts.high_intent is None else {"high_intent": accounts.high_intent}),
        source=f"{export.location} leads",
        activities_source=f"{export.location} activities",
        outcomes_source=f"{export.location} outcomes",
    )
    return leads.assign(**{name: found[name].to_numpy() for name in found.columns})


def _closed_at(outcomes: pd.DataFrame, lead_ids: pd.Series) -> np.ndarray:
    """Each lead's first close (epoch microseconds), or the int64 maximum when still open."""
    stamps = series_to_micros(outcomes[CLOSED_AT], source="outcomes", column=CLOSED_AT)
    first = pd.Series(stamps, index=outcomes[LEAD_ID].astype(object)).groupby(level=0).min()
    aligned = first.reindex(lead_ids.astype(object))
    still_open = aligned.isna().to_numpy()
    values = aligned.fillna(0).to_numpy(dtype=np.int64)
    return np.where(still_open, np.iinfo(np.int64).max, values)
