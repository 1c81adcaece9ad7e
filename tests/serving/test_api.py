"""The HTTP API against a model really trained on generated data."""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from scoring import LeadScorer, Settings
from serving.app import create_app
from serving.schemas import EXAMPLE_LEAD, BatchResponse, Score
from tests.conftest import FittedModel

NO_LOG = {"prediction_db": "", "model_poll_seconds": 0}
ROOT = Path(__file__).parents[2]
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def _at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


IDEAL = {
    "lead_id": "ideal",
    "created_at": _at(3),
    "source": "referral",
    "campaign": "customer-referral",
    "country": "US",
    "industry": "Software",
    "company_size": 300,
    "job_title": "VP of Marketing",
    "email_domain": "acme.example",
    "activities": [
        {"activity_type": "pricing_page_view", "occurred_at": _at(3)},
        {"activity_type": "demo_request", "occurred_at": _at(2)},
    ],
    "as_of": NOW.isoformat(),
}
COLD = {
    "lead_id": "cold",
    "created_at": _at(3),
    "source": "purchased_list",
    "campaign": "list-q3",
    "country": "IN",
    "industry": "Nonprofit",
    "company_size": 4,
    "job_title": "Student",
    "email_domain": "gmail.com",
    "activities": [{"activity_type": "email_open", "occurred_at": _at(3)}],
    "as_of": NOW.isoformat(),
}


def _assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "field"}
    assert error["message"]
    if field is not None:
        assert error["field"] == field
    return error


def test_score_returns_every_field(client: TestClient) -> None:
    response = client.post("/v1/score", json=EXAMPLE_LEAD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["lead_id"] == EXAMPLE_LEAD["lead_id"]
    assert isinstance(body["score"], int) and 0 <= body["score"] <= 100
    assert 0 <= body["probability"] <= 1
    assert body["score"] == round(body["probability"] * 100)
    assert body["grade"] in {"A", "B", "C", "D"}
    assert body["recommendation"] in {"SQL", "MQL", "nurture", "disqualified"}
    assert len(body["reasons"]) == 5
    assert set(body["reasons"][0]) == {
        "feature", "description", "value", "contribution", "direction", "sentence"
    }  # fmt: skip
    assert body["model"]["name"] == "lead-scoring" and body["model"]["version"] == "1"


def test_answers_hold_to_the_documented_response_models(client: TestClient) -> None:
    """Answers skip response-model validation for speed, so the schema is checked here."""
    for reasons in (0, 5, 50):
        body = client.post(f"/v1/score?reasons={reasons}", json=IDEAL).json()
        assert Score.model_validate(body).model_dump(mode="json") == body
    batch = client.post("/v1/score/batch", json={"leads": [IDEAL, COLD, {}]}).json()
    assert BatchResponse.model_validate(batch).model_dump(mode="json") == batch
    spec = client.get("/openapi.json").json()
    answer = spec["paths"]["/v1/score"]["post"]["responses"]["200"]["content"]
    assert answer["application/json"]["schema"] == {"$ref": "#/components/schemas/Score"}


def test_ideal_lead_with_a_recent_demo_request_beats_a_cold_poor_fit_lead(
    client: TestClient,
) -> None:
    ideal = client.post("/v1/score?reasons=50", json=IDEAL).json()
    cold = client.post("/v1/score", json=COLD).json()
    assert ideal["score"] > cold["score"]
    assert ideal["recommendation"] != "disqualified"
    assert cold["recommendation"] == "disqualified"
    demo = [r for r in ideal["reasons"] if r["feature"] == "days_since_last_demo_request"]
    assert demo and demo[0]["direction"] == "up"


def test_batch_keeps_the_order_of_the_leads(client: TestClient) -> None:
    leads = [COLD, IDEAL, {**COLD, "lead_id": "cold-2"}]
    response = client.post("/v1/score/batch", json={"leads": leads})
    assert response.status_code == 200
    scores = response.json()["scores"]
    assert [s["lead_id"] for s in scores] == ["cold", "ideal", "cold-2"]
    single = client.post("/v1/score", json=IDEAL).json()
    assert scores[1]["probability"] == single["probability"]


def test_reasons_can_be_limited_or_turned_off(client: TestClient) -> None:
    assert len(client.post("/v1/score?reasons=2", json=IDEAL).json()["reasons"]) == 2
    assert client.post("/v1/score?reasons=0", json=IDEAL).json()["reasons"] == []


def test_model_info_shows_holdout_metrics_and_thresholds(
    client: TestClient, fitted: FittedModel
) -> None:
    body = client.get("/v1/model").json()
    assert body["name"] == "lead-scoring" and body["version"] == "1"
    assert body["metrics"]["roc_auc"] == fitted.trainer.metrics_["roc_auc"]
    assert body["thresholds"]["sql_threshold"] >= body["thresholds"]["mql_threshold"]
    assert body["trained_at"]
    assert {f["group"] for f in body["features"]} == {"fit", "engagement", "source"}
    assert body["attribution"] == "treeshap-tables"


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["model"]["version"] == "1"


def test_bad_input_is_a_422_that_names_the_field(client: TestClient) -> None:
    response = client.post("/v1/score", json={**IDEAL, "company_size": "lots"})
    _assert_error(response, 422, "company_size")
    bad_time = {**IDEAL, "activities": [{"activity_type": "web_visit", "occurred_at": "soon"}]}
    _assert_error(client.post("/v1/score", json=bad_time), 422, "activities[0].occurred_at")
    _assert_error(client.post("/v1/score?reasons=-1", json=IDEAL), 422, "reasons")
    batch = {"leads": [IDEAL, {**IDEAL, "company_size": -5}]}
    _assert_error(
        client.post("/v1/score/batch?all_or_nothing=true", json=batch), 422, "leads[1].company_size"
    )


def test_a_batch_answers_each_lead_a_score_or_its_own_error(client: TestClient) -> None:
    """One bad lead used to fail all of them, with only the first error told."""
    leads = [
        {**IDEAL, "lead_id": 7},
        {**IDEAL, "lead_id": "bad-size", "company_size": "lots"},
        "not a lead",
        {**COLD, "lead_id": "bad-time", "as_of": "0001-01-01T00:00:00+05:00"},
        {**COLD, "lead_id": "ok"},
    ]
    response = client.post("/v1/score/batch", json={"leads": leads})
    assert response.status_code == 200
    scores = response.json()["scores"]
    BatchResponse.model_validate(response.json())
    assert len(scores) == 5
    assert scores[0]["lead_id"] == "7" and scores[0]["score"] is not None
    assert scores[1] == {
        "index": 1,
        "lead_id": "bad-size",
        "error": {
            "code": "invalid_request",
            "message": "leads[1].company_size: Input should be a valid number",
            "field": "leads[1].company_size",
        },
    }
    assert scores[2]["index"] == 2 and scores[2]["error"]["field"] == "leads[2]"
    assert scores[3]["error"]["field"] == "leads[3].as_of"
    assert "1900 to 2199" in scores[3]["error"]["message"]
    assert scores[4]["lead_id"] == "ok" and "error" not in scores[4]


def test_batch_over_the_limit_is_413(fitted: FittedModel) -> None:
    settings = Settings(max_batch_leads=2, **NO_LOG)
    with TestClient(create_app(settings, loaded=fitted.loaded)) as small:
        error = _assert_error(
            small.post("/v1/score/batch", json={"leads": [COLD] * 3}), 413, "leads"
        )
        assert "at most 2" in error["message"]


def test_too_many_activities_is_422_naming_the_lead(fitted: FittedModel) -> None:
    settings = Settings(max_activities_per_lead=2, **NO_LOG)
    busy = {**IDEAL, "activities": [IDEAL["activities"][0]] * 3}
    with TestClient(create_app(settings, loaded=fitted.loaded)) as capped:
        error = _assert_error(capped.post("/v1/score", json=busy), 422, "activities")
        assert error["code"] == "too_many_activities" and "at most 2" in error["message"]
        batch = capped.post("/v1/score/batch", json={"leads": [COLD, busy]}).json()["scores"]
        assert batch[1]["error"]["field"] == "leads[1].activities"
        assert batch[1]["error"]["code"] == "too_many_activities" and "score" in batch[0]
        assert capped.post("/v1/score", json=COLD).status_code == 200


def test_without_a_model_the_server_is_alive_but_not_ready(empty_store: Settings) -> None:
    with TestClient(create_app(empty_store.model_copy(update=NO_LOG))) as empty:
        assert empty.get("/healthz").status_code == 200
        _assert_error(empty.get("/readyz"), 503)
        error = _assert_error(empty.post("/v1/score", json=IDEAL), 503)
        assert "leadscore train" in error["message"]
        assert error["code"] == "model_unavailable"


def test_openapi_documents_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/score" in spec["paths"] and "/v1/score/batch" in spec["paths"]
    assert spec["components"]["schemas"]["Lead"]["examples"][0]["lead_id"] == "L-1001"
    for path, body, parameters in (
        ("/v1/score", "Lead", ["reasons", "next_steps", "strict"]),
        ("/v1/score/batch", "BatchRequest", ["reasons", "next_steps", "strict", "all_or_nothing"]),
    ):
        operation = spec["paths"][path]["post"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{body}"}
        assert [p["name"] for p in operation["parameters"]] == parameters
    assert "Activity" in spec["components"]["schemas"]


def test_reasons_speak_plainly_and_groups_add_up(client: TestClient) -> None:
    body = client.post("/v1/score?reasons=50", json=IDEAL).json()
    demo = next(r for r in body["reasons"] if r["feature"] == "days_since_last_demo_request")
    assert demo["sentence"] == "Requested a demo 2 days ago"
    assert all(
        r["direction"] == ("up" if r["contribution"] > 0 else "down") for r in body["reasons"]
    )
    all_reasons = client.post("/v1/score?reasons=50", json=IDEAL).json()
    total = sum(r["contribution"] for r in all_reasons["reasons"])
    groups = (
        body["fit_score"] + body["engagement_score"] + body["source_score"] + body["account_score"]
    )
    assert abs(total - groups) < 1e-9
    assert demo["contribution"] > 0  # a demo request two days ago pushes up
    assert client.post("/v1/score?reasons=0", json=IDEAL).json()["fit_score"] is None


def test_an_unexpected_error_is_a_500_in_the_error_shape_and_counted(
    fitted: FittedModel,
) -> None:
    scorer = copy.copy(fitted.trainer.scorer_)  # the session's own model stays as it is

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug in the scorer")

    scorer.score_leads = broken  # type: ignore[method-assign]
    model = dataclasses.replace(fitted.loaded, scorer=scorer)
    with TestClient(
        create_app(Settings(**NO_LOG), loaded=model), raise_server_exceptions=False
    ) as http:
        response = http.post("/v1/score", json=IDEAL)
        batch = http.post("/v1/score/batch", json={"leads": [IDEAL]})
        metrics = http.get("/metrics").text
    for answer in (response, batch):
        error = _assert_error(answer, 500)
        assert error["code"] == "internal_error"
        request_id = answer.headers["X-Request-ID"]
        assert request_id in error["message"] and "a bug" not in error["message"]
    assert 'leadscore_requests_total{route="/v1/score",status="500"} 1.0' in metrics
    assert 'leadscore_requests_total{route="/v1/score/batch",status="500"} 1.0' in metrics


def test_an_answer_says_what_it_could_not_use(client: TestClient) -> None:
    lead = {
        **IDEAL,
        "industry": "Finance",  # the model knows "financial services", not "finance"
        "compnay_size": 40,  # a typo of company_size
        "activities": [
            *IDEAL["activities"],
            {
                "activity_type": "demo_request",
                "occurred_at": (NOW + timedelta(hours=1)).isoformat(),
            },
            {"activity_type": "webinar_signup", "occurred_at": _at(1)},
        ],
    }
    del lead["country"]
    body = client.post("/v1/score?reasons=50", json=lead).json()
    assert body["warnings"] == [
        "compnay_size is not a field the model reads: not used; did you mean 'company_size'?",
        "country was not sent: scored as unknown",
        "1 activity is dated after as_of (now, unless given): not used",
        "activity type 'webinar_signup' is unknown to the model: 1 not used",
        "industry 'finance' is new to the model: scored as unknown",
    ]
    Score.model_validate(body)
    [industry] = [r for r in body["reasons"] if r["feature"] == "industry"]
    assert industry["sentence"] == "Industry 'finance' is new to the model (scored as unknown)"
    clean = client.post("/v1/score", json=IDEAL).json()
    assert clean["warnings"] == []

    refused = client.post("/v1/score?strict=true", json=lead)
    error = _assert_error(refused, 422)
    assert error["code"] == "unused_input" and "compnay_size" in error["message"]
    batch = client.post("/v1/score/batch?strict=true", json={"leads": [IDEAL, lead]})
    assert batch.json()["scores"][1]["error"]["code"] == "unused_input"
    whole = client.post(
        "/v1/score/batch?strict=true&all_or_nothing=true", json={"leads": [IDEAL, lead]}
    )
    assert _assert_error(whole, 422, "leads[1]")["code"] == "unused_input"
    assert client.post("/v1/score?strict=true", json=IDEAL).status_code == 200
    _assert_error(client.post("/v1/score?strict=maybe", json=IDEAL), 422, "strict")


def test_a_salesforce_lead_is_read_through_the_shipped_map(fitted: FittedModel) -> None:
    shipped = tomllib.loads((ROOT / "examples" / "aliases" / "salesforce.toml").read_text())
    aliases = shipped["leads"]["aliases"]
    scorer = fitted.trainer.scorer_
    mapped = LeadScorer(
        scorer.feature_set, scorer.encoder, scorer.booster, scorer.calibrator, scorer.policy,
        {**scorer.metadata, "aliases": aliases},
    )  # fmt: skip
    loaded = dataclasses.replace(fitted.loaded, scorer=mapped)
    salesforce = {
        "Id": "00Q5e00000AbCdE", "CreatedDate": IDEAL["created_at"], "LeadSource": "referral",
        "Country": "US", "Industry": "Software", "NumberOfEmployees": 300,
        "Title": "VP of Marketing", "Email": "jane@acme.example", "campaign": "customer-referral",
        "activities": IDEAL["activities"], "as_of": IDEAL["as_of"],
    }  # fmt: skip
    with TestClient(create_app(Settings(**NO_LOG), loaded=loaded)) as mapped_client:
        answer = mapped_client.post("/v1/score", json=salesforce).json()
        plain = mapped_client.post("/v1/score", json=IDEAL).json()
    assert answer["lead_id"] == "00Q5e00000AbCdE"
    assert answer["warnings"] == []
    assert answer["score"] == plain["score"] and answer["recommendation"] == plain["recommendation"]
