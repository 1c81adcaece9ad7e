"""The demo export looks like a real CRM export, mess included, and is reproducible."""

from __future__ import annotations

import pandas as pd

from features.schema import ACTIVITY_TYPES
from leadscore import demo_data


def test_same_seed_same_data() -> None:
    first, second = demo_data.generate(500, 3), demo_data.generate(500, 3)
    pd.testing.assert_frame_equal(first.leads, second.leads)
    pd.testing.assert_frame_equal(first.activities, second.activities)
    assert not first.leads.equals(demo_data.generate(500, 4).leads)


def test_export_carries_the_mess_of_real_exports() -> None:
    export = demo_data.generate(5_000, 1)
    leads, activities, outcomes = export.leads, export.activities, export.outcomes
    assert {"lead_id", "created_at", "source", "campaign", "country", "industry", "company_size",
            "job_title", "email_domain"} <= set(leads.columns)  # fmt: skip
    assert set(activities["activity_type"]) == set(ACTIVITY_TYPES)
    assert set(outcomes["status"]) == {"won", "lost"}
    assert leads["lead_id"].nunique() > outcomes["lead_id"].nunique()  # open leads have no row
    assert activities.duplicated().any()
    assert leads["company_size"].isna().any() and leads["job_title"].isna().any()
    titles = leads["job_title"].dropna()
    assert (titles != titles.str.strip()).any() or (titles == titles.str.lower()).any()
    # The leaky columns are written after the outcome.
    closed = outcomes.set_index("lead_id")["closed_at"]
    updated = leads.set_index("lead_id")["status_updated_at"].dropna()
    assert (updated == closed.loc[updated.index]).all()
    assert export.truth["true_probability"].between(0, 1).all()


def test_drift_paid_search_grows_over_time() -> None:
    leads = demo_data.generate(20_000, 2).leads
    half = len(leads) // 2
    early = (leads["source"].iloc[:half] == "paid_search").mean()
    late = (leads["source"].iloc[half:] == "paid_search").mean()
    assert late > early + 0.05


def test_write_and_reuse(tmp_path) -> None:
    out = tmp_path / "demo"
    demo_data.write(demo_data.generate(300, 5), out, seed=5)
    assert demo_data.is_complete(out, n_leads=300, seed=5)
    assert not demo_data.is_complete(out, n_leads=300, seed=6)
    assert (out / "truth.parquet").is_file()
