"""Splitting labelled leads: by time when the data has an order, else stratified at random."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from training.examples import Dataset

SPLITS = ("train", "validation", "holdout")


def time_split(
    as_of: np.ndarray, holdout_share: float, validation_share: float
) -> dict[str, np.ndarray]:
    """Row positions of each split by snapshot time: the newest rows are the holdout."""
    order = np.argsort(as_of, kind="stable")
    n = len(order)
    holdout_start = n - round(n * holdout_share)
    validation_start = holdout_start - round(n * validation_share)
    return {
        "train": order[:validation_start],
        "validation": order[validation_start:holdout_start],
        "holdout": order[holdout_start:],
    }


def make_splits(
    dataset: Dataset, holdout_share: float, validation_share: float, seed: int
) -> dict[str, np.ndarray]:
    """Time-ordered splits when the data has an order; otherwise stratified random ones."""
    if dataset.split_key is not None:
        return time_split(dataset.split_key, holdout_share, validation_share)
    rows = np.arange(len(dataset.labels))
    rest, holdout = train_test_split(
        rows, test_size=holdout_share, stratify=dataset.labels, random_state=seed
    )
    train, validation = train_test_split(
        rest,
        test_size=validation_share / (1 - holdout_share),
        stratify=dataset.labels[rest],
        random_state=seed,
    )
    return {"train": np.sort(train), "validation": np.sort(validation), "holdout": np.sort(holdout)}
