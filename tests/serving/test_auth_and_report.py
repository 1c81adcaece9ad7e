"""API keys and scopes, and the report route."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from scoring import Settings, SettingsError, load_settings
from serving.app import create_app
from serving.schemas import EXAMPLE_LEAD
from tests.conftest import FittedModel
from training.report import render_report

SCORE_KEY, ADMIN_KEY = "score-key-123", "admin-key-456"


@pytest.fixture(scope="module")
def guarded(fitted: FittedModel) -> Iterator[TestClient]:
    settings = Settings(
        api_keys=f"{SCORE_KEY}:score,{ADMIN_KEY}:admin", prediction_db="", model_poll_seconds=0
    )
    page = render_report(fitted.trainer, fitted.dataset, model_name="lead-scoring", version="1")
    model = dataclasses.replace(fitted.loaded, report_html=page)
    with TestClient(create_app(settings, loaded=model)) as client:
        yield client


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    return body["error"]


def test_missing_or_wrong_key_is_401(guarded: TestClient) -> None:
    assert _error(guarded.post("/v1/score", json=EXAMPLE_LEAD), 401)["code"] == "unauthorized"
    wrong = guarded.post("/v1/score", json=EXAMPLE_LEAD, headers={"X-API-Key": "nope"})
    assert "unknown" in _error(wrong, 401)["message"]


def test_score_key_scores_but_cannot_read_the_report(guarded: TestClient) -> None:
    ok = guarded.post("/v1/score", json=EXAMPLE_LEAD, headers={"X-API-Key": SCORE_KEY})
    assert ok.status_code == 200
    bearer = guarded.get("/v1/model", headers={"Authorization": f"Bearer {SCORE_KEY}"})
    assert bearer.status_code == 200
    assert _error(guarded.get("/report", headers={"X-API-Key": SCORE_KEY}), 403)["code"] == (
        "forbidden"
    )


def test_admin_key_reads_the_report(guarded: TestClient) -> None:
    response = guarded.get("/report", headers={"X-API-Key": ADMIN_KEY})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "What drives conversion" in response.text
    assert guarded.get("/healthz").status_code == 200  # probes need no key


@pytest.mark.parametrize(
    "keys",
    ["secret-key-value:superuser", "secret-key-value:Admin", "secret-key-value", "", " ", ",",
     " , ", ":score", "secret-key-value:score,other-secret:"],
)  # fmt: skip
def test_blank_or_malformed_keys_fail_at_start_naming_the_variable_never_the_key(
    keys: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADSCORE_API_KEYS", keys)
    with pytest.raises(SettingsError, match="LEADSCORE_API_KEYS") as failure:
        load_settings()
    for secret in ("secret-key-value", "secret", "other-secret"):
        assert secret not in str(failure.value)


def test_a_blank_key_list_never_serves_a_public_address_without_auth(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A key list that parses to nothing used to mean "auth off" while the public-address guard
    saw a non-empty string."""
    from typer.testing import CliRunner

    from leadscore.cli import app

    monkeypatch.setenv("LEADSCORE_API_KEYS", " , ")
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "8999"])
    assert result.exit_code == 1
    assert "LEADSCORE_API_KEYS" in result.output
    assert "Traceback" not in result.output


def test_keys_from_a_file_with_several_keys_per_scope_for_rotation(
    tmp_path: Path, fitted: FittedModel
) -> None:
    path = tmp_path / "keys"
    path.write_text(
        f"# rotated monthly\nold-{SCORE_KEY}:score\n{SCORE_KEY}:score\n{ADMIN_KEY}:admin\n"
    )
    settings = load_settings(api_keys_file=path, prediction_db="", model_poll_seconds=0)
    assert sorted(settings.key_digests().values()) == ["admin", "score", "score"]
    app = create_app(settings, loaded=fitted.loaded)
    with TestClient(app) as client:
        for key in (f"old-{SCORE_KEY}", SCORE_KEY):
            assert client.get("/v1/model", headers={"X-API-Key": key}).status_code != 401
        assert client.get("/v1/model", headers={"X-API-Key": "nope"}).status_code == 401
    with pytest.raises(SettingsError, match="not both"):
        load_settings(api_keys_file=path, api_keys=f"{SCORE_KEY}:score")
    (tmp_path / "empty").write_text("# nothing yet\n")
    with pytest.raises(SettingsError, match="holds no key"):
        load_settings(api_keys_file=tmp_path / "empty")
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings(api_keys_file=tmp_path / "missing")
