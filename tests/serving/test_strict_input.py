"""Strict, documented input: every malformed request is a 4xx in the one error shape, never a
500 (six hand-crafted requests used to answer 500 in plain text, uncounted by /metrics)."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from serving.schemas import EXAMPLE_LEAD

JSON = {"content-type": "application/json"}


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    return body["error"]


def _post(client: TestClient, body: bytes, path: str = "/v1/score", **headers: str):
    return client.post(path, content=body, headers={**JSON, **headers})


@pytest.mark.parametrize(
    "as_of",
    ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00Z",
     "9999-12-31T23:59:59Z", "1899-12-31T23:59:59Z", "2200-01-01T00:00:00+00:00"],
)  # fmt: skip
def test_dates_at_the_limits_of_python_are_refused_with_422(client: TestClient, as_of: str) -> None:
    lead = {**EXAMPLE_LEAD, "as_of": as_of}
    error = _error(client.post("/v1/score", json=lead), 422)
    assert error["field"] == "as_of" and "1900 to 2199" in error["message"]
    activity = {"activity_type": "web_visit", "occurred_at": as_of}
    error = _error(client.post("/v1/score", json={**EXAMPLE_LEAD, "activities": [activity]}), 422)
    assert error["field"] == "activities[0].occurred_at"


def test_a_date_with_any_offset_inside_the_range_is_scored(client: TestClient) -> None:
    for as_of in ("2026-11-23T12:00:00+14:00", "2026-11-23T12:00:00-12:00", "2026-11-23T12:00"):
        assert client.post("/v1/score", json={**EXAMPLE_LEAD, "as_of": as_of}).status_code == 200


@pytest.mark.parametrize("reasons", ["²", "٣", "5" * 5000, "-1", "51", "1.5", " 3", "3 "])
def test_reasons_takes_ascii_digits_within_bounds(client: TestClient, reasons: str) -> None:
    error = _error(client.post("/v1/score", params={"reasons": reasons}, json=EXAMPLE_LEAD), 422)
    assert error["field"] == "reasons" and len(error["message"]) < 200


@pytest.mark.parametrize(
    ("value", "message"),
    [(b"Infinity", "expected JSON"), (b"NaN", "expected JSON"), (b"1e309", "expected JSON"),
     (b"true", "valid number"), (b'"250"', "valid number"), (b"-3", "greater than or equal")],
)  # fmt: skip
def test_company_size_is_a_finite_json_number(
    client: TestClient, value: bytes, message: str
) -> None:
    body = orjson.dumps(EXAMPLE_LEAD)[:-1] + b', "company_size": ' + value + b"}"
    body = body.replace(b'"company_size":250,', b"")
    assert _error(_post(client, body), 422)["message"].find(message) >= 0


def test_the_body_must_be_declared_json(client: TestClient) -> None:
    body = orjson.dumps(EXAMPLE_LEAD)
    for kind in ("text/plain", "application/x-www-form-urlencoded", ""):
        response = client.post("/v1/score", content=body, headers={"content-type": kind})
        assert _error(response, 415)["code"] == "unsupported_media_type"
    assert _post(client, body, **{"content-type": "application/json; charset=utf-8"}).is_success
    batch = client.post("/v1/score/batch", content=orjson.dumps({"leads": [EXAMPLE_LEAD]}))
    assert _error(batch, 415)["code"] == "unsupported_media_type"


def test_a_repeated_key_is_refused_not_settled_by_the_parser(client: TestClient) -> None:
    body = b'{"lead_id": "L-1", "company_size": 10, "company_size": 5000}'
    error = _error(_post(client, body), 422)
    assert error["field"] == "company_size" and "twice" in error["message"]
    nested = b'{"leads": [{"activities": [{"activity_type": "a", "activity_type": "b", ' \
        b'"occurred_at": "2026-11-20T09:00:00Z"}]}]}'  # fmt: skip
    assert _error(_post(client, nested, "/v1/score/batch"), 422)["field"] == "activity_type"
    # A text that holds a quote and a colon is not a repeated key.
    quoted = orjson.dumps({**EXAMPLE_LEAD, "job_title": 'VP "Sales": EMEA'})
    assert _post(client, quoted).status_code == 200


def test_extra_fields_are_bounded_in_size_and_number(client: TestClient) -> None:
    huge = _error(client.post("/v1/score", json={**EXAMPLE_LEAD, "notes": "x" * 4_500_000}), 422)
    assert huge["field"] == "notes"  # it used to be accepted, whatever its size
    over = _error(client.post("/v1/score", json={**EXAMPLE_LEAD, "notes": "x" * 6_000_000}), 413)
    assert over["code"] == "body_too_large"
    long = _error(client.post("/v1/score", json={**EXAMPLE_LEAD, "notes": "x" * 1001}), 422)
    assert long["field"] == "notes"
    nested = _error(client.post("/v1/score", json={**EXAMPLE_LEAD, "notes": {"a": 1}}), 422)
    assert nested["field"] == "notes"
    many = {**EXAMPLE_LEAD, **{f"custom_{i}": i for i in range(101)}}
    assert "at most 100 extra fields" in _error(client.post("/v1/score", json=many), 422)["message"]
    fine = {**EXAMPLE_LEAD, "notes": "x" * 1000, "score_in_crm": 7, "vip": True, "gone": None}
    assert client.post("/v1/score", json=fine).status_code == 200


def test_lead_ids_may_be_strings_or_integers(client: TestClient) -> None:
    assert client.post("/v1/score", json={**EXAMPLE_LEAD, "lead_id": 1001}).json()["lead_id"] == (
        "1001"
    )
    for bad in (True, 1.5, "", "x" * 201):
        error = _error(client.post("/v1/score", json={**EXAMPLE_LEAD, "lead_id": bad}), 422)
        assert error["field"] == "lead_id"


def test_a_bad_lead_inside_a_batch_is_its_own_error_and_is_counted(client: TestClient) -> None:
    leads = [
        EXAMPLE_LEAD,
        {**EXAMPLE_LEAD, "as_of": "9999-12-31T23:59:59-05:00"},
        {**EXAMPLE_LEAD, "company_size": True},
        {
            **EXAMPLE_LEAD,
            "activities": [{"activity_type": "x", "occurred_at": "0001-01-01T00:00:00+01:00"}],
        },
    ]
    before = _counted(client, "invalid_request")
    scores = client.post("/v1/score/batch", json={"leads": leads}).json()["scores"]
    assert "score" in scores[0]
    assert [s["error"]["field"] for s in scores[1:]] == [
        "leads[1].as_of", "leads[2].company_size", "leads[3].activities[0].occurred_at"
    ]  # fmt: skip
    assert _counted(client, "invalid_request") == before + 3
    assert 'leadscore_requests_total{route="/v1/score/batch",status="200"}' in _metrics(client)


def test_a_body_that_is_not_json_or_not_a_lead_is_a_422(client: TestClient) -> None:
    for body in (b"", b"{", b"[]", b'"lead"', b"null", b"\xff\xfe"):
        assert _error(_post(client, body), 422)["code"] == "invalid_request"
    for body in (b"{}", b'{"leads": {}}', b'{"leads": "x"}', b"[1]"):
        assert _error(_post(client, body, "/v1/score/batch"), 422)["code"] == "invalid_request"


def _metrics(client: TestClient) -> str:
    return client.get("/metrics").text


def _counted(client: TestClient, code: str) -> float:
    for line in _metrics(client).splitlines():
        if line.startswith(f'leadscore_lead_errors_total{{code="{code}"}}'):
            return float(line.split()[-1])
    return 0.0


def test_an_unknown_query_parameter_is_refused_not_dropped(client: TestClient) -> None:
    error = _error(client.post("/v1/score?strcit=true", json=EXAMPLE_LEAD), 422)
    assert error["field"] == "strcit" and "reasons, strict" in error["message"]
    batch = client.post("/v1/score/batch?all_or_nothing=true", json={"leads": [EXAMPLE_LEAD]})
    assert batch.status_code == 200
    single = client.post("/v1/score?all_or_nothing=true", json=EXAMPLE_LEAD)
    assert _error(single, 422)["field"] == "all_or_nothing"


def test_company_size_is_bounded(client: TestClient) -> None:
    error = _error(client.post("/v1/score", json={**EXAMPLE_LEAD, "company_size": 1.35e308}), 422)
    assert error["field"] == "company_size"
    assert client.post("/v1/score", json={**EXAMPLE_LEAD, "company_size": 2_100_000}).is_success
