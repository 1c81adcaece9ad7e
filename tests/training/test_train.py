"""Training: time-based split, calibrated model, MLflow logging and the champion alias."""

from __future__ import annotations

import json
import math
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from features import FeatureSet
from leadscore.cli import app
from scoring import CHAMPION, Settings
from tests.conftest import FittedModel, TrainedModel
from training import (
    CHALLENGER,
    CrmExport,
    InsufficientData,
    LeadScoreTrainer,
    PolicySpec,
    build_dataset,
    load_config,
    log_and_register,
    time_split,
    train_and_register,
)
from training.registry import RunRecord

METRICS = {"roc_auc", "pr_auc", "brier", "log_loss", "lift_at_10pct"}


def test_time_split_puts_the_newest_snapshots_in_the_holdout() -> None:
    as_of = np.random.default_rng(0).permutation(1000)
    splits = time_split(as_of, holdout_share=0.2, validation_share=0.15)
    assert [len(splits[n]) for n in ("train", "validation", "holdout")] == [650, 150, 200]
    assert as_of[splits["train"]].max() < as_of[splits["validation"]].min()
    assert as_of[splits["validation"]].max() < as_of[splits["holdout"]].min()


def test_model_learns_the_demo_process(fitted: FittedModel) -> None:
    trainer = fitted.trainer
    assert set(trainer.metrics_) == METRICS
    assert trainer.metrics_["roc_auc"] > 0.7
    assert trainer.metrics_["lift_at_10pct"] > 2
    # Calibrated: the mean predicted probability is close to the holdout win rate.
    holdout = trainer.holdout_
    assert abs(holdout["probability"].mean() - holdout["label"].mean()) < 0.05


@pytest.mark.integration
def test_run_logs_metrics_params_and_tables(trained: TrainedModel) -> None:
    client = MlflowClient(trained.settings.mlflow_tracking_uri)
    run = client.get_run(trained.result.registration.run_id)
    assert set(run.data.metrics) >= METRICS
    for split in ("train", "validation", "holdout"):
        assert int(run.data.params[f"{split}_rows"]) > 0
        assert run.data.params[f"{split}_first_as_of"] <= run.data.params[f"{split}_last_as_of"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"features.json", "feature_importance.csv", "policy.json",
            "holdout_predictions.csv"} <= artifacts  # fmt: skip


@pytest.mark.integration
def test_first_model_is_champion_and_a_worse_one_does_not_take_over(
    trained_copy: TrainedModel,
) -> None:
    trained = trained_copy
    client = MlflowClient(trained.settings.mlflow_tracking_uri)
    name = trained.settings.model_name
    champion = client.get_model_version_by_alias(name, CHAMPION)
    assert str(champion.version) == trained.result.registration.version

    source_only = FeatureSet(
        tuple(f for f in trained.result.dataset.feature_set if f.group == "source")
    )
    # Source features only: the champion's rules (company size, seniority) cannot apply, so it
    # is trained with an empty policy rather than inheriting the champion's.
    weaker = train_and_register(trained.settings, feature_set=source_only, policy=PolicySpec())
    registration = weaker.registration
    assert not registration.promoted and not registration.no_signal
    assert "stays" in registration.decision and "same recent leads" in registration.decision
    assert client.get_model_version_by_alias(name, CHAMPION).version == champion.version
    assert str(client.get_model_version_by_alias(name, CHALLENGER).version) == (
        registration.version
    )
    gate = client.get_run(registration.run_id).data.metrics
    assert gate["gate_champion_roc_auc"] > gate["gate_roc_auc"]


@pytest.mark.integration
def test_a_model_of_shuffled_labels_is_never_promoted(
    demo_export: CrmExport, empty_store: Settings
) -> None:
    dataset = build_dataset(demo_export)
    dataset.labels = np.random.default_rng(0).permutation(dataset.labels)
    trainer = LeadScoreTrainer().fit(dataset)
    registration = log_and_register(
        trainer,
        dataset,
        empty_store,
        example_lead={"lead_id": "x"},
        model_name=empty_store.model_name,
        record=RunRecord(data_location="shuffled"),
    )
    assert not registration.promoted and registration.no_signal
    assert "no usable signal" in registration.decision
    assert registration.champion_version is None


@pytest.mark.integration
def test_promote_and_rollback(trained_copy: TrainedModel) -> None:
    trained = trained_copy
    client = MlflowClient(trained.settings.mlflow_tracking_uri)
    name = trained.settings.model_name
    before = str(client.get_model_version_by_alias(name, CHAMPION).version)
    # A second version of the same model, registered without the gate's say. (MLflow looks
    # the logged model up in the global store.)
    mlflow.set_tracking_uri(trained.settings.mlflow_tracking_uri)
    source = client.get_model_version(name, before).source
    newest = str(client.create_model_version(name, source=source).version)
    assert newest != before
    runner = CliRunner()
    env = {"LEADSCORE_MLFLOW_TRACKING_URI": trained.settings.mlflow_tracking_uri}
    promoted = runner.invoke(app, ["promote", newest], env=env)
    assert promoted.exit_code == 0, promoted.output
    assert str(client.get_model_version_by_alias(name, CHAMPION).version) == newest
    rolled = runner.invoke(app, ["rollback"], env=env)
    assert rolled.exit_code == 0, rolled.output
    assert str(client.get_model_version_by_alias(name, CHAMPION).version) == before
    again = runner.invoke(app, ["rollback"], env=env)
    assert again.exit_code == 1 and "expected a previous champion" in again.output
    assert len(again.output.strip().splitlines()) == 1 and "Traceback" not in again.output
    unknown = runner.invoke(app, ["promote", "99"], env=env)
    assert unknown.exit_code == 1 and "expected a registered version" in unknown.output


def test_training_refuses_too_few_won_or_lost_leads(demo_export: CrmExport) -> None:
    dataset = build_dataset(demo_export)
    dataset.labels = np.zeros_like(dataset.labels)
    dataset.labels[:39] = 1
    with pytest.raises(InsufficientData, match=r"expected at least 40 won and 40 lost.*got 39 won"):
        LeadScoreTrainer().fit(dataset)


def test_demo_policy_thresholds_match_capacity(fitted: FittedModel) -> None:
    trainer = fitted.trainer
    holdout = trainer.splits_rows_["holdout"]
    scored = trainer.scorer_.score_frame(fitted.dataset.features.iloc[holdout], reasons=0)
    sql_per_week = sum(s.recommendation == "SQL" for s in scored) / trainer.holdout_weeks_
    assert abs(sql_per_week - 25) / 25 <= 0.10, sql_per_week


@pytest.mark.integration
def test_what_if_calibration_and_gate_are_logged(trained: TrainedModel) -> None:
    client = MlflowClient(trained.settings.mlflow_tracking_uri)
    path = client.download_artifacts(trained.result.registration.run_id, "what_if.csv")
    what_if = pd.read_csv(path)
    assert list(what_if.columns) == [
        "threshold", "leads_per_week", "expected_win_rate", "share_of_wins_captured"
    ]  # fmt: skip
    run = client.get_run(trained.result.registration.run_id)
    assert 0 <= run.data.metrics["ece"] <= 0.05
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"reliability.png", "what_if.csv", "gate.json"} <= artifacts


@pytest.mark.integration
def test_the_default_demo_champion_is_good_calibrated_and_near_the_oracle(
    tmp_path: Path, empty_store: Settings
) -> None:
    from sklearn.metrics import roc_auc_score

    from leadscore import demo_data
    from leadscore.cli import DEMO_POLICY
    from training import load_policy

    demo_data.write(demo_data.generate(), tmp_path / "demo", seed=demo_data.DEFAULT_SEED)
    settings = empty_store.model_copy(update={"data_dir": tmp_path / "demo"})
    result = train_and_register(settings, policy=load_policy(DEMO_POLICY))
    metrics = (
        MlflowClient(settings.mlflow_tracking_uri).get_run(result.registration.run_id).data.metrics
    )
    assert metrics["roc_auc"] >= 0.75
    assert metrics["ece"] <= 0.03
    holdout = result.trainer.holdout_
    truth = pd.read_parquet(tmp_path / "demo" / "truth.parquet").set_index("lead_id")
    oracle = roc_auc_score(holdout["label"], truth.loc[holdout["lead_id"], "true_probability"])
    assert oracle - metrics["roc_auc"] <= 0.03
    trainer = result.trainer
    rows = trainer.splits_rows_["holdout"]
    scored = trainer.scorer_.score_frame(result.dataset.features.iloc[rows], reasons=0)
    sql_per_week = sum(s.recommendation == "SQL" for s in scored) / trainer.holdout_weeks_
    assert abs(sql_per_week - 25) / 25 <= 0.10  # the demo policy's sales capacity
    # The planted leaks and the personal columns never reach the model, so never a reason.
    planted = json.loads((tmp_path / "demo" / demo_data.TRUTH_COLUMNS_FILE).read_text())
    kept_out = {*planted["leak_columns"], *planted["personal_columns"]}
    assert not kept_out & set(trainer.scorer_.feature_set.lead_columns())
    explained = trainer.scorer_.score_frame(result.dataset.features.iloc[rows[:2000]], reasons=5)
    named = {reason.feature for lead in explained for reason in lead.reasons}
    assert named and not named & kept_out


@pytest.mark.integration
def test_deeper_trees_train_and_explain(
    tmp_path: Path, demo_dir: Path, empty_store: Settings
) -> None:
    """Trees with a dozen splits each (num_leaves 13) get exact tables, not a crash."""
    config = (Path(__file__).parents[2] / "examples" / "demo.toml").read_text()
    config = config.replace("../data/demo", str(demo_dir))
    config += "\n[model]\nnum_leaves = 13\nlearning_rate = 0.2\n"
    (tmp_path / "deep.toml").write_text(config)
    result = train_and_register(empty_store, config=load_config(tmp_path / "deep.toml"))
    scorer = result.trainer.scorer_
    assert result.registration.version == "1"
    assert scorer.attribution == "treeshap-tables"
    assert max(t["num_leaves"] for t in scorer.booster.dump_model()["tree_info"]) > 11
    features = result.dataset.features.iloc[result.trainer.splits_rows_["holdout"][:200]]
    assert all(len(lead.reasons) == 3 for lead in scorer.score_frame(features, reasons=3))


@pytest.mark.integration
def test_tuning_away_from_a_terminal_prints_every_trial(
    demo_dir: Path, empty_store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", empty_store.mlflow_tracking_uri)
    monkeypatch.setenv("LEADSCORE_MLFLOW_ARTIFACT_ROOT", str(empty_store.mlflow_artifact_root))
    result = CliRunner().invoke(app, ["train", "--data", str(demo_dir), "--tune", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    checked = next(i for i, line in enumerate(lines) if "largest shape searched" in line)
    trials = [i for i, line in enumerate(lines) if "Tuning: trial" in line]
    assert len(trials) == 2 and checked < trials[0]
    assert "Tuning: trial 2/2, validation AUC 0." in lines[trials[1]]
    assert "Registered lead-scoring version 1" in " ".join(result.output.split())


@pytest.mark.integration
def test_tuning_logs_each_trial_as_a_nested_run(demo_dir: Path, empty_store: Settings) -> None:
    settings = empty_store.model_copy(update={"data_dir": demo_dir})
    result = train_and_register(settings, tune_trials=3)
    client = MlflowClient(settings.mlflow_tracking_uri)
    parent = client.get_run(result.registration.run_id)
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    assert len(children) == 3
    assert all("validation_roc_auc" in child.data.metrics for child in children)
    best = max(children, key=lambda child: child.data.metrics["validation_roc_auc"])
    assert parent.data.params["num_leaves"] == best.data.params["num_leaves"]
    assert parent.data.params["tuning_trials"] == "3"
    assert "roc_auc" in parent.data.metrics  # the winner, retrained and evaluated on the holdout


AGREE = {"SQL": {"A"}, "MQL": {"A", "B"}, "nurture": {"C"}, "disqualified": {"D"}}


def test_grades_and_recommendations_agree_over_the_demo_holdout(fitted: FittedModel) -> None:
    """With the demo policy, and with none: an A is never an MQL without a failed ICP rule, a B
    never an SQL; without a policy, nothing at or above the base rate is disqualified."""
    trainer, dataset = fitted.trainer, fitted.dataset
    rows = trainer.splits_rows_["holdout"]
    base_rate = float(dataset.labels[trainer.splits_rows_["train"]].mean())
    without = LeadScoreTrainer(trainer.config).fit(dataset)
    for scorer in (trainer.scorer_, without.scorer_):
        scored = scorer.score_frame(dataset.features.iloc[rows], reasons=0)
        for lead in scored:
            if lead.recommendation_reason.startswith("Excluded by the policy"):
                continue  # an exclusion disqualifies whatever the grade
            assert lead.grade in AGREE[lead.recommendation], lead
            if lead.recommendation == "MQL" and lead.grade == "A":
                assert "the ICP asks that" in lead.recommendation_reason
    unruled = without.scorer_.score_frame(dataset.features.iloc[rows], reasons=0)
    assert {lead.recommendation for lead in unruled} == {"SQL", "MQL", "nurture", "disqualified"}
    assert not any(
        lead.recommendation == "disqualified" and lead.probability >= base_rate for lead in unruled
    )
    assert without.scorer_.policy.floor == math.ceil(100 * 0.5 * base_rate)
