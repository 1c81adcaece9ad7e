"""Feature engine speed: the online engine per live lead, and the batch engine on 1M leads.

Run: .venv/bin/python -m benchmarks.feature_engines [--leads 1000000] [--declared]
Prints microseconds per lead for the online engine beside a one-row batch (pandas) call of the
same declarations, and the batch time for all leads; ratios last, since this machine is shared.
--declared adds what a config's [[features]] adds to the defaults: a decayed-intent feature
weighing every activity type (each activity a term, the most the online engine can be asked)
and a ratio.
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
from datetime import timedelta

import numpy as np
import pandas as pd

from features import (
    ACTIVITY_TYPES,
    DEFAULT_FEATURES,
    MICROS_PER_DAY,
    FeatureSet,
    OnlineFeatures,
    build_features,
    declared_feature,
    micros_to_datetime,
    series_to_micros,
)
from leadscore import demo_data

DECLARED_FEATURES = FeatureSet(
    (
        *DEFAULT_FEATURES,
        declared_feature(
            "demo_intent",
            "decayed",
            "engagement",
            "Buying intent, each activity counting half as much two weeks later.",
            weights={kind: 1.0 + position / 2 for position, kind in enumerate(ACTIVITY_TYPES)},
            half_life_days=14,
        ),
        declared_feature(
            "click_rate",
            "ratio",
            "engagement",
            "Email clicks per email opened in the last 30 days.",
            numerator=["email_click"],
            denominator=["email_open"],
            window_days=30,
        ),
    ),
    placeholders=DEFAULT_FEATURES.placeholders,
)


def live_leads(export: demo_data.DemoExport, count: int, activities_each: int) -> list[dict]:
    """Demo leads as the API receives them, each with `activities_each` activities."""
    leads = export.leads.head(count).astype(object).where(export.leads.notna(), None)
    base = series_to_micros(export.leads["created_at"].head(count), source="leads", column="c")
    kinds = export.activities["activity_type"].to_numpy()
    rng = np.random.default_rng(0)
    out = []
    for position, record in enumerate(leads.to_dict("records")):
        stamps = base[position] + rng.integers(0, 30 * MICROS_PER_DAY, activities_each)
        record["activities"] = [
            {"activity_type": kind, "occurred_at": micros_to_datetime(stamp)}
            for kind, stamp in zip(rng.choice(kinds, activities_each), stamps, strict=True)
        ]
        record["as_of"] = micros_to_datetime(base[position] + 31 * MICROS_PER_DAY)
        out.append(record)
    return out


def time_online(leads: list[dict], features: FeatureSet, repeat: int = 5) -> float:
    engine = OnlineFeatures(features)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for lead in leads:
            engine.compute(lead, lead["as_of"])
        best = min(best, (time.perf_counter() - start) / len(leads))
    return best * 1e6


def time_one_row_batch(leads: list[dict], features: FeatureSet, count: int = 200) -> float:
    """The pandas route for one live lead: a one-row frame through the batch engine."""
    start = time.perf_counter()
    for lead in leads[:count]:
        frame = pd.DataFrame([{k: v for k, v in lead.items() if k != "activities"}])
        events = pd.DataFrame(lead["activities"]).assign(lead_id=lead["lead_id"])
        as_of = [int(pd.Timestamp(lead["as_of"]).value // 1000)]
        build_features(frame, events, as_of, features)
    return (time.perf_counter() - start) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument(
        "--declared",
        action="store_true",
        help="add a decayed-intent and a ratio feature to the defaults, as [[features]] does",
    )
    args = parser.parse_args()
    features = DECLARED_FEATURES if args.declared else DEFAULT_FEATURES

    sample = demo_data.generate(5_000, 1)
    which = "defaults + 1 decayed + 1 ratio" if args.declared else "defaults"
    print(f"Features: {len(features)} ({which})")
    print("Online engine, one live lead at a time (best of 5 passes over 2,000 leads):")
    results = {}
    for each in (10, 50):
        leads = live_leads(sample, 2_000, each)
        results[each] = (time_online(leads, features), time_one_row_batch(leads, features))
        print(
            f"  {each:>3} activities/lead: online {results[each][0]:8.1f} us/lead   "
            f"one-row pandas batch {results[each][1]:8.1f} us/lead"
        )

    start = time.perf_counter()
    export = demo_data.generate(args.leads, 42)
    generated = time.perf_counter() - start
    as_of = series_to_micros(export.leads["created_at"], source="leads", column="created_at")
    as_of = as_of + timedelta(days=7) // timedelta(microseconds=1)
    gc.collect()
    start = time.perf_counter()
    computed = build_features(export.leads, export.activities, as_of, features)
    batch = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nBatch engine: {args.leads:,} leads x {len(export.activities):,} activities -> "
        f"{computed.shape[1]} features in {batch:.2f} s ({args.leads / batch:,.0f} leads/s); "
        f"generating the export took {generated:.1f} s; peak RSS {peak:,.0f} MiB"
    )
    print("\nRatios:")
    for each, (online, pandas_row) in results.items():
        print(f"  online vs one-row pandas, {each} activities: {pandas_row / online:.0f}x faster")
    print(
        f"  online per lead vs 100 us target (50 activities): {results[50][0]:.1f} us / 100 us "
        f"= {results[50][0] / 100:.2f}"
    )
    print(f"  batch per lead: {batch / args.leads * 1e6:.2f} us")


if __name__ == "__main__":
    main()
