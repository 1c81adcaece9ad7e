"""Values grouped for the win-rate charts: numbers in up to five ranges of whole units sorted by
value ("0-2 days", "3-9 days"), small sets of numbers and calendar parts one by one, levels such
as seniority in their order, and other categories as they are."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from features import Attribute, CreatedAt, DaysSinceLast, Feature
from training.report.words import TRANSFORM_VALUES, range_words, value_words

MISSING = -1
RANGES = 5
FEW_VALUES = 8


def group_values(values: pd.Series, feature: Feature) -> tuple[np.ndarray, list[str]]:
    """Each value's group (MISSING when it has none) and each group's words; numeric groups are
    numbered in order of value."""
    if feature.kind != "numeric":
        keys = values.astype(object).where(values.notna(), None)
        levels = list(_levels(feature) or ())
        names = sorted(
            {str(k) for k in keys if k is not None},
            key=lambda name: (levels.index(name) if name in levels else len(levels), name),
        )
        position = {name: i for i, name in enumerate(names)}
        groups = np.array([MISSING if k is None else position[str(k)] for k in keys], dtype=int)
        return groups, [value_words(feature, name) for name in names]
    numbers = values.astype(float).to_numpy()
    if isinstance(feature.computation, DaysSinceLast):
        numbers = np.floor(numbers)  # "2 days ago" until a third day has passed
    present = numbers[~np.isnan(numbers)]
    if present.size == 0:
        return np.full(len(numbers), MISSING), []
    distinct = np.unique(present)
    one_by_one = isinstance(feature.computation, CreatedAt) and feature.computation.part != "hour"
    if one_by_one or distinct.size <= FEW_VALUES:
        groups = np.searchsorted(distinct, numbers)
        words = [value_words(feature, float(v)) for v in distinct]
    elif np.all(present == np.round(present)):
        groups, words = _whole_ranges(numbers, present, feature)
    else:
        groups, words = _ranges(numbers, present, feature)
    return np.where(np.isnan(numbers), MISSING, groups), words


def in_order(feature: Feature) -> bool:
    """Whether the groups have an order of their own (numbers, seniority levels), or are best
    listed most common first."""
    return feature.kind == "numeric" or _levels(feature) is not None


def _levels(feature: Feature) -> dict[str, str] | None:
    spec = feature.computation
    return TRANSFORM_VALUES.get(spec.transform or "") if isinstance(spec, Attribute) else None


def _whole_ranges(
    numbers: np.ndarray, present: np.ndarray, feature: Feature
) -> tuple[np.ndarray, list[str]]:
    """Ranges of whole numbers that meet without overlapping: 1-9, 10-49, 50 or more."""
    top = float(present.max())
    quantiles = np.quantile(present, np.linspace(0, 1, RANGES + 1)[1:-1])
    cuts = np.unique(np.floor(quantiles))
    cuts = cuts[cuts < top]
    lows = [float(present.min()), *(cuts + 1)]
    highs = [*cuts, top]
    words = [
        range_words(feature, low, high, open_ended=last)
        for low, high, last in zip(lows, highs, [False] * len(cuts) + [True], strict=True)
    ]
    return np.searchsorted(cuts, numbers, side="left"), words


def _ranges(
    numbers: np.ndarray, present: np.ndarray, feature: Feature
) -> tuple[np.ndarray, list[str]]:
    """Quantile ranges of fractional numbers, each up to and including its upper end."""
    edges = np.unique(np.quantile(present, np.linspace(0, 1, RANGES + 1)))
    inner = edges[1:-1]
    words = [
        range_words(feature, float(low), float(high)) for low, high in itertools.pairwise(edges)
    ]
    return np.searchsorted(inner, numbers, side="left"), words
