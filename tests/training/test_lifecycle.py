"""The champion lifecycle refuses what cannot be trusted, says what keeps serving, and lets a
person override it only knowingly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from leadscore.cli import app
from scoring import CHAMPION, Settings
from tests.conftest import TrainedModel
from tests.helpers import use_store
from training import PolicySpec, load_config, train_and_register

runner = CliRunner()
ROOT = Path(__file__).parents[2]


def _report(store: Settings, run_id: str) -> str:
    root = Path(store.mlflow_artifact_root)
    [page] = [p for p in root.rglob("report.html") if run_id in str(p)]
    return page.read_text()


@pytest.mark.integration
def test_a_leaky_model_kept_with_allow_leaky_is_refused_and_promoted_only_by_force(
    tmp_path: Path, demo_dir: Path, empty_store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (ROOT / "examples" / "demo.toml").read_text().replace("../data/demo", str(demo_dir))
    (tmp_path / "demo.toml").write_text(text)
    config = load_config(tmp_path / "demo.toml")
    result = train_and_register(
        empty_store, config=config, allow_leaky=["sales_status"], policy=PolicySpec()
    )
    registration = result.registration
    assert result.trainer.metrics_["roc_auc"] > 0.99  # sales_status is the label, in effect
    assert not registration.promoted and registration.champion_version is None
    assert "almost certainly leaking, led by 'sales_status'" in registration.decision
    assert "No champion serves demo-own-export" in registration.decision
    page = _report(empty_store, registration.run_id)
    body = page.split("<body>", 1)[1]
    assert body.index("Not promoted: this version does not serve") < body.index("In short")

    use_store(monkeypatch, empty_store)
    refused = runner.invoke(app, ["promote", "1", "--model-name", "demo-own-export"])
    assert refused.exit_code == 1
    output = " ".join(refused.output.split())
    assert output.startswith("Error: version 1 of demo-own-export should not serve:")
    assert "almost certainly leaking" in output and "flagged: sales_status" in output
    assert "--force" in output and "Traceback" not in output
    forced = runner.invoke(app, ["promote", "1", "--model-name", "demo-own-export", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "FORCED" in forced.output
    client = MlflowClient(empty_store.mlflow_tracking_uri)
    assert str(client.get_model_version_by_alias("demo-own-export", CHAMPION).version) == "1"


@pytest.mark.integration
def test_a_refusal_names_the_champion_that_keeps_serving_and_what_it_was_told(
    trained_copy: TrainedModel,
) -> None:
    from features import FeatureSet

    source_only = FeatureSet(
        tuple(f for f in trained_copy.result.dataset.feature_set if f.group == "source")
    )
    weaker = train_and_register(
        trained_copy.settings, feature_set=source_only, policy=PolicySpec()
    ).registration
    assert not weaker.promoted
    assert "Champion 1 keeps serving. Its own check said: version 1 is the first champion" in (
        weaker.decision
    )


@pytest.mark.integration
def test_retrain_without_any_champion_says_nothing_serves(
    tmp_path: Path, empty_store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(3)
    rows = 1500
    pd.DataFrame(
        {
            "id": [f"n{i}" for i in range(rows)],
            "noise_a": rng.normal(size=rows).round(3),
            "noise_b": rng.choice(["x", "y", "z"], rows),
            "converted": rng.choice(["yes", "no"], rows, p=[0.3, 0.7]),
        }
    ).to_csv(tmp_path / "noise.csv", index=False)
    (tmp_path / "noise.toml").write_text(
        '[leads]\npath = "noise.csv"\nid = "id"\norder = "row"\n\n[outcome]\nlabel = "converted"\n'
    )
    use_store(monkeypatch, empty_store)
    result = runner.invoke(app, ["retrain", "--config", str(tmp_path / "noise.toml")])
    assert result.exit_code == 3, result.output
    output = " ".join(result.output.split())
    assert "NOT PROMOTED" in output and "CHAMPION KEPT" not in output
    assert "No champion serves lead-scoring" in output
    gate = json.loads(next(Path(empty_store.mlflow_artifact_root).rglob("gate.json")).read_text())
    assert gate["no_signal"] and not gate["promoted"]
    refused = runner.invoke(app, ["promote", "1"])
    assert refused.exit_code == 1 and "no usable signal" in " ".join(refused.output.split())
