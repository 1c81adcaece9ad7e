"""Bring your own export: config, row-level validation, leakage audit, baseline, drift, minimum."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from features import ValidationFailed
from leadscore.cli import app
from scoring import Settings, load_registered
from tests.helpers import use_store, wait_ready
from training import ConfigError, InsufficientData, load_config, load_dataset, train_and_register

runner = CliRunner()


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _flat_export(tmp_path: Path, rows: int = 800, seed: int = 0) -> Path:
    """A one-table export with a label and no timestamps; three columns share the signal."""
    rng = np.random.default_rng(seed)
    signals = rng.normal(size=(rows, 3))
    frame = pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(rows)],
            "segment": rng.choice(["smb", "mid", "ent"], rows),
            "fit_a": signals[:, 0].round(3),
            "fit_b": signals[:, 1].round(3),
            "fit_c": signals[:, 2].round(3),
            "visits": rng.poisson(3, rows),
            "converted": np.where(signals.sum(axis=1) + rng.normal(size=rows) > 1.5, "yes", "no"),
        }
    )
    frame.to_csv(tmp_path / "flat.csv", index=False)
    return _write(
        tmp_path / "flat.toml",
        '[leads]\npath = "flat.csv"\nid = "id"\n\n[outcome]\nlabel = "converted"\n',
    )


def test_config_errors_name_the_file_and_the_key(tmp_path: Path) -> None:
    bad = _write(
        tmp_path / "bad.toml", '[leads]\npath = "x.csv"\ncolour = "red"\n[outcome]\nlabel="y"\n'
    )
    with pytest.raises(ConfigError, match=r"bad.toml: \[leads\] colour: unknown key"):
        load_config(bad)
    both = _write(
        tmp_path / "both.toml", '[leads]\npath = "x.csv"\nurl = "sqlite://"\n[outcome]\nlabel="y"\n'
    )
    with pytest.raises(ConfigError, match="exactly one of path or url"):
        load_config(both)


def test_validation_reports_every_problem_with_row_and_column(tmp_path: Path) -> None:
    _write(
        tmp_path / "leads.csv",
        "id;age;job;y\n"
        "a;30;admin;yes\n"
        "b;41;admin;no;extra\n"  # line 3: one field too many
        "c;abc;tech;no\n"  # line 4: not a number
        "d;52;tech;\n"  # line 5: empty label
        "e;33;tech;maybe\n"  # line 6: not a label
        "a;35;tech;no\n",  # line 7: repeated id
    )
    config = _write(
        tmp_path / "c.toml",
        '[leads]\npath = "leads.csv"\nseparator = ";"\nid = "id"\nnumeric = ["age"]\n'
        '[outcome]\nlabel = "y"\n',
    )
    with pytest.raises(ValidationFailed) as failure:
        load_dataset(load_config(config))
    found = {(p.row, p.column) for p in failure.value.problems}
    assert found == {(3, None), (4, "age"), (5, "y"), (6, "y"), (7, "id")}
    assert failure.value.total == 5
    assert "row 4, column 'age': expected a number, got 'abc'" in str(failure.value)

    result = runner.invoke(app, ["validate", "--config", str(config)])
    assert result.exit_code == 1
    assert "row 3" in result.output and "5 problem(s)" in result.output


@pytest.mark.integration
def test_a_flat_export_without_order_gets_a_stratified_split_and_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_store: Settings
) -> None:
    config = _flat_export(tmp_path)
    use_store(monkeypatch, empty_store)
    result = runner.invoke(app, ["train", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "recent-data validation was not possible" in " ".join(result.output.split())
    assert "baseline_roc_auc" in result.output


def test_too_few_won_leads_refuses_to_train_and_registers_nothing(
    tmp_path: Path, empty_store: Settings
) -> None:
    config = _flat_export(tmp_path, rows=120)
    settings = empty_store
    with pytest.raises(InsufficientData, match="expected at least 40 won and 40 lost"):
        train_and_register(settings, config=load_config(config))
    assert MlflowClient(settings.mlflow_tracking_uri).search_registered_models() == []


def _demo_config(tmp_path: Path, demo_dir: Path) -> Path:
    text = (Path(__file__).parents[2] / "examples" / "demo.toml").read_text()
    return _write(tmp_path / "demo.toml", text.replace("../data/demo", str(demo_dir)))


@pytest.mark.integration
def test_audit_catches_the_planted_leaks_and_no_personal_value_reaches_any_artifact(
    tmp_path: Path, demo_dir: Path, empty_store: Settings
) -> None:
    """The demo as a user's own export, with nothing excluded and the personal columns even
    allowed: the audit still keeps them out, and not one of their values is stored anywhere."""
    personal = ["email", "phone", "full_name", "sales_notes"]
    text = _demo_config(tmp_path, demo_dir).read_text()
    config = load_config(
        _write(
            tmp_path / "own.toml",
            f"{text}\n[audit]\nallow = {personal!r}\n".replace("'", '"')
            + '[leads.aliases]\nNumberOfEmployees = "company_size"\n',
        )
    )
    assert config.leads.exclude == [] and config.audit.allow == personal
    result = train_and_register(empty_store, config=config)
    rules = {row["column"]: row["rules"] for row in result.audit.table()}
    assert "stamped_after_outcome" in rules["status_updated_at"]
    assert {"sales_status", "status_updated_at"} <= set(result.audit.excluded)
    assert set(personal) <= set(result.audit.excluded)
    names = result.trainer.scorer_.feature_set.names
    assert not set(names) & {"sales_status", *personal}
    assert "seniority" in names and "job_title" not in names  # parsed, named as the demo names it
    registered = load_registered(
        f"models:/demo-own-export/{result.registration.version}", empty_store.mlflow_tracking_uri
    ).scorer
    assert registered.aliases == {"NumberOfEmployees": "company_size"}  # travels in the model
    # The features the config declares are in the model, worded, and next steps come with it.
    assert {"buying_intent", "email_click_rate_30d"} <= set(names)
    lead = {"lead_id": "x", "created_at": "2026-03-01T09:00:00Z", "job_title": "VP Sales",
            "activities": [{"activity_type": "pricing_page_view",
                            "occurred_at": "2026-03-02T09:00:00Z"}]}  # fmt: skip
    (scored,) = registered.score_leads([lead], "2026-03-03T09:00:00Z", reasons=50)
    worded = {reason.feature: reason.sentence for reason in scored.reasons}
    # One pricing page view a day old: 0.6 x 0.5^(1/3)
    assert worded["buying_intent"] == "Buying intent is 0.48 (halves every 3 days)"
    assert registered.next_steps is not None
    assert {move.feature for move in registered.next_steps.moves} <= set(names)
    client = MlflowClient(empty_store.mlflow_tracking_uri)
    run = client.get_run(result.registration.run_id)
    assert "baseline_roc_auc" in run.data.metrics
    assert {"leakage_audit.json", "drift.json", "data_profile.json", "report.html"} <= {
        a.path for a in client.list_artifacts(run.info.run_id)
    }

    leads = pd.read_parquet(demo_dir / "leads.parquet")
    values = {column: set(leads[column].dropna().astype(str)) for column in personal}
    stored = [path for path in empty_store.mlflow_artifact_root.rglob("*") if path.is_file()]
    stored.append(Path(empty_store.mlflow_tracking_uri.removeprefix("sqlite:///")))  # params
    assert any(path.name == "input_example.json" for path in stored)
    assert any(path.name == "holdout_predictions.csv" for path in stored)
    sample = {column: sorted(found)[0] for column, found in values.items()}
    assert _personal_values_in(f"x,{sample['phone']};{sample['full_name']}", values)  # it can see
    for path in stored:
        leaked = _personal_values_in(path.read_bytes().decode("latin-1"), values)
        assert not leaked, f"{path.name} holds personal values such as {leaked[:2]}"
    assert not set(run.data.params.values()) & set().union(*values.values())


def _personal_values_in(content: str, values: dict[str, set[str]]) -> list[str]:
    """The demo's personal values found in `content`: emails and phones by their shape, names
    and note phrases by their text."""
    found = set(re.findall(r"[\w.+-]+@[\w.-]+", content)) & values["email"]
    found |= set(re.findall(r"\+1 555-\d{3}-\d{4}", content)) & values["phone"]
    found |= {name for name in values["full_name"] if name in content}
    found |= {note.split(";")[0] for note in values["sales_notes"] if note.split(";")[0] in content}
    return sorted(found)


@pytest.mark.integration
def test_allow_leaky_keeps_a_flagged_column(
    tmp_path: Path, demo_dir: Path, empty_store: Settings
) -> None:
    config = load_config(_demo_config(tmp_path, demo_dir))
    result = train_and_register(empty_store, config=config, allow_leaky=["sales_status"])
    assert "sales_status" in result.trainer.scorer_.feature_set.names
    assert "sales_status" not in result.audit.excluded


@pytest.mark.integration
def test_retrain_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_store: Settings
) -> None:
    config = _flat_export(tmp_path, rows=1500)
    store = use_store(monkeypatch, empty_store)
    first = runner.invoke(app, ["retrain", "--config", str(config)])
    assert first.exit_code == 0, first.output  # promoted: the first champion
    assert "PROMOTED" in first.output

    again = runner.invoke(app, ["retrain", "--config", str(config)])
    assert again.exit_code == 3, again.output  # idempotent: nothing new, the champion stays
    assert "already trained on exactly this data" in " ".join(again.output.split())
    client = MlflowClient(store)
    assert len(client.search_model_versions("name = 'lead-scoring'")) == 1

    weaker = _write(
        tmp_path / "weaker.toml",
        config.read_text().replace('id = "id"', 'id = "id"\nexclude = ["fit_a", "fit_b"]'),
    )
    kept = runner.invoke(app, ["retrain", "--config", str(weaker)])
    assert kept.exit_code == 3, kept.output  # trained, but the gate keeps the champion
    assert "CHAMPION KEPT" in kept.output

    broken = _write(
        tmp_path / "broken.toml", '[leads]\npath = "missing.csv"\n[outcome]\nlabel = "y"\n'
    )
    failed = runner.invoke(app, ["retrain", "--config", str(broken)])
    assert failed.exit_code == 1


@pytest.mark.integration
def test_rules_only_cold_start_serves_recommendations_without_a_score(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_store: Settings
) -> None:
    config = _flat_export(tmp_path, rows=60)
    policy = _write(
        tmp_path / "policy.toml",
        '[icp]\nrules = ["fit_a >= 0"]\n[exclusions]\nrules = ["segment == \'smb\'"]\n',
    )
    store = use_store(monkeypatch, empty_store)
    refused = runner.invoke(app, ["train", "--config", str(config)])
    assert refused.exit_code == 1 and "expected at least 40 won" in " ".join(refused.output.split())
    result = runner.invoke(
        app, ["train", "--config", str(config), "--rules-only", "--policy", str(policy)]
    )
    assert result.exit_code == 0, result.output

    from fastapi.testclient import TestClient

    from scoring import Settings
    from serving.app import create_app

    with TestClient(create_app(Settings(mlflow_tracking_uri=store, prediction_db=""))) as client:
        wait_ready(client)
        fit = client.post("/v1/score", json={"lead_id": "a", "fit_a": 1.0, "segment": "ent"})
        excluded = client.post("/v1/score", json={"lead_id": "b", "fit_a": 1.0, "segment": "smb"})
        unfit = client.post("/v1/score", json={"lead_id": "c", "fit_a": -1.0, "segment": "mid"})
        info = client.get("/v1/model").json()
    for response in (fit, excluded, unfit):
        body = response.json()
        assert response.status_code == 200, body
        assert body["score"] is None and body["probability"] is None and body["grade"] is None
        assert body["state"] == "insufficient_data" and "40" in body["state_reason"]
    assert fit.json()["recommendation"] == "SQL"
    assert excluded.json()["recommendation"] == "disqualified"
    assert unfit.json()["recommendation"] == "MQL"
    assert info["state"] == "insufficient_data"
    assert info["attribution"] == "none"


@pytest.mark.integration
def test_segment_models_route_leads_through_the_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_store: Settings
) -> None:
    rng = np.random.default_rng(3)
    rows = 2400
    signals = rng.normal(size=(rows, 3))
    segment = rng.choice(["smb", "mid", "ent"], rows, p=[0.48, 0.48, 0.04])
    # The segments convert differently: the same fit counts the other way for mid-market.
    direction = np.where(segment == "mid", -1.0, 1.0)
    logit = direction * signals[:, 0] + signals[:, 1] + signals[:, 2]
    frame = pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(rows)],
            "segment": segment,
            "fit_a": signals[:, 0].round(3),
            "fit_b": signals[:, 1].round(3),
            "fit_c": signals[:, 2].round(3),
            "converted": np.where(logit + rng.normal(size=rows) > 1.5, "yes", "no"),
        }
    )
    frame.to_csv(tmp_path / "segmented.csv", index=False)
    config = _write(
        tmp_path / "segmented.toml",
        '[leads]\npath = "segmented.csv"\nid = "id"\n[outcome]\nlabel = "converted"\n'
        '[training]\nsegment_by = "segment"\n',
    )
    store = use_store(monkeypatch, empty_store)
    result = runner.invoke(app, ["train", "--config", str(config)])
    assert result.exit_code == 0, result.output

    from fastapi.testclient import TestClient

    from scoring import Settings
    from serving.app import create_app

    lead = {"fit_a": 2.0, "fit_b": 0.5, "fit_c": 0.5}
    with TestClient(create_app(Settings(mlflow_tracking_uri=store, prediction_db=""))) as client:
        wait_ready(client)
        batch = client.post(
            "/v1/score/batch",
            json={"leads": [
                {**lead, "lead_id": "1", "segment": "smb"},
                {**lead, "lead_id": "2", "segment": "MID"},
                {**lead, "lead_id": "3", "segment": "ent"},
                {**lead, "lead_id": "4", "segment": "public sector"},
            ]},
        ).json()["scores"]  # fmt: skip
        info = client.get("/v1/model").json()
    assert [s["model"]["segment"] for s in batch] == ["smb", "mid", None, None]
    assert [s["lead_id"] for s in batch] == ["1", "2", "3", "4"]
    # The mid-market model learnt that a high fit_a lowers the odds there.
    assert batch[1]["probability"] < batch[0]["probability"]
    assert info["segment_by"] == "segment"
    assert set(info["segments"]) == {"mid", "smb"}
    assert all(m["roc_auc"] > 0.6 for m in info["segments"].values())
    client = MlflowClient(store)
    run = client.get_run(client.get_model_version_by_alias("lead-scoring", "champion").run_id)
    assert {"segment/smb/roc_auc", "segment/mid/roc_auc"} <= set(run.data.metrics)
    assert "segment/ent/roc_auc" not in run.data.metrics  # too few leads: the global model
