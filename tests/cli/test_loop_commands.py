"""`leadscore outcomes` keeps a CRM export's outcomes once; `leadscore performance` reads them."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy
from typer.testing import CliRunner

from leadscore.cli import app
from serving.predlog import OUTCOMES_TABLE

runner = CliRunner()


@pytest.fixture
def log_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    monkeypatch.setenv("LEADSCORE_PREDICTION_DB", url)
    monkeypatch.setenv("LEADSCORE_PREDICTION_SPOOL", str(tmp_path / "spool.db"))
    monkeypatch.setenv("LEADSCORE_SECRET_KEY", "cli-loop-secret")
    return url


def _events(url: str) -> list[tuple[str, str]]:
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(
            sqlalchemy.text(f"SELECT lead_id, event FROM {OUTCOMES_TABLE} ORDER BY lead_id, event")
        )
        rows = [(r.lead_id, r.event) for r in found]
    engine.dispose()
    return rows


def test_outcomes_from_a_crm_export_are_kept_once(log_env: str, tmp_path: Path) -> None:
    export = pd.DataFrame(
        {
            "lead_id": ["L-1", "L-2", "L-3", "7"],
            "status": ["Won", "lost", "", "open"],
            "closed_at": ["2027-01-15 16:00", "2027-01-20T10:00:00Z", None, None],
            "sql_at": ["2026-12-01", None, "2026-12-03", None],
            "opportunity_at": [None, None, None, "2026-12-04"],
        }
    )
    path = tmp_path / "outcomes.csv"
    export.to_csv(path, index=False)
    for _ in range(2):  # the same export twice: stored once
        result = runner.invoke(app, ["outcomes", "--input", str(path)])
        assert result.exit_code == 0, result.output
        assert "Kept 5 events from 4 rows" in result.output
    time.sleep(0.1)
    assert _events(log_env) == [
        ("7", "opportunity"),
        ("L-1", "sql"),
        ("L-1", "won"),
        ("L-2", "lost"),
        ("L-3", "sql"),
    ]


def test_a_bad_outcome_row_is_one_line_naming_file_row_and_column(
    log_env: str, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    pd.DataFrame(
        {"lead_id": ["L-1", "L-2"], "status": ["won", "maybe"], "closed_at": [None, "2027-01-01"]}
    ).to_csv(path, index=False)
    result = runner.invoke(app, ["outcomes", "--input", str(path)])
    assert result.exit_code == 1
    assert "bad" in result.output and "closed_at" in result.output and "status" in result.output
    assert "row 2" in result.output or "line 2" in result.output, result.output
    assert "Traceback" not in result.output


def test_outcomes_need_a_prediction_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADSCORE_PREDICTION_DB", "")
    path = tmp_path / "outcomes.csv"
    pd.DataFrame({"lead_id": ["L-1"], "status": ["won"], "closed_at": ["2027-01-01"]}).to_csv(
        path, index=False
    )
    result = runner.invoke(app, ["outcomes", "--input", str(path)])
    assert result.exit_code == 1
    assert "LEADSCORE_PREDICTION_DB" in result.output
