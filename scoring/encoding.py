"""Turns feature values into the numeric matrix LightGBM reads, the same way for one lead or many.

Categories become integer codes learned at fit time; a category never seen in training becomes
missing, which the booster already knows how to route. No pandas categoricals are involved, so
pandas' string dtypes never reach LightGBM.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from features import FeatureSet


class FeatureEncoder:
    """Learns one vocabulary per categorical feature; `__init__` only stores parameters."""

    def __init__(self, feature_set: FeatureSet, min_category_count: int = 1) -> None:
        self.feature_set = feature_set
        self.min_category_count = min_category_count

    def fit(self, frame: pd.DataFrame) -> FeatureEncoder:
        vocabularies: dict[str, list[str]] = {}
        for feature in self.feature_set:
            if feature.kind == "categorical":
                counts = frame[feature.name].dropna().value_counts()
                kept = counts[counts >= self.min_category_count].index
                vocabularies[feature.name] = sorted(str(value) for value in kept)
        self.vocabularies_ = vocabularies
        self._build_lookups()
        return self

    def _build_lookups(self) -> None:
        self.lookups_ = {
            name: {value: float(code) for code, value in enumerate(vocabulary)}
            for name, vocabulary in self.vocabularies_.items()
        }
        # (name, its category codes or None for a number), in column order, for transform_one
        self._columns = [
            (
                feature.name,
                self.lookups_.get(feature.name, {}) if feature.kind == "categorical" else None,
            )
            for feature in self.feature_set
        ]

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, feature in enumerate(self.feature_set) if feature.kind == "categorical"]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """A float64 matrix with one column per feature, in declaration order."""
        matrix = np.empty((len(frame), len(self.feature_set)), dtype=np.float64)
        for i, feature in enumerate(self.feature_set):
            column = frame[feature.name]
            if feature.kind == "categorical":
                lookup = self.lookups_[feature.name]
                codes, uniques = pd.factorize(column.astype(object), use_na_sentinel=True)
                mapped = np.array([lookup.get(value, math.nan) for value in uniques] + [math.nan])
                matrix[:, i] = mapped[codes]
            else:
                matrix[:, i] = column.to_numpy(dtype=np.float64, na_value=np.nan)
        return matrix

    def transform_one(self, values: Mapping[str, Any]) -> list[float]:
        """One lead's row, from the dict the online engine returns."""
        return [
            values[name] if codes is None else codes.get(values[name], math.nan)
            for name, codes in self._columns
        ]

    def to_dict(self) -> dict[str, Any]:
        return {"min_category_count": self.min_category_count, "vocabularies": self.vocabularies_}

    @classmethod
    def from_dict(cls, feature_set: FeatureSet, data: Mapping[str, Any]) -> FeatureEncoder:
        encoder = cls(feature_set, min_category_count=data["min_category_count"])
        encoder.vocabularies_ = {name: list(v) for name, v in data["vocabularies"].items()}
        encoder._build_lookups()
        return encoder
