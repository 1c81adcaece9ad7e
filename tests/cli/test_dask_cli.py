"""`--dask` on the command line: train and score on a LocalCluster, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from scoring import Settings
from tests.conftest import TrainedModel, store_settings

pytestmark = pytest.mark.integration
runner = CliRunner()


def _one_line(output: str) -> str:
    assert "Traceback" not in output
    return " ".join(output.split())


@pytest.fixture(scope="module")
def lead_only_store(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The demo trained from a config without [accounts]: a model whose leads score alone, as
    --dask scores them (an account's contacts span partitions)."""
    store = tmp_path_factory.mktemp("lead-only")
    config = store / "demo.toml"
    config.write_text(
        f'[leads]\npath = "{demo_dir}/leads.parquet"\nid = "lead_id"\ncreated_at = "created_at"\n'
        f'[outcome]\npath = "{demo_dir}/outcomes.parquet"\n'
        f'[activities]\npath = "{demo_dir}/activities.parquet"\n'
    )
    settings = store_settings(store)
    env = {"LEADSCORE_MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
           "LEADSCORE_MLFLOW_ARTIFACT_ROOT": str(settings.mlflow_artifact_root)}  # fmt: skip
    result = runner.invoke(app, ["train", "--config", str(config)], env=env)
    assert result.exit_code == 0, result.output
    return settings


def test_score_with_dask_writes_a_parquet_file_per_partition_from_renamed_columns(
    lead_only_store: Settings,
    demo_dir: Path,
    trained: TrainedModel,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", lead_only_store.mlflow_tracking_uri)
    leads = pd.read_parquet(demo_dir / "leads.parquet").head(900)
    own = leads.rename(columns={"lead_id": "Lead ID", "created_at": "Created Date"})
    (tmp_path / "leads").mkdir()
    for part in range(3):
        own.iloc[part::3].to_parquet(tmp_path / "leads" / f"{part}.parquet", index=False)
    (tmp_path / "own.toml").write_text(
        '[leads]\npath = "leads"\nid = "Lead ID"\ncreated_at = "Created Date"\n'
        '[outcome]\nlabel = "won"\n'
    )
    out = tmp_path / "scores"
    base = [
        "score", "--input", str(tmp_path / "leads"), "--config", str(tmp_path / "own.toml"),
        "--activities", str(demo_dir / "activities.parquet"),
        "--as-of", "2025-06-01T00:00:00Z", "--dask", "local", "--partitions", "5",
    ]  # fmt: skip
    result = runner.invoke(app, [*base, "--out", str(out)])
    assert result.exit_code == 0, result.output
    said = _one_line(result.output)
    assert "Scored 900 leads" in said and "on 2 Dask workers -> 5 Parquet files" in said
    scores = pd.concat(pd.read_parquet(p) for p in sorted(out.glob("part-*.parquet")))
    assert sorted(scores["lead_id"]) == sorted(leads["lead_id"])

    for extra, words in (
        (["--out", str(tmp_path / "s.csv")], "expected --out to be a folder with --dask"),
        (["--out", str(out), "--format", "hubspot"], "--format writes or reads one file"),
    ):
        refused = runner.invoke(app, [*base, *extra])
        assert refused.exit_code == 1 and words in _one_line(refused.output), refused.output
    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", trained.settings.mlflow_tracking_uri)
    accounts = runner.invoke(app, [*base, "--out", str(out)])  # the demo model reads accounts
    assert accounts.exit_code == 1
    assert "reads accounts, whose contacts span partitions" in _one_line(accounts.output)
    alone = runner.invoke(
        app, ["score", "--input", "x.parquet", "--out", "y.csv", "--partitions", "3"]
    )
    assert alone.exit_code == 2 and "goes with --dask" in _one_line(alone.output)


def test_train_with_dask_local_fits_on_the_cluster_and_registers(
    empty_store: Settings, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", empty_store.mlflow_tracking_uri)
    monkeypatch.setenv("LEADSCORE_MLFLOW_ARTIFACT_ROOT", str(empty_store.mlflow_artifact_root))
    result = runner.invoke(app, ["train", "--data", str(demo_dir), "--dask", "local"])
    assert result.exit_code == 0, result.output
    said = _one_line(result.output)
    assert "Fitting LightGBM on the cluster" in said and "over 2 workers" in said
    assert "Registered lead-scoring version 1" in said
    tuned = runner.invoke(app, ["train", "--data", str(demo_dir), "--dask", "local", "--tune", "3"])
    assert tuned.exit_code == 1 and "expected --tune or --dask, got both" in _one_line(tuned.output)
