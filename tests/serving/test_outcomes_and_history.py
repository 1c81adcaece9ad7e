"""Closing the loop over HTTP: outcomes in (idempotent), score history, trend and control."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from fastapi.testclient import TestClient

from scoring import Settings
from serving.app import create_app
from serving.predlog import OUTCOMES_TABLE
from serving.schemas import EXAMPLE_LEAD
from tests.conftest import FittedModel

SCORE_KEY, FEEDBACK_KEY, ADMIN_KEY = "loop-score-key", "loop-feedback-key", "loop-admin-key"
SCORE = {"X-API-Key": SCORE_KEY}
FEEDBACK = {"X-API-Key": FEEDBACK_KEY}
ADMIN = {"X-API-Key": ADMIN_KEY}
COLD = [{"activity_type": "web_visit", "occurred_at": "2026-11-20T09:05:00Z"}]
HOT = [
    *COLD,
    {"activity_type": "demo_request", "occurred_at": "2026-11-21T14:30:00Z"},
    {"activity_type": "meeting_booked", "occurred_at": "2026-11-22T10:00:00Z"},
    {"activity_type": "pricing_page_view", "occurred_at": "2026-11-22T10:05:00Z"},
]


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, Any] = {
        "prediction_db": f"sqlite:///{tmp_path / 'log.db'}",
        "prediction_spool": tmp_path / "spool.db",
        "secret_key": "loop-test-secret",
        "model_poll_seconds": 0,
        "api_keys": f"{SCORE_KEY}:score,{FEEDBACK_KEY}:feedback,{ADMIN_KEY}:admin",
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def app_client(fitted: FittedModel, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(tmp_path), loaded=fitted.loaded)) as client:
        yield client


def _rows(url: str, query: str) -> list[dict[str, Any]]:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(sqlalchemy.text(query))]
    except sqlalchemy.exc.OperationalError:  # the table is not made yet
        return []
    finally:
        engine.dispose()


def _shipped(url: str, query: str, count: int) -> list[dict[str, Any]]:
    """The rows once `count` of them reached the database (the shipper lingers 0.2 s)."""
    deadline = time.monotonic() + 10
    while True:
        rows = _rows(url, query)
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def _lead(lead_id: str, activities: list[dict[str, str]]) -> dict[str, Any]:
    return {**EXAMPLE_LEAD, "lead_id": lead_id, "activities": activities}


def test_outcomes_single_and_batch_are_kept_once_however_often_sent(
    app_client: TestClient, tmp_path: Path
) -> None:
    won = {
        "lead_id": "L-1",
        "status": "won",
        "closed_at": "2027-01-15T16:00:00Z",
        "stages": [{"stage": "sql", "at": "2026-11-26T15:30:00Z"}],
    }
    lost = {"lead_id": "L-2", "status": "lost", "closed_at": "2027-01-20T10:00:00+01:00"}
    sal = {"stage": "sal", "at": "2026-11-25T10:00:00Z"}
    stage_only = {"lead_id": "L-3", "status": "open", "stages": [sal]}
    first = app_client.post("/v1/outcomes", json=won, headers=FEEDBACK)
    assert first.status_code == 200, first.text
    assert first.json() == {"outcomes": 1, "events": 2}
    batch = {"outcomes": [won, lost, stage_only]}
    assert app_client.post("/v1/outcomes", json=batch, headers=FEEDBACK).json() == {
        "outcomes": 3,
        "events": 4,
    }
    # The same again, the lost one with its time written in UTC: nothing new is stored.
    same_lost = {**lost, "closed_at": "2027-01-20T09:00:00Z"}
    again = {"outcomes": [won, same_lost, stage_only]}
    assert app_client.post("/v1/outcomes", json=again, headers=ADMIN).status_code == 200
    url = f"sqlite:///{tmp_path / 'log.db'}"
    query = f"SELECT lead_id, event, occurred_at FROM {OUTCOMES_TABLE} ORDER BY lead_id, event"
    _shipped(url, query, 4)
    time.sleep(0.5)  # the repeats had their chance to be shipped too
    rows = _rows(url, query)
    assert [(r["lead_id"], r["event"]) for r in rows] == [
        ("L-1", "sql"),
        ("L-1", "won"),
        ("L-2", "lost"),
        ("L-3", "sal"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lead_id": "L-1", "status": "won"}, "closed_at"),
        ({"lead_id": "L-1", "status": "maybe", "closed_at": "2027-01-15T16:00:00Z"}, "status"),
        ({"lead_id": "L-1", "status": "open"}, "stages"),
        ({"status": "won", "closed_at": "2027-01-15T16:00:00Z"}, "lead_id"),
        ({"outcomes": [{"lead_id": "L-1", "status": "lost", "closed_at": "1750-01-01T00:00:00Z"}]},
         "outcomes[0].closed_at"),
        ({"lead_id": "L-1", "status": "won", "closed_at": "2027-01-15T16:00:00Z", "x": 1}, "x"),
    ],
)  # fmt: skip
def test_a_bad_outcome_is_a_422_naming_its_field(
    app_client: TestClient, body: dict[str, Any], field: str
) -> None:
    answer = app_client.post("/v1/outcomes", json=body, headers=FEEDBACK)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in (error["field"] or "") + error["message"], error


def test_outcomes_take_a_feedback_or_admin_key_and_scores_do_not(
    app_client: TestClient,
) -> None:
    outcome = {"lead_id": "L-9", "status": "lost", "closed_at": "2027-01-15T16:00:00Z"}
    assert app_client.post("/v1/outcomes", json=outcome).status_code == 401
    refused = app_client.post("/v1/outcomes", json=outcome, headers=SCORE)
    assert refused.status_code == 403
    assert "feedback scope" in refused.json()["error"]["message"]
    assert app_client.post("/v1/score", json=EXAMPLE_LEAD, headers=FEEDBACK).status_code == 403
    assert app_client.post("/v1/score", json=EXAMPLE_LEAD, headers=ADMIN).status_code == 200


def test_each_answer_carries_its_trend_against_the_previous_score(
    app_client: TestClient,
) -> None:
    def score(lead: dict[str, Any]) -> dict[str, Any]:
        answer = app_client.post("/v1/score", json=lead, headers=SCORE)
        assert answer.status_code == 200, answer.text
        return answer.json()

    first = score(_lead("L-trend", COLD))
    assert (first["trend"], first["previous_score"]) == ("not_enough_info", None)
    hot = score(_lead("L-trend", HOT))
    assert hot["previous_score"] == first["score"]
    assert hot["score"] - first["score"] >= 5  # the demo request and meeting lift it
    assert hot["trend"] == "improving"
    steady = score(_lead("L-trend", HOT))
    assert (steady["trend"], steady["previous_score"]) == ("steady", hot["score"])
    cold = score(_lead("L-trend", COLD))
    assert cold["trend"] == "declining"
    anonymous = score({k: v for k, v in EXAMPLE_LEAD.items() if k != "lead_id"})
    assert anonymous["trend"] == "not_enough_info"
    # In a batch, the same lead twice: the second is compared with the first.
    batch = app_client.post(
        "/v1/score/batch",
        json={"leads": [_lead("L-batch", COLD), _lead("L-batch", HOT)]},
        headers=SCORE,
    ).json()["scores"]
    assert [entry["trend"] for entry in batch] == ["not_enough_info", "improving"]


def test_the_history_route_lists_a_leads_scores_newest_first(app_client: TestClient) -> None:
    email = "Jane.Doe@Acme.example"
    for activities in (COLD, HOT, HOT):
        app_client.post("/v1/score", json=_lead(email, activities), headers=SCORE)
    # The spool's rows count at once, before they reach the database.
    history = app_client.get(f"/v1/leads/{email.lower()}/scores", headers=SCORE)
    assert history.status_code == 200, history.text
    body = history.json()
    assert body["lead_id"] == email.lower()
    entries = body["scores"]
    assert [e["trend"] for e in entries] == ["steady", "improving", "not_enough_info"]
    assert entries[0]["score"] > entries[2]["score"]
    assert {e["model_name"] for e in entries} == {"lead-scoring"}
    assert all(e["recommendation"] in ("SQL", "MQL", "nurture", "disqualified") for e in entries)
    time.sleep(0.6)  # shipped to the database by now: the same three, once each
    later = app_client.get(f"/v1/leads/{email}/scores", headers=SCORE).json()["scores"]
    assert later == entries, later
    limited = app_client.get(f"/v1/leads/{email}/scores?limit=1", headers=SCORE).json()
    assert limited["scores"] == entries[:1]
    unknown = app_client.get("/v1/leads/never-scored/scores", headers=SCORE)
    assert unknown.status_code == 200 and unknown.json()["scores"] == []
    assert app_client.get("/v1/leads/L-1/scores?limit=0", headers=SCORE).status_code == 422
    assert app_client.get("/v1/leads/L-1/scores", headers=FEEDBACK).status_code == 403


def test_history_says_503_while_its_database_is_away(fitted: FittedModel, tmp_path: Path) -> None:
    settings = _settings(tmp_path, prediction_db=f"sqlite:///{tmp_path / 'missing' / 'log.db'}")
    with TestClient(create_app(settings, loaded=fitted.loaded)) as client:
        assert client.post("/v1/score", json=EXAMPLE_LEAD, headers=SCORE).status_code == 200
        answer = client.get("/v1/leads/L-1001/scores", headers=SCORE)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "prediction_log_unreachable"


def test_routes_that_read_the_log_say_so_when_it_is_off(
    fitted: FittedModel, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, prediction_db="")
    outcome = {"lead_id": "L-9", "status": "lost", "closed_at": "2027-01-15T16:00:00Z"}
    with TestClient(create_app(settings, loaded=fitted.loaded)) as client:
        answers = [
            client.post("/v1/outcomes", json=outcome, headers=ADMIN),
            client.get("/v1/leads/L-9/scores", headers=ADMIN),
            client.get("/v1/performance", headers=ADMIN),
        ]
    assert [(a.status_code, a.json()["error"]["code"]) for a in answers] == [
        (503, "prediction_log_off")
    ] * 3


def test_a_control_share_answers_control_leads_the_fixed_recommendation(
    fitted: FittedModel, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, control_share=0.5, control_recommendation="nurture")
    leads = [_lead(f"L-{i}", HOT) for i in range(200)]
    with TestClient(create_app(settings, loaded=fitted.loaded)) as client:
        first = client.post("/v1/score/batch", json={"leads": leads}, headers=SCORE).json()
        again = client.post("/v1/score/batch", json={"leads": leads}, headers=SCORE).json()
    controls = [entry["control"] for entry in first["scores"]]
    assert 60 < sum(controls) < 140  # about half, drawn from each lead's id
    assert controls == [entry["control"] for entry in again["scores"]]  # the same leads
    for entry in first["scores"]:
        if entry["control"]:
            assert entry["recommendation"] == "nurture"
            assert entry["recommendation_reason"].startswith("Control group (50% of leads")
    url = f"sqlite:///{tmp_path / 'log.db'}"
    rows = _shipped(url, "SELECT * FROM predictions", 400)
    logged = {(r["lead_id"], bool(r["control"])) for r in rows}
    assert logged == {(e["lead_id"], e["control"]) for e in first["scores"]}
    for found in rows:
        if found["control"]:
            assert found["recommendation"] == "nurture"
            assert found["policy_recommendation"] in ("SQL", "MQL", "nurture", "disqualified")
        else:
            assert found["recommendation"] == found["policy_recommendation"]
        assert found["source"] == EXAMPLE_LEAD["source"]
        assert found["campaign"] == EXAMPLE_LEAD["campaign"]
        assert found["as_of"] is not None and found["grade"] in ("A", "B", "C", "D")


def test_performance_counts_the_funnel_of_what_was_scored_and_what_came_of_it(
    app_client: TestClient, tmp_path: Path
) -> None:
    leads = [_lead(f"P-{i}", HOT if i % 2 else COLD) for i in range(40)]
    scored = app_client.post("/v1/score/batch", json={"leads": leads}, headers=SCORE).json()
    calls = [entry["recommendation"] for entry in scored["scores"]]
    outcomes = [
        {"lead_id": f"P-{i}", "status": "won" if i % 4 == 1 else "lost",
         "closed_at": "2027-01-15T16:00:00Z"}
        for i in range(30)
    ]  # fmt: skip
    accepted = {"stage": "sal", "at": "2026-11-25T10:00:00Z"}
    stages = [{"lead_id": "P-1", "status": "open", "stages": [accepted]}]
    app_client.post("/v1/outcomes", json={"outcomes": outcomes}, headers=FEEDBACK)
    app_client.post("/v1/outcomes", json={"outcomes": stages}, headers=FEEDBACK)
    url = f"sqlite:///{tmp_path / 'log.db'}"
    _shipped(url, f"SELECT * FROM {OUTCOMES_TABLE}", 31)
    _shipped(url, "SELECT * FROM predictions", 40)
    answer = app_client.get("/v1/performance?weeks=520", headers=SCORE)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    funnel = report["overall"]["funnel"]
    assert funnel["scored"] == 40
    assert (funnel["won"], funnel["lost"], funnel["open"]) == (8, 22, 10)
    assert funnel["sql"] == calls.count("SQL")
    assert funnel["mql"] == calls.count("SQL") + calls.count("MQL")
    assert funnel["sales_accepted"] == 1
    realised = report["overall"]["realised"]
    assert realised["known"] == 30
    assert 0.5 < realised["auc"]["value"] <= 1  # the won ones are the hot ones
    assert [row["source"] for row in report["by_source"]] == ["referral"]
    assert report["by_model_version"][0]["model_version"] == "1"
    assert report["overall"]["expected_wins_open"] > 0
    assert set(report["drift"]) == {"last_check", "alerts"}
    assert app_client.get("/v1/performance", headers=FEEDBACK).status_code == 403
    assert app_client.get("/v1/performance?weeks=0", headers=SCORE).status_code == 422
