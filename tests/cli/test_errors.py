"""A user's mistake is one line that says what was found, what was expected and what to do,
with exit code 1; the traceback only with `leadscore --debug`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from training import ConfigError

runner = CliRunner()
LEADS = "id,title,size,won\na,VP Sales,10,yes\nb,Intern,3,no\n"


def _config(tmp_path: Path, leads_section: str) -> Path:
    (tmp_path / "leads.csv").write_text(LEADS)
    path = tmp_path / "leads.toml"
    path.write_text(f'[leads]\npath = "leads.csv"\n{leads_section}\n[outcome]\nlabel = "won"\n')
    return path


def _one_line_error(arguments: list[str]) -> str:
    result = runner.invoke(app, arguments)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output and lines[0].startswith("Error: ")
    return lines[0]


@pytest.mark.parametrize("command", ["validate", "train"])
def test_a_mistyped_transform(tmp_path: Path, command: str) -> None:
    config = _config(tmp_path, 'text = { title = "senority" }')
    line = _one_line_error([command, "--config", str(config)])
    assert "leads.toml: [leads] text.title: expected 'category', 'email_kind' or" in line
    assert "got 'senority'" in line


def test_a_string_where_a_list_is_expected(tmp_path: Path) -> None:
    config = _config(tmp_path, 'categorical = "title"')
    line = _one_line_error(["validate", "--config", str(config)])
    assert "[leads] categorical: expected a list, got 'title'" in line


def test_a_missing_file(tmp_path: Path) -> None:
    line = _one_line_error(["validate", "--config", str(tmp_path / "nowhere.toml")])
    assert f"expected a TOML dataset config, found no file at {tmp_path / 'nowhere.toml'}" in line
    config = _config(tmp_path, "").read_text().replace("leads.csv", "gone.csv")
    (tmp_path / "gone.toml").write_text(config)
    line = _one_line_error(["validate", "--config", str(tmp_path / "gone.toml")])
    assert "expected a file, found nothing at" in line and "gone.csv" in line


def test_unknown_lightgbm_parameters_and_rules_fail_validate(tmp_path: Path) -> None:
    config = _config(tmp_path, "")
    config.write_text(config.read_text() + "[model]\nnum_leafs = 3\n")
    line = _one_line_error(["validate", "--config", str(config)])
    assert "[model]: expected LightGBM parameters, got unknown ['num_leafs']" in line
    policy = tmp_path / "policy.toml"
    policy.write_text("[icp]\nrules = [\"seniority == 'vp'\"]\n")
    good = _config(tmp_path, "")
    line = _one_line_error(["validate", "--config", str(good), "--policy", str(policy)])
    assert "expected the rules to name features of the model, got ['seniority']" in line


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--debug", "validate", "--config", str(tmp_path / "x.toml")])
    assert result.exit_code == 1
    assert isinstance(result.exception, ConfigError)


def test_a_bad_setting_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LEADSCORE_PORT", "eighty")
    line = _one_line_error(["serve"])
    assert "LEADSCORE_PORT" in line and "'eighty'" in line


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    for command in ("generate", "train", "retrain", "validate", "score", "serve", "demo"):
        assert command in result.output
    assert "--debug" in result.output
    assert runner.invoke(app, ["train", "--help"]).exit_code == 0
