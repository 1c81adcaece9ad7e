"""The baseline comparison says "worse" only when the bootstrap interval agrees, and why; the
date features follow the export's span."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.columns import date_parts
from training.data import CrmExport
from training.evaluate import DriftReport, auc_difference_interval, worse_than_baseline


def _drift(out_of_range: dict[str, float], psi: dict[str, float] | None = None) -> DriftReport:
    return DriftReport(0.1, 0.1, psi or {}, out_of_range)


def test_the_interval_excludes_zero_only_for_a_real_difference() -> None:
    rng = np.random.default_rng(0)
    labels = (rng.random(3000) < 0.2).astype(int)
    good = labels + rng.normal(0, 0.8, 3000)
    noisy = labels + rng.normal(0, 3.0, 3000)
    low, high = auc_difference_interval(labels, noisy, good)
    assert high < 0
    low, high = auc_difference_interval(labels, good, good + rng.normal(0, 1e-3, 3000))
    assert low <= 0 <= high


def test_worse_than_baseline_fires_on_the_interval_and_names_the_case() -> None:
    drifting = _drift({"euribor3m": 0.99, "age": 0.0})
    assert worse_than_baseline((-0.05, 0.01), drifting) is None  # may be chance: silent
    message = worse_than_baseline((-0.3, -0.2), drifting)
    assert message is not None and "euribor3m" in message and "age" not in message
    assert "linear_tree" in message
    already = worse_than_baseline((-0.3, -0.2), drifting, linear_leaves=True)
    assert already is not None and "even linear leaves" in already and "try" not in already
    steady = worse_than_baseline((-0.3, -0.2), _drift({"age": 0.0}, {"age": 0.01}))
    assert steady is not None and "not extrapolation" in steady
    shifted = worse_than_baseline((-0.3, -0.2), _drift({"visits": 0.0}, {"visits": 0.6}))
    assert shifted is not None and "visits" in shifted


def _export(days: int) -> CrmExport:
    created = pd.date_range("2025-01-01", periods=50, freq=pd.Timedelta(days=days / 49), tz="UTC")
    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(50)], "created_at": created})
    return CrmExport(leads, None, None, None, "test")


def test_month_joins_weekday_and_hour_once_the_export_covers_a_year() -> None:
    assert date_parts(_export(300)) == ("weekday", "hour")
    assert date_parts(_export(366)) == ("weekday", "hour", "month")
    no_time = CrmExport(pd.DataFrame({"lead_id": ["a"]}), None, None, None, "test")
    assert date_parts(no_time) == ()
