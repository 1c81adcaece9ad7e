"""Next steps: every promised score is what re-scoring the moved lead gives, moves stay on
actionable features within their allowed moves, the search finds exactly the single moves a
brute force finds, and the support rule holds."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from leadscore import demo_data
from leadscore.cli import DEMO_POLICY
from scoring import LeadScorer
from scoring.next_steps import RANK, Move, NextSteps, _Forest
from training import (
    Dataset,
    LeadScoreTrainer,
    attach_next_steps,
    build_dataset,
    demo_config,
    load_export,
    load_policy,
)

HOLDOUT_LEADS = 1_000


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[LeadScoreTrainer, Dataset, Path]:
    """The demo model on an export large enough for 1,000 holdout leads, with the demo's
    moves."""
    out = tmp_path_factory.mktemp("demo-next-steps")
    demo_data.write(demo_data.generate(9_000, 11), out, seed=11)
    dataset = build_dataset(load_export(out))
    trainer = LeadScoreTrainer(policy=load_policy(DEMO_POLICY)).fit(dataset)
    section = demo_config(out).next_steps
    assert section is not None
    attach_next_steps(trainer, dataset, section, None)
    assert len(trainer.splits_rows_["holdout"]) >= HOLDOUT_LEADS
    return trainer, dataset, out


def _holdout(trainer: LeadScoreTrainer, dataset: Dataset) -> pd.DataFrame:
    rows = trainer.splits_rows_["holdout"][:HOLDOUT_LEADS]
    return dataset.features.iloc[rows]


def _moved(features: pd.DataFrame, lead_id: str, changes: dict[str, float]) -> pd.DataFrame:
    row = features.loc[[lead_id]].copy()
    for feature, value in changes.items():
        row[feature] = value
    return row


def test_every_next_step_reaches_its_promised_score_when_the_lead_is_rescored(model) -> None:
    trainer, dataset, _ = model
    scorer = trainer.scorer_
    features = _holdout(trainer, dataset)
    scored = scorer.score_frame(features, reasons=0, next_steps=3)
    steps = [(lead, step) for lead in scored for step in lead.next_steps or ()]
    below_sql = [lead for lead in scored if lead.recommendation != "SQL"]
    assert len(below_sql) > 500
    assert len(steps) > 100, "the demo's moves should carry a good share of leads over a line"
    for lead, step in steps:
        rescored = scorer.score_frame(
            _moved(features, lead.lead_id, {m.feature: m.after for m in step.moves}), reasons=0
        )[0]
        assert rescored.score == step.score
        assert rescored.probability == pytest.approx(step.probability, abs=1e-9)
        assert rescored.recommendation == step.recommendation
        assert RANK[step.recommendation] > RANK[lead.recommendation]
        assert 1 <= len(step.moves) <= 2
    for lead in scored:
        if lead.recommendation == "SQL":
            assert not lead.next_steps


def test_no_next_step_touches_a_feature_that_is_not_actionable(model) -> None:
    trainer, dataset, _ = model
    scorer = trainer.scorer_
    allowed = {move.feature: move for move in scorer.next_steps.moves}
    features = _holdout(trainer, dataset)
    for lead in scorer.score_frame(features, reasons=0, next_steps=10):
        for step in lead.next_steps or ():
            assert len({m.feature for m in step.moves}) == len(step.moves)
            for taken in step.moves:
                move = allowed[taken.feature]  # KeyError: a non-actionable feature moved
                assert taken.action == move.action
                before = features.at[lead.lead_id, taken.feature]
                if move.set is not None:
                    assert taken.after == move.set
                else:
                    assert before < taken.after <= before + move.rise


def test_pairs_only_for_leads_no_single_move_carries(model) -> None:
    trainer, dataset, _ = model
    scorer = trainer.scorer_
    features = _holdout(trainer, dataset)
    pairs = 0
    for lead in scorer.score_frame(features, reasons=0, next_steps=10):
        sizes = {len(step.moves) for step in lead.next_steps or ()}
        assert len(sizes) <= 1, "every step of a lead is a smallest set: all of one size"
        for step in lead.next_steps or ():
            if len(step.moves) == 2:
                pairs += 1
                for taken in step.moves:
                    single = scorer.score_frame(
                        _moved(features, lead.lead_id, {taken.feature: taken.after}), reasons=0
                    )[0]
                    assert RANK[single.recommendation] <= RANK[lead.recommendation]
    assert pairs > 0, "the demo should need two moves for some leads"


def test_the_search_finds_exactly_the_single_moves_a_brute_force_finds(model) -> None:
    """Without the support rule, every single move that carries a lead over its line, found by
    re-scoring each lead with each move applied, is found, and nothing else."""
    trainer, dataset, _ = model
    scorer = trainer.scorer_
    unsupported = NextSteps(
        scorer.booster, scorer.feature_set.names, scorer.next_steps.moves, {}, min_support=0
    )
    features = _holdout(trainer, dataset).iloc[:150]
    original = scorer.next_steps
    scorer.next_steps = unsupported
    try:
        found = scorer.score_frame(features, reasons=0, next_steps=len(unsupported.moves))
    finally:
        scorer.next_steps = original
    for lead in found:
        if lead.recommendation == "SQL":
            continue
        expected = set()
        for move in unsupported.moves:
            before = features.at[lead.lead_id, move.feature]
            after = move.set if move.set is not None else before + move.rise
            if after == before:
                continue
            moved = scorer.score_frame(
                _moved(features, lead.lead_id, {move.feature: after}), reasons=0
            )[0]
            if RANK[moved.recommendation] > RANK[lead.recommendation]:
                expected.add(move.feature)
        singles = {s.moves[0].feature for s in lead.next_steps or () if len(s.moves) == 1}
        assert singles == expected, lead.lead_id


def test_a_move_is_offered_only_where_enough_training_leads_sit(model) -> None:
    trainer, dataset, _ = model
    scorer = trainer.scorer_
    train = scorer.encoder.transform(dataset.features.iloc[trainer.splits_rows_["train"]])
    names = scorer.feature_set.names
    features = _holdout(trainer, dataset)
    dump = scorer.booster.dump_model()
    offered = 0
    for lead in scorer.score_frame(features, reasons=0, next_steps=10):
        for step in lead.next_steps or ():
            for taken in step.moves:
                column = names.index(taken.feature)
                cuts = np.unique(_thresholds(dump["tree_info"], column))
                region = np.searchsorted(cuts, taken.after, side="left")
                values = train[:, column]
                values = values[~np.isnan(values)]
                low = -np.inf if region == 0 else cuts[region - 1]
                high = np.inf if region == len(cuts) else cuts[region]
                assert ((values > low) & (values <= high)).sum() >= scorer.next_steps.min_support
                offered += 1
    assert offered > 0
    strict = NextSteps(
        scorer.booster,
        names,
        scorer.next_steps.moves,
        scorer.next_steps.support,
        min_support=len(train) + 1,
    )
    original = scorer.next_steps
    scorer.next_steps = strict
    try:
        assert not any(lead.next_steps for lead in scorer.score_frame(features, next_steps=3))
    finally:
        scorer.next_steps = original


def _thresholds(trees: list[dict], column: int) -> list[float]:
    found: list[float] = []

    def visit(node: dict) -> None:
        if "split_feature" in node:
            if node["split_feature"] == column and node["decision_type"] == "<=":
                found.append(float(node["threshold"]))
            visit(node["left_child"])
            visit(node["right_child"])

    for tree in trees:
        visit(tree["tree_structure"])
    return found


def test_next_steps_travel_with_the_saved_model_and_zero_turns_them_off(model, tmp_path) -> None:
    trainer, dataset, _ = model
    features = _holdout(trainer, dataset).iloc[:300]
    before = trainer.scorer_.score_frame(features, reasons=0, next_steps=3)
    loaded = LeadScorer.load(trainer.scorer_.save(tmp_path / "scorer"))
    after = loaded.score_frame(features, reasons=0, next_steps=3)
    assert [a.next_steps for a in after] == [b.next_steps for b in before]
    assert any(lead.next_steps for lead in after)
    assert not any(lead.next_steps for lead in loaded.score_frame(features, next_steps=0))


def test_a_move_on_a_category_is_refused(model) -> None:
    trainer, _, _ = model
    scorer = trainer.scorer_
    with pytest.raises(Exception, match="expected a numeric feature"):
        NextSteps(scorer.booster, scorer.feature_set.names, [Move("industry", "Change", set=1)], {})


@pytest.mark.parametrize("linear", [False, True])
def test_the_tree_walk_matches_lightgbm_with_categories_missing_values_and_linear_leaves(
    linear: bool,
) -> None:
    """The walk behind next steps gives LightGBM's own raw score, moved value or not."""
    rng = np.random.default_rng(3)
    n = 3_000
    matrix = np.column_stack(
        [rng.normal(size=n), rng.integers(0, 6, n).astype(float), rng.poisson(2, n)]
    ).astype(float)
    matrix[rng.random(n) < 0.1, 0] = np.nan
    matrix[rng.random(n) < 0.1, 1] = np.nan
    labels = (matrix[:, 2] + np.nan_to_num(matrix[:, 0]) + (matrix[:, 1] == 3) > 2.5).astype(int)
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 7, "linear_tree": linear,
         "min_data_in_leaf": 20},
        lgb.Dataset(matrix, labels, categorical_feature=[1]),
        num_boost_round=30,
    )  # fmt: skip
    forest = _Forest(booster.dump_model())
    nodes = np.flatnonzero(forest.feature >= 0)
    position = np.full(len(forest.feature), len(nodes))
    position[nodes] = np.arange(len(nodes))
    decided = forest.decisions(matrix, forest.node_set(nodes))
    rows = np.repeat(np.arange(n), forest.n_trees)
    trees = np.tile(np.arange(forest.n_trees), n)
    raw = np.bincount(rows, weights=forest.outputs(matrix, decided, position, rows, trees))
    np.testing.assert_allclose(raw, booster.predict(matrix, raw_score=True), rtol=0, atol=1e-12)
    moved_value = np.full(len(rows), 4.0)
    column = np.full(len(rows), 2)
    outputs = forest.outputs(matrix, decided, position, rows, trees, [column], [moved_value])
    shifted = matrix.copy()
    shifted[:, 2] = 4.0
    np.testing.assert_allclose(
        np.bincount(rows, weights=outputs),
        booster.predict(shifted, raw_score=True),
        rtol=0,
        atol=1e-12,
    )
