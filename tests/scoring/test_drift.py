"""Drift references and the population stability index: the one implementation training keeps
in the artifact and serving compares live leads with."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from features import LeadColumn, feature_set
from scoring import FeatureEncoder
from scoring.drift import (
    MOST_COMMON_CATEGORIES,
    PSI_MAJOR,
    PSI_MODERATE,
    CategoryBins,
    DriftReference,
    NumericBins,
    psi,
)

FEATURES = feature_set(
    [LeadColumn("industry"), LeadColumn("company_size", "numeric")], date_parts=["month"]
)
INDUSTRIES = ["software", "retail", "healthcare", "education"]


def _leads(rng: np.random.Generator, n: int, *, mix: list[float], size_mean: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "industry": rng.choice(INDUSTRIES, n, p=mix),
            "company_size": np.exp(rng.normal(size_mean, 1.0, n)),
            "created_month": rng.integers(1, 13, n).astype(float),
        }
    )


@pytest.fixture(scope="module")
def fitted() -> tuple[FeatureEncoder, DriftReference]:
    rng = np.random.default_rng(0)
    training = _leads(rng, 4000, mix=[0.4, 0.3, 0.2, 0.1], size_mean=4.0)
    encoder = FeatureEncoder(FEATURES).fit(training)
    scores = 100 / (1 + np.exp(-rng.normal(-1.5, 1.0, 1000)))
    reference = DriftReference.fit(
        FEATURES, encoder.vocabularies_, encoder.transform(training), scores
    )
    return encoder, reference


def test_psi_of_equal_shares_is_zero_and_follows_its_formula() -> None:
    assert psi(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi(np.array([0.5, 0.5]), np.array([0.25, 0.75])) == pytest.approx(expected)
    # An empty bin counts at the floor share instead of dividing by zero.
    assert math.isfinite(psi(np.array([0.5, 0.5, 0.0]), np.array([0.4, 0.4, 0.2])))


def test_a_sample_like_its_reference_is_stable_and_a_shifted_one_crosses_the_alert() -> None:
    rng = np.random.default_rng(1)
    bins = NumericBins.fit(rng.normal(0.0, 1.0, 20_000))
    assert len(bins.edges) == 9 and bins.shares.sum() == pytest.approx(1.0)
    same = psi(bins.shares, bins.distribution(rng.normal(0.0, 1.0, 2_000)))
    nudged = psi(bins.shares, bins.distribution(rng.normal(0.1, 1.0, 2_000)))
    shifted = psi(bins.shares, bins.distribution(rng.normal(1.0, 1.0, 2_000)))
    assert same < 0.02
    assert same < nudged < PSI_MODERATE
    assert shifted >= PSI_MAJOR


def test_missing_values_have_a_bin_of_their_own() -> None:
    rng = np.random.default_rng(2)
    values = rng.normal(0.0, 1.0, 10_000)
    values[rng.random(10_000) < 0.1] = np.nan
    bins = NumericBins.fit(values)
    assert bins.shares[-1] == pytest.approx(0.1, abs=0.01)
    live = rng.normal(0.0, 1.0, 1_000)
    live[: len(live) // 2] = np.nan  # the same values, but half of them now arrive empty
    assert bins.distribution(live)[-1] == 0.5
    assert psi(bins.shares, bins.distribution(live)) >= PSI_MAJOR


def test_categories_shift_by_their_mix_and_rare_values_share_a_bin() -> None:
    vocabulary = [f"value-{i:02d}" for i in range(30)]
    rng = np.random.default_rng(3)
    counts = np.arange(30, 0, -1) * 40  # value-00 the most common, value-29 the rarest
    weights = counts / counts.sum()
    codes = rng.permutation(np.repeat(np.arange(30), counts)).astype(float)
    bins = CategoryBins.fit(codes, vocabulary)
    # The 20 most common values each have a bin, then the other ten together, then missing.
    assert bins.values == tuple(vocabulary[:MOST_COMMON_CATEGORIES])
    assert len(bins.shares) == MOST_COMMON_CATEGORIES + 2
    assert bins.shares[-2] == pytest.approx(weights[MOST_COMMON_CATEGORIES:].sum())
    alike = rng.choice(30, 2_000, p=weights).astype(float)
    assert psi(bins.shares, bins.distribution(alike)) < 0.05
    reversed_mix = rng.choice(30, 2_000, p=weights[::-1]).astype(float)
    assert psi(bins.shares, bins.distribution(reversed_mix)) >= PSI_MAJOR


def test_reference_round_trips_through_json(fitted: tuple[FeatureEncoder, DriftReference]) -> None:
    encoder, reference = fitted
    text = json.dumps(reference.to_dict())
    again = DriftReference.from_dict(json.loads(text), FEATURES, encoder.vocabularies_)
    assert again.to_dict() == reference.to_dict()
    rng = np.random.default_rng(4)
    live = encoder.transform(_leads(rng, 500, mix=[0.1, 0.2, 0.3, 0.4], size_mean=3.0))
    scores = rng.uniform(0, 100, 500)
    assert again.compare(scores, live, 0) == reference.compare(scores, live, 0)


def test_calendar_features_are_not_watched(fitted: tuple[FeatureEncoder, DriftReference]) -> None:
    _, reference = fitted
    assert set(reference.features) == {"industry", "company_size"}
    assert isinstance(reference.features["industry"], CategoryBins)
    assert isinstance(reference.features["company_size"], NumericBins)


def test_compare_names_the_feature_that_moved(
    fitted: tuple[FeatureEncoder, DriftReference],
) -> None:
    encoder, reference = fitted
    rng = np.random.default_rng(5)
    scores = 100 / (1 + np.exp(-rng.normal(-1.5, 1.0, 500)))
    like = reference.compare(
        scores, encoder.transform(_leads(rng, 500, mix=[0.4, 0.3, 0.2, 0.1], size_mean=4.0)), 0
    )
    assert max(like.score_psi, *like.feature_psi.values()) < PSI_MODERATE
    smaller = encoder.transform(_leads(rng, 500, mix=[0.4, 0.3, 0.2, 0.1], size_mean=2.5))
    moved = reference.compare(scores + 15, smaller, 0)
    assert moved.worst_feature == "company_size"
    assert moved.feature_psi["company_size"] >= PSI_MAJOR > moved.feature_psi["industry"]
    assert moved.score_psi >= PSI_MAJOR


def test_unseen_share_counts_new_values_among_those_sent(
    fitted: tuple[FeatureEncoder, DriftReference],
) -> None:
    encoder, reference = fitted
    leads = _leads(np.random.default_rng(6), 400, mix=[0.4, 0.3, 0.2, 0.1], size_mean=4.0)
    leads.loc[:99, "industry"] = "aerospace"  # new to the model: encoded as missing
    leads.loc[100:149, "industry"] = None  # not sent: not counted either way
    matrix = encoder.transform(leads)
    drift = reference.compare(np.full(400, 20.0), matrix, unseen_values=100)
    assert drift.unseen_share == pytest.approx(100 / 350)
    assert reference.compare(np.full(400, 20.0), matrix, unseen_values=0).unseen_share == 0.0
