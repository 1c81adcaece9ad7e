"""API keys and scopes, and the report route."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.schemas import EXAMPLE_LEAD
from tests.conftest import TrainedModel

SCORE_KEY, ADMIN_KEY = "score-key-123", "admin-key-456"


@pytest.fixture(scope="module")
def guarded(trained: TrainedModel) -> Iterator[TestClient]:
    settings = trained.serving_settings.model_copy(
        update={"api_keys": f"{SCORE_KEY}:score,{ADMIN_KEY}:admin"}
    )
    with TestClient(create_app(settings)) as client:
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


def test_bad_key_configuration_fails_at_start_naming_the_variable() -> None:
    from serving.settings import Settings

    with pytest.raises(ValueError, match="LEADSCORE_API_KEYS"):
        Settings(api_keys="abc:superuser")
