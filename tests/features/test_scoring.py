"""The scorer artifact round-trips exactly and handles what training never saw."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from features import LeadScorer, ModelArtifactError, build_features
from tests.conftest import TrainedModel


def test_save_and_load_give_the_same_scores(trained: TrainedModel, tmp_path: Path) -> None:
    scorer = trained.result.trainer.scorer_
    dataset = trained.result.dataset
    matrix = scorer.encoder.transform(dataset.features.iloc[:200])
    reloaded = LeadScorer.load(scorer.save(tmp_path / "scorer"))
    np.testing.assert_array_equal(scorer.probability(matrix), reloaded.probability(matrix))
    assert reloaded.feature_set == scorer.feature_set
    assert reloaded.policy == scorer.policy


def test_unseen_categories_are_missing_not_errors(trained: TrainedModel) -> None:
    scorer = trained.result.trainer.scorer_
    (result,) = scorer.score_leads(
        [{"lead_id": "x", "industry": "Space Mining", "source": "carrier pigeon"}],
        "2026-01-01T00:00:00Z",
    )
    assert 0 <= result.score <= 100
    row = scorer.encoder.transform_one(scorer.online.compute({"industry": "Space Mining"}, 0))
    assert math.isnan(row[scorer.feature_set.names.index("industry")])


def test_batch_and_online_scores_agree(trained: TrainedModel) -> None:
    scorer = trained.result.trainer.scorer_
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
