"""One settings source: every LEADSCORE_* variable, its default, and the README's table agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scoring import Settings, SettingsError, load_settings

README = Path(__file__).parents[2] / "README.md"


def _readme_table() -> dict[str, str]:
    """`LEADSCORE_X` -> its default as the README's Configuration table shows it."""
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(LEADSCORE_[A-Z_]+)` \| (.*?) \|", section, flags=re.M)
    return {name: default.strip() for name, default in rows}


def _shown(value: object) -> str:
    if value is None or value == "":
        return "none"
    return f"`{value}`"


def test_the_readme_table_lists_every_setting_with_its_default() -> None:
    table = _readme_table()
    fields = {f"LEADSCORE_{name.upper()}": field for name, field in Settings.model_fields.items()}
    assert set(table) == set(fields)
    for name, field in fields.items():
        if name == "LEADSCORE_MODEL_URI":
            assert table[name] == "`models:/lead-scoring@champion`"  # made from MODEL_NAME
            continue
        assert table[name] == _shown(field.default), name


def test_a_bad_value_names_the_variable_and_what_it_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADSCORE_PORT", "eighty")
    with pytest.raises(SettingsError, match=r"LEADSCORE_PORT: .*integer.*got 'eighty'"):
        load_settings()


def test_the_model_uri_follows_the_model_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADSCORE_MODEL_NAME", "bank-marketing")
    assert load_settings().model_uri == "models:/bank-marketing@champion"
    monkeypatch.setenv("LEADSCORE_MODEL_URI", "models:/other/3")
    assert load_settings().model_uri == "models:/other/3"


def test_relative_paths_and_sqlite_files_read_from_a_base() -> None:
    base = Path("/repo")
    defaults = {name: Settings.model_fields[name].default for name in (
        "data_dir", "mlflow_tracking_uri", "mlflow_artifact_root", "prediction_db")}  # fmt: skip
    moved = Settings(**defaults, policy_file=Path("policy.toml")).relative_to(base)
    assert moved.data_dir == base / "data" / "demo"
    assert moved.policy_file == base / "policy.toml"
    assert moved.mlflow_tracking_uri == "sqlite:////repo/mlflow.db"
    assert moved.mlflow_artifact_root == base / "models" / "mlartifacts"
    assert moved.prediction_db == "sqlite:////repo/predictions.db"
    absolute = Settings(
        mlflow_tracking_uri="sqlite:////srv/mlflow.db", prediction_db="postgresql://db/x"
    ).relative_to(base)
    assert absolute.mlflow_tracking_uri == "sqlite:////srv/mlflow.db"
    assert absolute.prediction_db == "postgresql://db/x"
