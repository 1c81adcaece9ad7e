"""Path attribution for linear trees: leads scored together get, to the last bit, the credits
each gets alone, and the credits add up to LightGBM's raw score."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from scoring.path_attribution import PathExplainer


def _booster(linear: bool) -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(3)
    rows = 3_000
    matrix = np.column_stack(
        [
            rng.normal(size=rows),
            rng.integers(0, 6, rows).astype(float),  # a category
            np.where(rng.random(rows) < 0.2, np.nan, rng.normal(size=rows)),  # with gaps
            np.where(rng.random(rows) < 0.3, 0.0, rng.exponential(size=rows)),  # mostly zero
        ]
    )
    logit = matrix[:, 0] + np.isin(matrix[:, 1], [1, 4]) + np.nan_to_num(matrix[:, 2]) * 0.5
    labels = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {"objective": "binary", "num_leaves": 5, "linear_tree": linear, "verbose": -1,
              "min_data_per_group": 20, "cat_smooth": 1.0, "zero_as_missing": False}  # fmt: skip
    data = lgb.Dataset(matrix, labels, categorical_feature=[1])
    return lgb.train(params, data, num_boost_round=60), matrix


def test_leads_walked_together_get_the_credits_each_gets_alone_and_they_add_up() -> None:
    for linear in (True, False):
        booster, matrix = _booster(linear)
        explainer = PathExplainer(booster)
        probe = matrix[:500].copy()
        probe[::7, 1] = np.nan  # unseen and missing categories, negative codes
        probe[::11, 1] = -1.0
        probe[::13, 0] = np.nan
        together = explainer.contributions(probe)
        alone = np.vstack([explainer.contributions(probe[i : i + 1]) for i in range(len(probe))])
        np.testing.assert_array_equal(together, alone)
        raw = booster.predict(probe, raw_score=True)
        np.testing.assert_allclose(together.sum(axis=1), raw, rtol=0, atol=1e-9)
