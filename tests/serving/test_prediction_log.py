"""The prediction log: every score written, in batches, off the request path; none lost."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy
import uvicorn
from fastapi.testclient import TestClient

from scoring import Settings
from serving.app import create_app
from serving.schemas import EXAMPLE_LEAD
from tests.conftest import FittedModel
from tests.helpers import POSTGRES_URL, free_port, postgres_engine

PERSONAL = ("email", "name", "phone", "job_title")


def _rows(url: str, table: str) -> list[dict]:
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:
        result = connection.execute(sqlalchemy.text(f'SELECT * FROM "{table}"'))
        rows = [dict(r._mapping) for r in result]
    engine.dispose()
    return rows


def test_each_score_is_logged_without_personal_data(fitted: FittedModel, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    settings = Settings(prediction_db=url, model_poll_seconds=0)
    lead = {**EXAMPLE_LEAD, "email": "jane.doe@acme.example", "phone": "+1 555 0100"}
    with TestClient(create_app(settings, loaded=fitted.loaded)) as client:
        client.post("/v1/score", json=lead)
        client.post("/v1/score/batch", json={"leads": [lead, {**lead, "lead_id": "L-2"}]})
    rows = _rows(url, "predictions")
    assert [r["lead_id"] for r in rows] == ["L-1001", "L-1001", "L-2"]
    assert {r["model_version"] for r in rows} == {"1"}
    assert all(r["recommendation"] in {"SQL", "MQL", "nurture", "disqualified"} for r in rows)
    assert len({r["features_hash"] for r in rows}) == 1  # same features, same hash
    text = repr(rows)
    assert "jane.doe" not in text and "555 0100" not in text  # not "555": a time may hold it
    assert not set(rows[0]) & set(PERSONAL)


@pytest.mark.integration
def test_postgres_log_keeps_every_row_under_load_and_shutdown(fitted: FittedModel) -> None:
    engine = postgres_engine()
    table = f"predictions_{uuid.uuid4().hex[:8]}"
    settings = Settings(prediction_db=POSTGRES_URL, prediction_table=table, model_poll_seconds=0)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, loaded=fitted.loaded),
            host="127.0.0.1",
            port=port,
            log_level="error",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    sent = [0] * 8

    def load(worker: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for i in range(60):
                lead = {**EXAMPLE_LEAD, "lead_id": f"w{worker}-{i}"}
                if http.post("/v1/score", json=lead).status_code == 200:
                    sent[worker] += 1

    try:
        workers = [threading.Thread(target=load, args=(w,)) for w in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        server.should_exit = True  # a clean shutdown drains the queue
        thread.join(timeout=60)
        rows = _rows(POSTGRES_URL, table)
        assert sum(sent) == 480
        assert len(rows) == 480
        assert len({r["lead_id"] for r in rows}) == 480
    finally:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP TABLE IF EXISTS "{table}"'))
        engine.dispose()
