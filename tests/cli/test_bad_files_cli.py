"""`leadscore validate`, `train` and `score` refuse a file they cannot read in one line naming
it, with exit code 1: never a traceback, never "Valid:" on a file without leads."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from scoring import Settings
from tests.conftest import FittedModel
from tests.helpers import use_store
from tests.training.test_bad_files import BAD_FILES, LEADS

runner = CliRunner()


def _one_line_error(
    arguments: list[str], path: Path, says: str, *, after_progress: bool = False
) -> None:
    """The command fails with exit code 1 and its last line, the only one unless the command
    reports progress first, is the error naming `path`."""
    result = runner.invoke(app, arguments)
    assert result.exit_code == 1, result.output
    *progress, error = result.output.strip().splitlines()
    assert after_progress or not progress, result.output
    assert "Traceback" not in result.output and "Error" not in "".join(progress), result.output
    assert error.startswith(f"Error: {path}: ") and says in error, error


def _config(tmp_path: Path, leads: str) -> Path:
    path = tmp_path / "dataset.toml"
    path.write_text(f'[leads]\npath = "{leads}"\nid = "id"\n[outcome]\nlabel = "won"\n')
    return path


@pytest.fixture
def scorer(fitted: FittedModel, monkeypatch: pytest.MonkeyPatch) -> FittedModel:
    """`leadscore score` with the demo model fitted in memory: no MLflow store to load from."""
    monkeypatch.setattr("leadscore.cli._load_model", lambda model_uri: fitted.loaded)
    return fitted


@pytest.mark.parametrize("kind", BAD_FILES)
def test_validate_refuses_a_bad_leads_file_in_one_line(tmp_path: Path, kind: str) -> None:
    name, content, says = BAD_FILES[kind]
    (tmp_path / name).write_bytes(content)
    _one_line_error(["validate", "--config", str(_config(tmp_path, name))], tmp_path / name, says)


def test_validate_refuses_a_leads_file_with_only_a_header(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text("id,city,size,won\n")
    _one_line_error(
        ["validate", "--config", str(_config(tmp_path, "leads.csv"))],
        tmp_path / "leads.csv",
        "has no rows, only a header; expected a row per lead",
    )


def test_validate_says_which_separator_to_set(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(LEADS.replace(",", ";"))
    _one_line_error(
        ["validate", "--config", str(_config(tmp_path, "leads.csv"))],
        tmp_path / "leads.csv",
        'set separator = ";" in the [leads] section of the dataset config',
    )


def test_train_refuses_a_bad_file_before_fitting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_store: Settings
) -> None:
    use_store(monkeypatch, empty_store)
    name, content, says = BAD_FILES["latin-1"]
    (tmp_path / name).write_bytes(content)
    arguments = ["train", "--config", str(_config(tmp_path, name))]
    _one_line_error(arguments, tmp_path / name, says, after_progress=True)


@pytest.mark.parametrize("kind", BAD_FILES)
def test_score_refuses_a_bad_input_file_in_one_line(
    scorer: FittedModel, tmp_path: Path, kind: str
) -> None:
    name, content, says = BAD_FILES[kind]
    (tmp_path / name).write_bytes(content)
    arguments = ["score", "--input", str(tmp_path / name), "--out", str(tmp_path / "out.csv")]
    _one_line_error(arguments, tmp_path / name, says)
    assert not (tmp_path / "out.csv").exists()


def test_score_needs_leads_but_not_activities(scorer: FittedModel, tmp_path: Path) -> None:
    leads = pd.read_parquet(scorer.data_dir / "leads.parquet").head(5)
    leads.head(0).to_csv(tmp_path / "none.csv", index=False)
    out = ["--out", str(tmp_path / "out.csv"), "--as-of", "2025-03-01T00:00:00Z"]
    _one_line_error(
        ["score", "--input", str(tmp_path / "none.csv"), *out],
        tmp_path / "none.csv",
        "has no rows, only a header; expected a row per lead",
    )

    leads.to_csv(tmp_path / "leads.csv", index=False)
    (tmp_path / "activities.csv").write_text("lead_id,occurred_at,activity_type\n")
    arguments = ["score", "--input", str(tmp_path / "leads.csv"), *out]
    scored = runner.invoke(app, [*arguments, "--activities", str(tmp_path / "activities.csv")])
    assert scored.exit_code == 0, scored.output
    assert len(pd.read_csv(tmp_path / "out.csv")) == 5

    (tmp_path / "activities.csv").write_bytes("lead_id,occurred_at\n".encode("utf-16"))
    _one_line_error(
        [*arguments, "--activities", str(tmp_path / "activities.csv")],
        tmp_path / "activities.csv",
        "is not UTF-8 (looks like UTF-16); save it as UTF-8",
    )
