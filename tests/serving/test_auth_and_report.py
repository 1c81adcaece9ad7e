"""API keys and scopes, and the report route."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

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


def test_bad_key_configuration_fails_at_start_naming_the_variable_not_the_key() -> None:
    with pytest.raises(SettingsError, match="LEADSCORE_API_KEYS") as failure:
        load_settings(api_keys="secret-key-value:superuser")
    assert "secret-key-value" not in str(failure.value)
