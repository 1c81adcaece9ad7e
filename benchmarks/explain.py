"""Reasons from the precomputed TreeSHAP tables against LightGBM's pred_contrib, side by side;
then what next steps add to an explained answer, against a brute-force search.

Run after `make demo`: .venv/bin/python benchmarks/explain.py

Loads the registered champion, builds demo leads' feature rows, and times, for one lead and for a
batch: the tables (raw score and contributions in one pass) against LightGBM's `pred_contrib`
plus `predict` for the raw score, the two calls they replace. Prints the best of several repeats
per lead, the ratios, and the largest difference between the two contributions.

Next steps: an explained answer (5 reasons) with 3 next steps against the same answer without,
for one lead below SQL at a time and for a batch, in microseconds added per lead (targets: at
most 200 on one lead, 50 in a batch of 1,000); and the search against a brute force that
re-scores every single move and every pair of moves with LightGBM, the obvious way to find them.
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np
import pandas as pd

from features import build_features, to_micros
from leadscore.demo_data import generate
from scoring import LeadScorer, load_settings
from scoring.scorer import _records
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
    next_steps(scorer, features, matrix)


def next_steps(scorer: LeadScorer, features: pd.DataFrame, matrix: np.ndarray) -> None:
    """The cost next steps add to an explained answer, one lead and a batch, and the brute
    force they replace."""
    if scorer.next_steps is None:
        raise SystemExit("this champion has no next steps: retrain with `make demo`")
    values = _records(features[scorer.feature_set.names])
    ids = [str(i) for i in features.index]

    def answer(rows: slice, steps: int) -> list:
        return scorer._score(ids[rows], matrix[rows], values[rows], 5, steps)

    below = [i for i, lead in enumerate(answer(slice(None), 0)) if lead.recommendation != "SQL"]
    sample = below[:100]
    one_without = [best_per_row(lambda i=i: answer(slice(i, i + 1), 0), 1, 50) for i in sample]
    one_with = [best_per_row(lambda i=i: answer(slice(i, i + 1), 3), 1, 50) for i in sample]
    added_one = float(np.median(np.subtract(one_with, one_without)))
    batch_without = best_per_row(lambda: answer(slice(None), 0), len(matrix), 3)
    batch_with = best_per_row(lambda: answer(slice(None), 3), len(matrix), 3)
    found = answer(slice(None), 3)
    print(
        f"next steps, one lead below SQL ({len(sample)} leads, median): explained answer "
        f"{np.median(one_without):7.1f} us, with 3 next steps {np.median(one_with):7.1f} us, "
        f"added {added_one:6.1f} us/lead (target <= 200: {added_one / 200:.2f} of it)"
    )
    added_batch = batch_with - batch_without
    print(
        f"next steps, batch of {len(matrix)}: explained answer {batch_without:7.1f} us/lead, with "
        f"3 next steps {batch_with:7.1f} us/lead, added {added_batch:6.1f} us/lead (target <= "
        f"50: {added_batch / 50:.2f} of it); {sum(1 for lead in found if lead.next_steps)} of "
        f"{len(below)} leads below SQL got a step"
    )
    brute = best_per_row(lambda: _brute_force(scorer, matrix[sample]), len(sample), 1)
    search = best_per_row(
        lambda: scorer.next_steps.find(
            matrix[sample],
            booster_raw(scorer, matrix[sample]),
            [found[i].score for i in sample],
            [found[i].recommendation for i in sample],
            [values[i] for i in sample],
            scorer.calibrator,
            scorer.policy,
            3,
        ),
        len(sample),
        3,
    )
    print(
        f"next steps, {len(sample)} leads below SQL: exact search {search:8.1f} us/lead, brute "
        f"force re-scoring every move and pair with LightGBM {brute:8.1f} us/lead, ratio "
        f"{brute / search:.1f}x"
    )


def booster_raw(scorer: LeadScorer, rows: np.ndarray) -> np.ndarray:
    return scorer.booster.predict(rows, raw_score=True)


def _brute_force(scorer: LeadScorer, rows: np.ndarray) -> np.ndarray:
    """Every lead with every single move and every pair of moves applied (the rise moves by
    their full rise), scored by LightGBM in one call."""
    moves = scorer.next_steps.moves
    columns = [scorer.feature_set.names.index(move.feature) for move in moves]
    variants = []
    for row in rows:
        for a in range(len(moves)):
            for b in range(a, len(moves)):
                moved = row.copy()
                for index in {a, b}:
                    move = moves[index]
                    moved[columns[index]] = (
                        move.set if move.set is not None else row[columns[index]] + move.rise
                    )
                variants.append(moved)
    return scorer.calibrator.probability(booster_raw(scorer, np.array(variants)))


if __name__ == "__main__":
    main()
