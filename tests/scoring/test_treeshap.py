"""The precomputed TreeSHAP tables give LightGBM's own pred_contrib and raw score, exactly."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from scoring import LeadScorer, TablesTooLarge, TreeShapTables
from scoring.treeshap import MAX_TABLE_ROWS
from tests.conftest import FittedModel

# One thread: these fits take milliseconds, and on a busy machine OpenMP's waits between
# threads would make them take seconds.
BINARY = {"objective": "binary", "verbose": -1, "num_threads": 1}


def _messy(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Numbers with missing values and exact zeros, and a category column with unseen codes."""
    matrix = rng.normal(size=(rows, 6))
    matrix[:, 2] = rng.integers(-1, 15, size=rows)
    matrix[rng.random(rows) < 0.2, 1] = np.nan
    matrix[rng.random(rows) < 0.2, 2] = np.nan
    matrix[:, 3] = np.where(rng.random(rows) < 0.3, 0.0, matrix[:, 3])
    matrix[:, 4] = np.round(matrix[:, 4], 1)  # values landing exactly on thresholds
    return matrix


def _booster(
    params: dict[str, object],
    seed: int,
    *,
    rows: int = 4000,
    rounds: int = 60,
    categorical: bool = True,
) -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(seed)
    train = _messy(rng, rows)
    train[:, 2] = np.abs(train[:, 2])
    signal = train[:, 0] + (np.nan_to_num(train[:, 2]) % 3 == 0) + np.nan_to_num(train[:, 1])
    labels = (signal + rng.normal(size=len(train)) > 0.5).astype(int)
    booster = lgb.train(
        {**BINARY, "min_data_in_leaf": 5, **params},
        lgb.Dataset(train, labels, categorical_feature=[2] if categorical else []),
        num_boost_round=rounds,
    )
    return booster, _messy(rng, rows * 3 // 4)


def _table_rows(booster: lgb.Booster) -> int:
    """Rows the tables of `booster` need, counted apart from the code under test."""
    return sum(
        1 << (tree["num_leaves"] - 1)
        for tree in booster.dump_model()["tree_info"]
        if tree["num_leaves"] > 1
    )


def _edges(booster: lgb.Booster, leads: np.ndarray, seed: int) -> np.ndarray:
    """`leads` with cells exactly on the model's own thresholds, within LightGBM's zero band
    (|x| <= 1e-35f reads as 0), and category codes never seen or not whole: random data
    almost never lands on these."""
    rng = np.random.default_rng(seed)
    leads = leads.copy()
    thresholds: dict[int, list[float]] = {}
    stack = [tree["tree_structure"] for tree in booster.dump_model()["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_feature" in node:
            if node["decision_type"] == "<=":
                thresholds.setdefault(node["split_feature"], []).append(node["threshold"])
            stack += [node["left_child"], node["right_child"]]
    for feature, values in thresholds.items():
        on = rng.random(len(leads)) < 0.3
        leads[on, feature] = rng.choice(values, size=int(on.sum()))
    tiny = rng.random(leads.shape) < 0.03
    zero_band = float(np.float32(1e-35))
    leads[tiny] = rng.choice([zero_band, -zero_band, 1e-36, -0.0], size=int(tiny.sum()))
    odd = rng.random(len(leads)) < 0.1
    leads[odd, 2] = rng.choice([99.0, 2.5, -0.5, -7.0], size=int(odd.sum()))
    return leads


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


# Name: (LightGBM parameters, whether column 2 is categorical). Every case's leads also carry
# missing values, exact zeros, negative, unseen and fractional codes and values on thresholds.
EDGE_CASES: dict[str, tuple[dict[str, object], bool]] = {
    "categorical": ({}, True),
    "zero_as_missing": ({"zero_as_missing": True}, True),
    "use_missing=false": ({"use_missing": False}, True),
    "one-hot categoricals": ({"max_cat_to_onehot": 32}, True),
    "numeric only": ({}, False),
    "single-leaf trees": ({"min_gain_to_split": 1e9}, True),
}


# num_leaves also drawn from 9 to 18 on purpose: trees of 8 to 17 splits, the widest whose
# tables fit the budget, are where the pattern numbers span several words.
@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(
    num_leaves=st.integers(2, 63) | st.integers(9, 18),
    max_depth=st.sampled_from([-1, *range(1, 13)]),
    case=st.sampled_from(list(EDGE_CASES)),
    rounds=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
@example(num_leaves=13, max_depth=-1, case="categorical", rounds=3, seed=0).via(
    "the OverflowError report: 12 splits"
)
@example(num_leaves=9, max_depth=-1, case="zero_as_missing", rounds=3, seed=1).via(
    "8 splits: the widest tree read as one word"
)
@example(num_leaves=10, max_depth=-1, case="use_missing=false", rounds=3, seed=2).via(
    "9 splits: the narrowest tree read as two words"
)
@example(num_leaves=17, max_depth=-1, case="one-hot categoricals", rounds=3, seed=3).via(
    "16 splits in three trees: 196,608 rows, near the budget"
)
@example(num_leaves=18, max_depth=-1, case="numeric only", rounds=1, seed=4).via(
    "17 splits: read as four words"
)
@example(num_leaves=63, max_depth=4, case="categorical", rounds=3, seed=5).via(
    "a depth limit below num_leaves"
)
def test_tables_equal_lightgbms_for_trees_of_any_shape(
    num_leaves: int, max_depth: int, case: str, rounds: int, seed: int
) -> None:
    params, categorical = EDGE_CASES[case]
    booster, leads = _booster(
        {"num_leaves": num_leaves, "max_depth": max_depth, "min_data_in_leaf": 2, **params},
        seed,
        rows=600,
        rounds=rounds,
        categorical=categorical,
    )
    leads = _edges(booster, leads, seed)
    if _table_rows(booster) > MAX_TABLE_ROWS:
        event("beyond the row budget")
        with pytest.raises(TablesTooLarge, match="use pred_contrib"):
            TreeShapTables(booster)
        return
    widest = max(tree["num_leaves"] for tree in booster.dump_model()["tree_info"]) - 1
    event(f"widest tree: {'up to 8' if widest <= 8 else '9 to 17'} splits")
    tables = TreeShapTables(booster)
    expected = booster.predict(leads, pred_contrib=True)
    raw, contributions = tables.explain(leads)
    np.testing.assert_allclose(contributions, expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(raw, booster.predict(leads, raw_score=True), rtol=0, atol=1e-10)
    # A few leads take the other path (rows gathered, not a sparse product): same credits.
    np.testing.assert_allclose(tables.explain(leads[:3])[1], expected[:3], rtol=0, atol=1e-10)


def _most_features_on_a_path(booster: lgb.Booster) -> int:
    """The most distinct features any leaf's path tests: a leaf's table has 2^that rows."""
    most = 0
    stack = [(tree["tree_structure"], frozenset()) for tree in booster.dump_model()["tree_info"]]
    while stack:
        node, features = stack.pop()
        if "split_feature" in node:
            tested = features | {node["split_feature"]}
            stack += [(node["left_child"], tested), (node["right_child"], tested)]
        else:
            most = max(most, len(features))
    return most


def test_leaves_that_test_sixteen_features() -> None:
    """Each tree a chain through all 16 features: the leaf tables must grow as 2^16, not 4^16."""
    rng = np.random.default_rng(0)
    train = rng.normal(size=(3000, 16))
    labels = ((train > -1.0).all(axis=1) ^ (rng.random(3000) < 0.05)).astype(int)
    booster = lgb.train(
        {**BINARY, "num_leaves": 17, "min_data_in_leaf": 2}, lgb.Dataset(train, labels), 3
    )
    assert _most_features_on_a_path(booster) == 16
    leads = rng.normal(size=(300, 16))
    raw, contributions = TreeShapTables(booster).explain(leads)
    np.testing.assert_allclose(
        contributions, booster.predict(leads, pred_contrib=True), rtol=0, atol=1e-10
    )
    np.testing.assert_allclose(raw, booster.predict(leads, raw_score=True), rtol=0, atol=1e-10)


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


def test_tables_that_just_fit_the_budget_are_kept_and_one_row_over_falls_back(
    fitted: FittedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    booster, leads = _booster({"num_leaves": 13}, seed=11, rows=600, rounds=3)
    rows, demo = _table_rows(booster), fitted.trainer.scorer_
    expected = booster.predict(leads, pred_contrib=True)
    for budget, attribution in ((rows, "treeshap-tables"), (rows - 1, "pred_contrib")):
        monkeypatch.setattr("scoring.treeshap.MAX_TABLE_ROWS", budget)
        scorer = LeadScorer(demo.feature_set, demo.encoder, booster, demo.calibrator, demo.policy)
        assert scorer.attribution == attribution
        np.testing.assert_allclose(scorer.contributions(leads), expected, rtol=0, atol=1e-10)


def test_numeric_only_models_and_single_leaf_trees() -> None:
    rng = np.random.default_rng(1)
    train = rng.normal(size=(2000, 4))
    labels = (train[:, 0] > 0).astype(int)
    for params in ({"num_leaves": 4}, {"num_leaves": 4, "min_gain_to_split": 1e9}):
        booster = lgb.train({**BINARY, **params}, lgb.Dataset(train, labels), 10)
        raw, contributions = TreeShapTables(booster).explain(train[:200])
        np.testing.assert_allclose(
            contributions, booster.predict(train[:200], pred_contrib=True), rtol=0, atol=1e-10
        )
        np.testing.assert_allclose(
            raw, booster.predict(train[:200], raw_score=True), rtol=0, atol=1e-10
        )
