"""The scorer artifact round-trips exactly and handles what training never saw."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from features import build_features
from scoring import LeadScorer, ModelArtifactError
from tests.conftest import FittedModel, TrainedModel


def test_save_and_load_give_the_same_scores(fitted: FittedModel, tmp_path: Path) -> None:
    scorer = fitted.trainer.scorer_
    dataset = fitted.dataset
    matrix = scorer.encoder.transform(dataset.features.iloc[:200])
    reloaded = LeadScorer.load(scorer.save(tmp_path / "scorer"))
    np.testing.assert_array_equal(scorer.probability(matrix), reloaded.probability(matrix))
    assert reloaded.feature_set == scorer.feature_set
    assert reloaded.policy == scorer.policy


def test_unseen_categories_are_missing_not_errors(fitted: FittedModel) -> None:
    scorer = fitted.trainer.scorer_
    (result,) = scorer.score_leads(
        [{"lead_id": "x", "industry": "Space Mining", "source": "carrier pigeon"}],
        "2026-01-01T00:00:00Z",
    )
    assert 0 <= result.score <= 100
    row = scorer.encoder.transform_one(scorer.online.compute({"industry": "Space Mining"}, 0))
    assert math.isnan(row[scorer.feature_set.names.index("industry")])


def test_batch_and_online_scores_agree(fitted: FittedModel) -> None:
    scorer = fitted.trainer.scorer_
    lead = {
        "lead_id": "L1", "industry": "Software", "company_size": 300, "job_title": "VP Sales",
        "activities": [{"activity_type": "demo_request", "occurred_at": "2026-01-01T00:00:00Z"}],
    }  # fmt: skip
    (online,) = scorer.score_leads([lead], "2026-01-03T00:00:00Z")
    import pandas as pd

    frame = pd.DataFrame([{k: v for k, v in lead.items() if k != "activities"}])
    activities = pd.DataFrame([{"lead_id": "L1", **lead["activities"][0]}])
    features = build_features(frame, activities, [1767398400000000], scorer.feature_set)
    (batch,) = scorer.score_frame(features)
    assert batch.probability == online.probability
    assert [r.feature for r in batch.reasons] == [r.feature for r in online.reasons]


def test_loading_a_folder_without_a_model_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelArtifactError, match="leadscore train"):
        LeadScorer.load(tmp_path)


@pytest.mark.integration
def test_the_mlflow_pyfunc_scores_a_frame_like_the_scorer(trained: TrainedModel) -> None:
    import mlflow
    import pandas as pd

    mlflow.set_tracking_uri(trained.settings.mlflow_tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{trained.settings.model_name}/1")
    leads = [
        {"lead_id": "a", "industry": "Software", "company_size": 300.0, "activities": [],
         "as_of": "2026-01-03T00:00:00Z"},
        {"lead_id": "b", "industry": "Nonprofit", "company_size": 3.0, "activities": [],
         "as_of": "2026-01-04T00:00:00Z"},
    ]  # fmt: skip
    out = model.predict(pd.DataFrame(leads))
    scorer = trained.result.trainer.scorer_
    expected = scorer.score_leads(
        [{k: v for k, v in lead.items() if k != "as_of"} for lead in leads],
        [lead["as_of"] for lead in leads],
    )
    assert list(out["lead_id"]) == ["a", "b"]
    assert list(out["probability"]) == [e.probability for e in expected]


@pytest.mark.integration
def test_the_logged_model_is_code_and_files_with_nothing_pickled(trained: TrainedModel) -> None:
    import mlflow

    mlflow.set_tracking_uri(trained.settings.mlflow_tracking_uri)
    uri = f"models:/{trained.settings.model_name}/1"
    local = Path(mlflow.artifacts.download_artifacts(uri))
    names = {p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()}
    assert "mlflow_model.py" in names
    assert {"artifacts/scorer/scorer.json", "artifacts/scorer/booster.txt"} <= names
    assert not [n for n in names if n.endswith((".pkl", ".pickle", ".cloudpickle"))], names
    assert "loader_module: mlflow.pyfunc.loaders.code_model" in (local / "MLmodel").read_text()
