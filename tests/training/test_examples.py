"""Labels: won within the horizon after the snapshot; undecided leads are left out, never lost."""

from __future__ import annotations

import pandas as pd

from features.timestamps import to_micros
from training import make_examples

DAY = "2026-01-01T00:00:00Z"


def _leads(*ids: str) -> pd.DataFrame:
    return pd.DataFrame({"lead_id": list(ids), "created_at": pd.to_datetime([DAY] * len(ids))})


def test_each_rule_of_the_label() -> None:
    leads = _leads("won_in", "won_late", "lost", "open_old", "open_new", "closed_early")
    outcomes = pd.DataFrame(
        {
            "lead_id": ["won_in", "won_late", "lost", "closed_early"],
            "status": ["won", "Won", "lost", "won"],
            "closed_at": pd.to_datetime(
                ["2026-02-01", "2026-06-01", "2026-01-20", "2026-01-03"], utc=True
            ),
        }
    )
    observed_until = to_micros("2026-06-30T00:00:00+00:00")
    examples, counts = make_examples(leads, outcomes, observed_until=observed_until)
    labels = dict(zip(examples["lead_id"], examples["label"], strict=True))
    assert labels == {"won_in": 1, "won_late": 0, "lost": 0, "open_old": 0, "open_new": 0}
    assert counts.closed_before_snapshot == 1
    assert counts.won == 1


def test_leads_without_a_full_horizon_are_left_out_never_labelled_lost() -> None:
    leads = _leads("open", "won_fast")
    outcomes = pd.DataFrame(
        {"lead_id": ["won_fast"], "status": ["won"], "closed_at": ["2026-01-20T00:00:00Z"]}
    )
    # Snapshot on Jan 8, horizon ends Apr 8: an export from March cannot label either lead
    # without bias, since wins close faster than losses.
    examples, counts = make_examples(
        leads, outcomes, observed_until=to_micros("2026-03-01T00:00:00+00:00")
    )
    assert examples.empty
    assert counts.without_full_horizon == 2


def test_snapshot_is_creation_plus_seven_days_by_default() -> None:
    examples, _ = make_examples(
        _leads("a"),
        pd.DataFrame({"lead_id": ["a"], "status": ["lost"], "closed_at": ["2026-03-01"]}),
        observed_until=to_micros("2026-06-01T00:00:00+00:00"),
    )
    assert examples["as_of"].iloc[0] == to_micros("2026-01-08T00:00:00+00:00")
