"""The `leadscore` command, end to end on small data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.scoring_job import score_table
from tests.conftest import FittedModel, TrainedModel
from tests.helpers import free_port

runner = CliRunner()


def test_generate_writes_the_three_tables_and_the_truth(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["generate", "--leads", "400", "--seed", "1", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    for name in ("leads", "activities", "outcomes", "truth"):
        assert (tmp_path / f"{name}.parquet").is_file()
    csv = runner.invoke(
        app, ["generate", "--leads", "50", "--out", str(tmp_path / "csv"), "--format", "csv"]
    )
    assert csv.exit_code == 0 and (tmp_path / "csv" / "leads.csv").is_file()


@pytest.mark.integration
def test_score_a_file(
    trained: TrainedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", trained.settings.mlflow_tracking_uri)
    leads = pd.read_parquet(trained.data_dir / "leads.parquet").head(50)
    leads.to_csv(tmp_path / "leads.csv", index=False)
    out = tmp_path / "scores.csv"
    result = runner.invoke(
        app,
        [
            "score", "--input", str(tmp_path / "leads.csv"),
            "--activities", str(trained.data_dir / "activities.parquet"),
            "--as-of", "2025-03-01T00:00:00Z", "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out)
    assert list(scores["lead_id"]) == list(leads["lead_id"])
    assert scores["score"].between(0, 100).all()
    assert set(scores["recommendation"]) <= {"SQL", "MQL", "nurture", "disqualified"}
    assert (scores["model_version"] == 1).all()
    assert len(json.loads(scores["reasons"].iloc[0])) == 5


@pytest.mark.integration
def test_score_an_own_export_and_each_mistake_is_one_clear_line(
    trained: TrainedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", trained.settings.mlflow_tracking_uri)
    leads = pd.read_parquet(trained.data_dir / "leads.parquet").head(40)
    own = leads.rename(columns={"lead_id": "Lead ID", "created_at": "Created Date"})
    own.to_csv(tmp_path / "own.csv", index=False)
    (tmp_path / "own.toml").write_text(
        '[leads]\npath = "own.csv"\nid = "Lead ID"\ncreated_at = "Created Date"\n'
        '[outcome]\nlabel = "won"\n'
    )
    out = tmp_path / "own-scores.parquet"
    base = ["score", "--input", str(tmp_path / "own.csv"), "--as-of", "2025-03-01T00:00:00Z"]

    def one_line(result) -> str:
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        return " ".join(result.output.split())

    assert "expected a 'lead_id' column" in one_line(runner.invoke(app, [*base, "--out", str(out)]))
    mapped = runner.invoke(app, [*base, "--config", str(tmp_path / "own.toml"), "--out", str(out)])
    assert mapped.exit_code == 0, mapped.output
    assert list(pd.read_parquet(out)["lead_id"]) == list(leads["lead_id"])

    assert one_line(runner.invoke(app, [*base, "--out", str(tmp_path / "x.xlsx")])).startswith(
        "Error: expected --out to end in .csv or .parquet, got 'x.xlsx'"
    )
    leads.drop(columns=["company_size"]).to_csv(tmp_path / "short.csv", index=False)
    short = ["score", "--input", str(tmp_path / "short.csv"), "--out", str(tmp_path / "s.csv")]
    refused = one_line(runner.invoke(app, short))
    assert "missing ['company_size']" in refused and "--allow-missing" in refused
    allowed = runner.invoke(app, [*short, "--allow-missing"])
    assert allowed.exit_code == 0, allowed.output
    assert "company_size is not in" in allowed.output and "for all 40 leads" in allowed.output
    assert len(pd.read_csv(tmp_path / "s.csv")) == 40

    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty.db'}")
    nothing = one_line(runner.invoke(app, [*base, "--out", str(out)]))
    assert nothing.startswith("Error: expected a model at models:/lead-scoring@champion")
    assert "leadscore train" in nothing


@pytest.mark.integration
def test_demo_generates_trains_and_serves_then_reuses(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "LEADSCORE_PORT": str(port)}
    command = [sys.executable, "-m", "leadscore.cli", "demo", "--leads", "4000"]

    def run_until_ready() -> tuple[subprocess.Popen, str]:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    return process, ""
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                break
            time.sleep(0.5)
        os.killpg(process.pid, signal.SIGTERM)
        return process, process.communicate(timeout=30)[0]

    process, failure = run_until_ready()
    try:
        assert not failure, failure
        printed, body = _read_until_curl(process, port)
        assert "Registered" in printed
        lead = json.loads(body)  # the printed curl must carry a valid lead
        score = httpx.post(f"http://127.0.0.1:{port}/v1/score", json=lead, timeout=10).json()
        assert {"lead_id", "score", "probability", "grade", "recommendation", "reasons",
                "model"} <= set(score)  # fmt: skip
        assert any("demo_request" in r["feature"] for r in score["reasons"])
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=30)

    process, failure = run_until_ready()
    os.killpg(process.pid, signal.SIGTERM)
    second_output = process.communicate(timeout=30)[0]
    assert not failure, failure
    assert "Reusing the demo data" in second_output
    assert "Reusing lead-scoring version 1" in second_output


def _read_until_curl(process: subprocess.Popen, port: int) -> tuple[str, str]:
    """The output up to the printed curl command, and that command's JSON body."""
    assert process.stdout is not None
    printed = []
    for line in process.stdout:
        printed.append(line)
        if line.startswith("curl ") and f":{port}/v1/score" in line:
            return "".join(printed), line.split("-d '", 1)[1].rsplit("'", 1)[0]
    raise AssertionError("the demo printed no curl command:\n" + "".join(printed))


def test_serve_refuses_a_public_address_without_api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEADSCORE_API_KEYS", raising=False)
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--port", "8999"])
    assert result.exit_code == 2
    assert "Refusing to listen on 0.0.0.0" in " ".join(result.output.split())


def test_scoring_in_forked_slices_gives_the_same_rows(fitted: FittedModel) -> None:
    scorer = fitted.trainer.scorer_
    features = fitted.dataset.features.iloc[:230]
    job = {"reasons": 5, "next_steps": 3, "version": "1", "slice_size": 50}
    alone = score_table(scorer, features, workers=1, **job)
    forked = score_table(scorer, features, workers=2, **job)
    pd.testing.assert_frame_equal(alone, forked)
    assert list(alone["lead_id"]) == [str(i) for i in features.index]
    assert json.loads(alone["reasons"].iloc[0])[0].keys() == {
        "feature", "value", "contribution", "direction", "sentence"
    }  # fmt: skip
    assert any(json.loads(cell) for cell in alone["next_steps"])
    empty = score_table(scorer, features.iloc[:0], workers=2, **job)
    assert empty.empty and list(empty.columns) == list(alone.columns)


def test_scoring_a_file_without_the_account_key_names_it(
    trained: TrainedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo model reads accounts: its account features come from the file's company_domain
    and the other leads of each company, so a file without that column is refused naming it."""
    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", trained.settings.mlflow_tracking_uri)
    leads = pd.read_parquet(trained.data_dir / "leads.parquet").head(300)
    leads.drop(columns=["company_domain"]).to_csv(tmp_path / "leads.csv", index=False)
    command = ["score", "--input", str(tmp_path / "leads.csv"), "--out", str(tmp_path / "s.csv")]
    refused = runner.invoke(app, command)
    assert refused.exit_code == 1
    assert "missing ['company_domain']" in " ".join(refused.output.split())
    allowed = runner.invoke(app, [*command, "--allow-missing"])
    assert allowed.exit_code == 0, allowed.output
    assert "company_domain is not in" in " ".join(allowed.output.split())
