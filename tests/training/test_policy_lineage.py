"""The agreement survives retraining: a version trained without --policy keeps the champion's."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from leadscore.cli import app
from scoring import load_registered
from tests.conftest import TrainedModel
from tests.helpers import use_store
from training import PolicySpec, Registration, gate, log_and_register, train_and_register
from training.policy import PolicyChoice
from training.registry import RunRecord

runner = CliRunner()
NOW = "2026-06-01T12:00:00+00:00"
# A keen PhD student at a big company: the demo policy excludes students whatever the score.
STUDENT = {
    "lead_id": "student-1", "created_at": "2026-05-30T09:00:00+00:00", "source": "referral",
    "campaign": "customer-referral", "country": "US", "industry": "Software",
    "company_size": 5000, "job_title": "PhD Student", "email_domain": "bigco.example",
    "activities": [
        {"activity_type": "demo_request", "occurred_at": "2026-05-31T09:00:00+00:00"},
        {"activity_type": "pricing_page_view", "occurred_at": "2026-05-31T10:00:00+00:00"},
    ],
}  # fmt: skip


def _newer_export(source: Path, folder: Path) -> Path:
    """The same export less its last 50 leads: new data, so retrain trains."""
    shutil.copytree(source, folder)
    leads = pd.read_parquet(folder / "leads.parquet")
    leads.iloc[:-50].to_parquet(folder / "leads.parquet", index=False)
    return folder


@pytest.mark.integration
def test_train_tune_and_retrain_without_a_policy_keep_the_champions(
    trained_copy: TrainedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = trained_copy.settings
    use_store(monkeypatch, settings)
    monkeypatch.delenv("LEADSCORE_POLICY_FILE", raising=False)
    first = trained_copy.result.trainer.scorer_.policy
    digest = trained_copy.result.policy.spec.digest()
    assert first.icp and first.exclusions  # trained with the demo policy

    data = str(trained_copy.data_dir)
    newer = str(_newer_export(trained_copy.data_dir, tmp_path / "newer"))
    for command in (["train", "--data", data], ["train", "--data", data, "--tune", "3"],
                    ["retrain", "--data", newer]):  # fmt: skip
        result = runner.invoke(app, command)
        assert result.exit_code in (0, 3), result.output
        output = " ".join(result.output.split())
        assert re.search(rf"Policy {digest}: champion version \d+'s policy, kept", output), output
        assert "NO POLICY" not in output

    client = MlflowClient(settings.mlflow_tracking_uri)
    versions = sorted(int(v.version) for v in client.search_model_versions("name='lead-scoring'"))
    assert versions == [1, 2, 3, 4]
    for version in versions[1:]:
        scorer = load_registered(
            f"models:/lead-scoring/{version}", settings.mlflow_tracking_uri
        ).scorer
        assert scorer.policy.icp == first.icp and scorer.policy.exclusions == first.exclusions
        assert scorer.metadata["policy"]["hash"] == digest
        [scored] = scorer.score_leads([STUDENT], NOW)
        assert scored.recommendation == "disqualified", (version, scored)


@pytest.mark.integration
def test_a_changed_policy_is_shown_and_no_policy_needs_force(trained_copy: TrainedModel) -> None:
    settings = trained_copy.settings
    first = trained_copy.result
    without_exclusions = PolicySpec.from_dict(
        {**first.policy.spec.to_dict(), "exclusions": {"rules": []}}
    )
    changed = train_and_register(settings, policy=without_exclusions).registration
    assert "Policy differs from champion 1's: exclusions drops: seniority is student" in (
        changed.decision
    )
    record = RunRecord(data_location="test", policy=PolicyChoice(None, "none"))
    trainer, dataset = first.trainer, first.dataset

    def register(force: bool) -> Registration:
        return log_and_register(
            trainer, dataset, settings, example_lead={"lead_id": "x"},
            model_name=settings.model_name, record=record, force=force,
        )  # fmt: skip

    champion = gate.current_champion(MlflowClient(settings.mlflow_tracking_uri), "lead-scoring")
    refused = register(force=False)
    assert not refused.promoted
    assert "trained with no policy while champion" in refused.decision
    assert "--force" in refused.decision and f"Champion {champion} keeps serving" in (
        refused.decision
    )
    forced = register(force=True)
    assert forced.promoted, forced.decision


@pytest.mark.integration
def test_notebook_01_keeps_the_production_policy_without_being_told(
    trained_copy: TrainedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat
    from nbclient import NotebookClient

    settings = trained_copy.settings
    use_store(monkeypatch, settings)
    monkeypatch.setenv("LEADSCORE_DATA_DIR", str(tmp_path / "demo"))
    monkeypatch.setenv("LEADSCORE_DEMO_LEADS", "4000")
    monkeypatch.delenv("LEADSCORE_POLICY_FILE", raising=False)
    path = Path(__file__).parents[2] / "notebooks" / "01_retrain.ipynb"
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()  # fmt: skip
    printed = " ".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )
    assert "champion version 1 of lead-scoring's policy, kept" in " ".join(printed.split())
    scorer = load_registered("models:/lead-scoring-notebook/1", settings.mlflow_tracking_uri).scorer
    first = trained_copy.result.trainer.scorer_.policy
    assert scorer.policy.icp == first.icp and scorer.policy.exclusions == first.exclusions
    [scored] = scorer.score_leads([STUDENT], NOW)
    assert scored.recommendation == "disqualified"
