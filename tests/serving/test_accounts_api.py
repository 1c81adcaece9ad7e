"""Accounts over HTTP: a lead's account features come from the colleagues the server scored
before, strictly as of the lead's moment; /v1/accounts/score aggregates an account's contacts;
the account state survives a restart beside the prediction log, without personal data."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from features import DEFAULT_FEATURES, DEFAULT_PLACEHOLDERS, FeatureSet
from features.accounts import ACCOUNT_COLUMNS
from leadscore.cli import DEMO_POLICY
from scoring import Settings
from serving.app import create_app
from serving.loading import LoadedModel
from serving.schemas import AccountScore, Score
from training import CrmExport, LeadScoreTrainer, build_dataset, demo_config, load_policy
from training.pipeline import account_spec

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
NO_LOG = {"prediction_db": "", "model_poll_seconds": 0}


@pytest.fixture(scope="module")
def account_model(demo_dir: Path, demo_export: CrmExport) -> LoadedModel:
    """The demo model with its account features, as `leadscore train` makes it."""
    accounts = demo_config(demo_dir).accounts
    assert accounts is not None  # the demo's leads carry their company_domain
    features = FeatureSet((*DEFAULT_FEATURES, *(c.feature() for c in ACCOUNT_COLUMNS)))
    dataset = build_dataset(demo_export, features, accounts=accounts)
    trainer = LeadScoreTrainer(policy=load_policy(DEMO_POLICY)).fit(dataset)
    trainer.scorer_.read_accounts(account_spec(accounts, DEFAULT_PLACEHOLDERS))
    return LoadedModel(trainer.scorer_, "lead-scoring", "1", "models:/lead-scoring/1")


@pytest.fixture
def client(account_model: LoadedModel) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(**NO_LOG), loaded=account_model)) as test_client:
        yield test_client


def _lead(lead_id: str, account: str | None, *, days_ago: float = 1.0, title: str = "VP Sales",
          as_of: datetime = NOW, kinds: tuple[str, ...] = ("demo_request",)) -> dict:  # fmt: skip
    return {
        "lead_id": lead_id,
        "created_at": (as_of - timedelta(days=5)).isoformat(),
        "company_domain": account,
        "job_title": title,
        "industry": "Software",
        "company_size": 250,
        "source": "webinar",
        "country": "US",
        "email_domain": "gmail.com",
        "activities": [
            {"activity_type": kind, "occurred_at": (as_of - timedelta(days=days_ago)).isoformat()}
            for kind in kinds
        ],
        "as_of": as_of.isoformat(),
    }


def _account_values(answer: dict) -> dict[str, float | None]:
    return {r["feature"]: r["value"] for r in answer["reasons"] if r["feature"].startswith("acc")}


def test_a_lead_sees_the_colleagues_scored_before_it_and_never_itself(client: TestClient) -> None:
    first = client.post("/v1/score?reasons=50", json=_lead("a-1", "acme.example")).json()
    Score.model_validate(first)
    assert _account_values(first)["account_engaged_contacts_30d"] == 0
    assert not any("company_domain" in w for w in first["warnings"])
    client.post("/v1/score", json=_lead("a-2", "ACME.example ", title="Director of IT"))
    again = client.post("/v1/score?reasons=50", json=_lead("a-1", "acme.example")).json()
    values = _account_values(again)
    assert values["account_engaged_contacts_30d"] == 1  # a-2, not a-1 itself
    assert values["account_high_intent_30d"] == 1
    assert values["account_best_seniority_30d"] == 3  # a director
    assert values["account_open_leads"] == 1
    other = client.post("/v1/score?reasons=50", json=_lead("b-1", "other.example")).json()
    assert _account_values(other)["account_engaged_contacts_30d"] == 0
    alone = client.post("/v1/score?reasons=50", json=_lead("c-1", None)).json()
    assert _account_values(alone)["account_engaged_contacts_30d"] is None  # no account


def test_what_a_colleague_did_after_a_leads_moment_never_counts(client: TestClient) -> None:
    later = NOW + timedelta(days=3)
    client.post("/v1/score", json=_lead("p-2", "point.example", as_of=later, days_ago=1))
    earlier = client.post("/v1/score?reasons=50", json=_lead("p-1", "point.example")).json()
    values = _account_values(earlier)
    assert values["account_high_intent_30d"] == 0  # its demo request came after p-1's as_of
    assert values["account_engaged_contacts_30d"] == 0


def test_an_account_score_is_the_chance_that_one_of_its_contacts_converts(
    client: TestClient,
) -> None:
    leads = [
        _lead("g-1", "group.example"),
        _lead("g-2", "group.example", title="Marketing Manager", kinds=("web_visit",)),
        _lead("g-3", "group.example", title="Student", kinds=()),
    ]
    bad = client.post("/v1/accounts/score", json={"leads": [*leads, {"company_size": -5}]})
    assert bad.status_code == 422  # the account's score would be missing a contact
    assert bad.json()["error"]["field"] == "leads[3].company_size"
    answer = client.post("/v1/accounts/score", json={"leads": leads})
    assert answer.status_code == 200, answer.text
    body = AccountScore.model_validate(answer.json())
    assert body.account == "group.example"
    chances = [c.probability for c in body.contacts]
    assert chances == sorted(chances, reverse=True) and len(chances) == 3
    assert body.probability == pytest.approx(1 - math.prod(1 - p for p in chances))
    assert body.score == round(body.probability * 100)
    pushes = [abs(r.contribution) for r in body.reasons]
    assert len(pushes) == 5 and pushes == sorted(pushes, reverse=True)
    assert body.known is not None and body.known.contacts == 3


def test_the_account_state_survives_a_restart_and_holds_no_personal_data(
    account_model: LoadedModel, tmp_path: Path
) -> None:
    settings = Settings(
        prediction_db=f"sqlite:///{tmp_path / 'log.db'}",
        prediction_spool=tmp_path / "spool.db",
        secret_key="accounts-secret",
        model_poll_seconds=0,
    )
    with TestClient(create_app(settings, loaded=account_model)) as first:
        first.post("/v1/score", json=_lead("jane.doe@keep.example", "keep.example"))
        won = {"lead_id": "jane.doe@keep.example", "status": "won",
               "closed_at": (NOW - timedelta(hours=1)).isoformat()}  # fmt: skip
        assert first.post("/v1/outcomes", json=won).status_code == 200
    saved = tmp_path / "spool.accounts.json"
    text = saved.read_text()
    assert "keep.example" in text and "jane.doe" not in text and "VP Sales" not in text
    with TestClient(create_app(settings, loaded=account_model)) as second:
        answer = second.post("/v1/score?reasons=50", json=_lead("k-2", "keep.example")).json()
    values = _account_values(answer)
    assert values["account_engaged_contacts_30d"] == 1
    assert values["account_won_leads"] == 1
    assert values["account_open_leads"] == 0
