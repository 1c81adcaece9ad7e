"""Reasons from the precomputed TreeSHAP tables against LightGBM's pred_contrib, side by side.

Run after `make demo`: .venv/bin/python benchmarks/explain.py

Loads the registered champion, builds demo leads' feature rows, and times, for one lead and for a
batch: the tables (raw score and contributions in one pass) against LightGBM's `pred_contrib`
plus `predict` for the raw score, the two calls they replace. Prints the best of several repeats
per lead, the ratios, and the largest difference between the two contributions.
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

from features import build_features, to_micros
from leadscore.demo_data import generate
from scoring import load_settings
from serving import load_model


def best_per_row(function: object, rows: int, number: int) -> float:
    """Best of 7 repeats, in microseconds per row."""
    return min(timeit.repeat(function, number=number, repeat=7)) / number / rows * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    settings = load_settings()
    scorer = load_model(settings.model_uri, settings.mlflow_tracking_uri).scorer
    if scorer.attribution != "treeshap-tables":
        raise SystemExit(f"this champion uses {scorer.attribution}, not the tables")
    export = generate(args.batch, seed=3)
    moments = np.full(len(export.leads), to_micros(export.exported_at, field="as_of"))
    features = build_features(export.leads, export.activities, moments, scorer.feature_set)
    matrix = scorer.encoder.transform(features)
    booster, tables = scorer.booster, scorer._tables
    one = matrix[:1]
    print(f"champion: {booster.num_trees()} trees, {matrix.shape[1]} features")
    for label, rows, number in (("one lead", one, 300), (f"batch of {len(matrix)}", matrix, 3)):
        ours = best_per_row(lambda rows=rows: tables.explain(rows), len(rows), number)
        theirs = best_per_row(
            lambda rows=rows: (
                booster.predict(rows, pred_contrib=True),
                booster.predict(rows, raw_score=True),
            ),
            len(rows),
            number,
        )
        print(
            f"{label:>16}: tables {ours:8.1f} us/lead   pred_contrib + predict {theirs:8.1f} "
            f"us/lead   ratio {theirs / ours:.1f}x"
        )
    difference = np.abs(tables.explain(matrix)[1] - booster.predict(matrix, pred_contrib=True))
    print(f"largest difference from pred_contrib: {difference.max():.1e}")


if __name__ == "__main__":
    main()
