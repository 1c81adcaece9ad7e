"""The precomputed TreeSHAP tables give LightGBM's own pred_contrib and raw score, exactly."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from scoring import LeadScorer, TablesTooLarge, TreeShapTables
from tests.conftest import FittedModel


def _messy(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Numbers with missing values and exact zeros, and a category column with unseen codes."""
    matrix = rng.normal(size=(rows, 6))
    matrix[:, 2] = rng.integers(-1, 15, size=rows)
    matrix[rng.random(rows) < 0.2, 1] = np.nan
    matrix[rng.random(rows) < 0.2, 2] = np.nan
    matrix[:, 3] = np.where(rng.random(rows) < 0.3, 0.0, matrix[:, 3])
    matrix[:, 4] = np.round(matrix[:, 4], 1)  # values landing exactly on thresholds
    return matrix


def _booster(params: dict[str, object], seed: int) -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(seed)
    train = _messy(rng, 4000)
    train[:, 2] = np.abs(train[:, 2])
    signal = train[:, 0] + (np.nan_to_num(train[:, 2]) % 3 == 0) + np.nan_to_num(train[:, 1])
    labels = (signal + rng.normal(size=len(train)) > 0.5).astype(int)
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "min_data_in_leaf": 5, **params},
        lgb.Dataset(train, labels, categorical_feature=[2]),
        num_boost_round=60,
    )
    return booster, _messy(rng, 3000)


@pytest.mark.parametrize(
    "params",
    [
        {"num_leaves": 5},
        {"num_leaves": 8, "learning_rate": 0.3},
        {"num_leaves": 5, "zero_as_missing": True},
        {"num_leaves": 4, "use_missing": False},
        {"num_leaves": 5, "max_cat_to_onehot": 32},
    ],
    ids=str,
)
def test_contributions_and_raw_scores_equal_lightgbms(params: dict[str, object]) -> None:
    booster, leads = _booster(params, seed=len(str(params)))
    raw, contributions = TreeShapTables(booster).explain(leads)
    np.testing.assert_allclose(
        contributions, booster.predict(leads, pred_contrib=True), rtol=0, atol=1e-10
    )
    np.testing.assert_allclose(raw, booster.predict(leads, raw_score=True), rtol=0, atol=1e-10)
    np.testing.assert_allclose(contributions.sum(axis=1), raw, rtol=0, atol=1e-10)


def test_one_lead_at_a_time_gives_the_batch_answer() -> None:
    booster, leads = _booster({"num_leaves": 5}, seed=3)
    tables = TreeShapTables(booster)
    _, batch = tables.explain(leads[:40])
    for row in range(40):
        np.testing.assert_array_equal(tables.explain(leads[row])[1][0], batch[row])


def test_the_demo_model_explains_random_leads_as_pred_contrib_does(
    fitted: FittedModel,
) -> None:
    scorer = fitted.trainer.scorer_
    assert scorer.attribution == "treeshap-tables"
    rng = np.random.default_rng(7)
    matrix = scorer.encoder.transform(fitted.dataset.features.sample(500, random_state=7))
    matrix[rng.random(matrix.shape) < 0.1] = np.nan  # and leads with gaps the data never had
    expected = scorer.booster.predict(matrix, pred_contrib=True)
    np.testing.assert_allclose(scorer.contributions(matrix), expected, rtol=0, atol=1e-10)
    top = np.argsort(-np.abs(expected[:, :-1]), axis=1, kind="stable")[:, :5]
    ours = np.argsort(-np.abs(scorer.contributions(matrix)[:, :-1]), axis=1, kind="stable")[:, :5]
    assert (top == ours).mean() > 0.999  # same top-5 reasons, up to exact ties


def test_trees_too_deep_for_tables_are_refused_with_the_way_out(
    fitted: FittedModel,
) -> None:
    booster, leads = _booster({"num_leaves": 31, "min_data_in_leaf": 2}, seed=5)
    with pytest.raises(TablesTooLarge, match="use pred_contrib"):
        TreeShapTables(booster)
    demo = fitted.trainer.scorer_
    deep = LeadScorer(demo.feature_set, demo.encoder, booster, demo.calibrator, demo.policy)
    assert deep.attribution == "pred_contrib"
    np.testing.assert_array_equal(
        deep.contributions(leads[:20]), booster.predict(leads[:20], pred_contrib=True)
    )


def test_numeric_only_models_and_single_leaf_trees() -> None:
    rng = np.random.default_rng(1)
    train = rng.normal(size=(2000, 4))
    labels = (train[:, 0] > 0).astype(int)
    for params in ({"num_leaves": 4}, {"num_leaves": 4, "min_gain_to_split": 1e9}):
        booster = lgb.train(
            {"objective": "binary", "verbose": -1, **params}, lgb.Dataset(train, labels), 10
        )
        raw, contributions = TreeShapTables(booster).explain(train[:200])
        np.testing.assert_allclose(
            contributions, booster.predict(train[:200], pred_contrib=True), rtol=0, atol=1e-10
        )
        np.testing.assert_allclose(
            raw, booster.predict(train[:200], raw_score=True), rtol=0, atol=1e-10
        )
