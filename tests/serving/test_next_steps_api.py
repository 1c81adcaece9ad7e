"""Next steps over HTTP: in every answer below SQL, as many as asked, off with 0, a clear 422
for a bad count, and each one what the model gives the moved lead."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from scoring.next_steps import RANK
from serving.schemas import Score

FIELDS = ("lead_id", "created_at", "source", "campaign", "country", "industry", "company_size",
          "job_title", "email_domain")  # fmt: skip


@pytest.fixture(scope="module")
def leads(fitted) -> list[dict]:
    """The demo's own leads as a CRM would send them, a week after creation: many are MQLs a
    move or two from SQL."""
    table = pd.read_parquet(fitted.data_dir / "leads.parquet").head(200)
    events = pd.read_parquet(fitted.data_dir / "activities.parquet")
    events = events[events["lead_id"].isin(table["lead_id"])]
    by_lead = {key: group for key, group in events.groupby("lead_id")}
    payloads = []
    for record in table[list(FIELDS)].astype(object).to_dict("records"):
        as_of = record["created_at"] + timedelta(days=7)
        mine = by_lead.get(record["lead_id"])
        activities = [] if mine is None else [
            {"activity_type": kind, "occurred_at": moment.isoformat()}
            for kind, moment in zip(mine["activity_type"], mine["occurred_at"], strict=True)
            if moment <= as_of
        ]  # fmt: skip
        payloads.append(
            {
                **{k: (None if pd.isna(v) else v) for k, v in record.items()},
                "created_at": record["created_at"].isoformat(),
                "activities": activities,
                "as_of": as_of.isoformat(),
            }
        )
    return payloads


def test_answers_below_sql_carry_next_steps_as_asked(client: TestClient, leads) -> None:
    body = client.post("/v1/score/batch?next_steps=2", json={"leads": leads}).json()
    answers = body["scores"]
    stepped = [a for a in answers if a["next_steps"]]
    assert stepped, "some of these warm leads should be a move or two from the next line"
    for answer in answers:
        Score.model_validate(answer)
        assert len(answer["next_steps"]) <= 2
        if answer["recommendation"] == "SQL":
            assert answer["next_steps"] == []
        for step in answer["next_steps"]:
            assert RANK[step["recommendation"]] > RANK[answer["recommendation"]]
            assert step["score"] > answer["score"]
            assert f"the model expects a score of {step['score']}" in step["sentence"]
            assert 1 <= len(step["moves"]) <= 2


def test_zero_turns_next_steps_off_and_a_bad_count_is_a_422(client: TestClient, leads) -> None:
    lead = leads[1]
    assert client.post("/v1/score?next_steps=0", json=lead).json()["next_steps"] == []
    for bad in ("-1", "11", "two", "²"):
        response = client.post(f"/v1/score?next_steps={bad}", json=lead)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == "next_steps"


def test_the_default_is_three_and_the_single_route_matches_the_batch(
    client: TestClient, leads
) -> None:
    batch = client.post("/v1/score/batch", json={"leads": leads}).json()["scores"]
    assert max(len(a["next_steps"]) for a in batch) == 3
    stepped = [i for i, a in enumerate(batch) if a["next_steps"]][:10]
    for lead, from_batch in zip([leads[i] for i in stepped], [batch[i] for i in stepped],
                                strict=True):  # fmt: skip
        alone = client.post("/v1/score", json=lead).json()
        assert alone["next_steps"] == from_batch["next_steps"]


@pytest.mark.parametrize("count", [1, 3])
def test_a_next_step_is_what_the_model_says_once_the_lead_has_moved(
    client: TestClient, fitted, leads, count: int
) -> None:
    """Each promised score is the score the scorer gives the lead's features, moved."""
    scorer = fitted.trainer.scorer_
    checked = 0
    for lead in leads[:80]:
        answer = client.post(f"/v1/score?next_steps={count}", json=lead).json()
        values = scorer.online.compute(lead, lead["as_of"])
        for step in answer["next_steps"]:
            moved = {**values, **{m["feature"]: m["after"] for m in step["moves"]}}
            (rescored,) = scorer._score_values([lead["lead_id"]], [moved], 0)
            assert rescored.score == step["score"]
            assert rescored.recommendation == step["recommendation"]
            checked += 1
    assert checked > 0
