"""Population drift: the distributions a model was trained on, kept in its artifact, and the
population stability index (PSI) of newer leads against them. Training builds the reference and
serving compares live leads to it, with this one implementation.

PSI = sum over bins of (live share - reference share) * ln(live share / reference share). The
usual reading: below 0.1 stable, 0.1 to 0.25 a moderate shift worth a look, 0.25 or more a major
shift. The conventions are those of the training's drift report: a number falls into one of 10
bins cut at the training rows' deciles, or a bin of its own when missing; a category into one
bin per value among the 20 most common in training, one for the other values training saw, and
one for missing (a value training never saw counts as missing, as the model scores it so).
Shares are clipped at 1e-4, so an empty bin adds to the index without a division by zero.

Features are binned on the training rows. The score (the calibrated probability times 100) is
binned on the validation rows: the training rows' own scores are in-sample and would look
shifted against any live score. Calendar features (the weekday, hour and month a lead was
created) are left out: the calendar moves on by construction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from features import CreatedAt, FeatureSet

if TYPE_CHECKING:
    from scoring.scorer import LeadScorer

PSI_MODERATE, PSI_MAJOR = 0.1, 0.25
QUANTILE_BINS = 10
MOST_COMMON_CATEGORIES = 20
SHARE_FLOOR = 1e-4
REFERENCE_FORMAT = 1


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of `actual` shares against `expected` shares, bin by bin."""
    expected = np.clip(expected, SHARE_FLOOR, None)
    actual = np.clip(actual, SHARE_FLOOR, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


@dataclass(frozen=True)
class NumericBins:
    """Bins cut at the reference's deciles (a value on an edge falls in the bin above), and the
    reference's share in each, then its share of missing values."""

    edges: np.ndarray
    shares: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> NumericBins:
        present = values[~np.isnan(values)]
        cuts = np.linspace(0, 1, QUANTILE_BINS + 1)[1:-1]
        edges = np.unique(np.quantile(present, cuts)) if len(present) else np.array([])
        return cls(edges, _numeric_shares(edges, values))

    def distribution(self, values: np.ndarray) -> np.ndarray:
        """The share of `values` in each bin, missing last."""
        return _numeric_shares(self.edges, values)

    def to_dict(self) -> dict[str, list[float]]:
        return {"edges": self.edges.tolist(), "shares": _rounded(self.shares)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NumericBins:
        return cls(np.array(data["edges"], dtype=np.float64), np.array(data["shares"]))


@dataclass(frozen=True)
class CategoryBins:
    """One bin per common training value, one for the other values training saw, one for
    missing; reads the encoder's category codes through `bin_of_code`."""

    values: tuple[str, ...]
    shares: np.ndarray
    bin_of_code: np.ndarray  # the bin of each code of the encoder's vocabulary

    @classmethod
    def fit(cls, codes: np.ndarray, vocabulary: Sequence[str]) -> CategoryBins:
        known = codes[~np.isnan(codes)].astype(np.int64)
        counts = np.bincount(known, minlength=len(vocabulary))
        common = np.argsort(-counts, kind="stable")[:MOST_COMMON_CATEGORIES]
        kept = tuple(vocabulary[code] for code in common if counts[code] > 0)
        bin_of_code = _bin_of_code(kept, vocabulary)
        return cls(kept, _category_shares(bin_of_code, len(kept) + 1, codes), bin_of_code)

    def distribution(self, codes: np.ndarray) -> np.ndarray:
        """The share of `codes` in each bin: kept values, other values, then missing."""
        return _category_shares(self.bin_of_code, len(self.values) + 1, codes)

    def to_dict(self) -> dict[str, list[Any]]:
        return {"values": list(self.values), "shares": _rounded(self.shares)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], vocabulary: Sequence[str]) -> CategoryBins:
        values = tuple(data["values"])
        return cls(values, np.array(data["shares"]), _bin_of_code(values, vocabulary))


def _numeric_shares(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    missing = np.isnan(values)
    counts = np.bincount(
        np.searchsorted(edges, values[~missing], side="right"), minlength=len(edges) + 1
    )
    return np.append(counts, missing.sum()) / max(len(values), 1)


def _category_shares(bin_of_code: np.ndarray, bins: int, codes: np.ndarray) -> np.ndarray:
    missing = np.isnan(codes)
    counts = np.bincount(bin_of_code[codes[~missing].astype(np.int64)], minlength=bins)
    return np.append(counts, missing.sum()) / max(len(codes), 1)


def _bin_of_code(values: Sequence[str], vocabulary: Sequence[str]) -> np.ndarray:
    """Each vocabulary code's bin: its place among `values`, else the bin of other values."""
    place = {value: i for i, value in enumerate(values)}
    return np.array([place.get(value, len(values)) for value in vocabulary], dtype=np.int64)


def _rounded(shares: np.ndarray) -> list[float]:
    return [round(float(share), 6) for share in shares]


@dataclass(frozen=True)
class Drift:
    """How a sample of scored leads differs from the reference."""

    score_psi: float
    feature_psi: dict[str, float]
    unseen_share: float

    @property
    def worst_feature(self) -> str | None:
        return max(self.feature_psi, key=self.feature_psi.__getitem__, default=None)


@dataclass(frozen=True)
class DriftReference:
    """The score's and each watched feature's reference bins, bound to the columns of the
    model's encoded matrix."""

    score: NumericBins
    features: dict[str, NumericBins | CategoryBins]
    columns: dict[str, int]  # each watched feature's column in the encoded matrix
    categorical_columns: np.ndarray  # every categorical feature's column, for the unseen share
    training_rows: int
    validation_rows: int

    @classmethod
    def fit(
        cls,
        feature_set: FeatureSet,
        vocabularies: Mapping[str, Sequence[str]],
        training_matrix: np.ndarray,
        validation_scores: np.ndarray,
    ) -> DriftReference:
        """Bins of each feature on the training rows' encoded matrix, and of the score (0-100)
        on the validation rows."""
        columns = _watched(feature_set)
        features: dict[str, NumericBins | CategoryBins] = {}
        for feature in feature_set:
            if feature.name not in columns:
                continue
            values = training_matrix[:, columns[feature.name]]
            features[feature.name] = (
                CategoryBins.fit(values, vocabularies[feature.name])
                if feature.kind == "categorical"
                else NumericBins.fit(values)
            )
        return cls(
            NumericBins.fit(np.asarray(validation_scores, dtype=np.float64)),
            features,
            columns,
            _categorical(feature_set),
            len(training_matrix),
            len(validation_scores),
        )

    @classmethod
    def of(cls, scorer: LeadScorer) -> DriftReference | None:
        """The reference kept in `scorer`'s artifact; None for a model trained before references
        were kept, or one without a score (rules only)."""
        data = scorer.metadata.get("drift_reference")
        if not data or scorer.booster is None:
            return None
        return cls.from_dict(data, scorer.feature_set, scorer.encoder.vocabularies_)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": REFERENCE_FORMAT,
            "training_rows": self.training_rows,
            "validation_rows": self.validation_rows,
            "score": self.score.to_dict(),
            "features": {name: bins.to_dict() for name, bins in self.features.items()},
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        feature_set: FeatureSet,
        vocabularies: Mapping[str, Sequence[str]],
    ) -> DriftReference:
        positions = {name: i for i, name in enumerate(feature_set.names)}
        kinds = {feature.name: feature.kind for feature in feature_set}
        features: dict[str, NumericBins | CategoryBins] = {
            name: (
                CategoryBins.from_dict(bins, vocabularies[name])
                if kinds[name] == "categorical"
                else NumericBins.from_dict(bins)
            )
            for name, bins in data["features"].items()
        }
        return cls(
            NumericBins.from_dict(data["score"]),
            features,
            {name: positions[name] for name in features},
            _categorical(feature_set),
            int(data["training_rows"]),
            int(data["validation_rows"]),
        )

    def compare(
        self,
        scores: Sequence[float] | np.ndarray,
        rows: Sequence[np.ndarray] | np.ndarray,
        unseen_values: int,
    ) -> Drift:
        """PSI of the scores (0-100) and of each feature of the leads' encoded `rows`, and the
        share of the category values sent that training never saw (`unseen_values` of them,
        which the rows hold as missing)."""
        scores = np.asarray(scores, dtype=np.float64)
        matrix = np.vstack(rows)
        feature_psi = {
            name: round(psi(bins.shares, bins.distribution(matrix[:, self.columns[name]])), 4)
            for name, bins in self.features.items()
        }
        known = int(np.count_nonzero(~np.isnan(matrix[:, self.categorical_columns])))
        sent = known + unseen_values
        return Drift(
            score_psi=round(psi(self.score.shares, self.score.distribution(scores)), 4),
            feature_psi=feature_psi,
            unseen_share=unseen_values / sent if sent else 0.0,
        )


def _watched(feature_set: FeatureSet) -> dict[str, int]:
    """Each feature's column, but for calendar parts of the creation date."""
    return {
        feature.name: i
        for i, feature in enumerate(feature_set)
        if not isinstance(feature.computation, CreatedAt)
    }


def _categorical(feature_set: FeatureSet) -> np.ndarray:
    return np.array(
        [i for i, feature in enumerate(feature_set) if feature.kind == "categorical"],
        dtype=np.int64,
    )
