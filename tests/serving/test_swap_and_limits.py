"""Body limit, Prometheus metrics, and a hot model swap under a running load."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from scoring import Settings
from serving.app import create_app
from serving.schemas import EXAMPLE_LEAD
from tests.conftest import FittedModel
from tests.helpers import free_port
from training import promote, train_and_register


def test_a_body_over_the_limit_is_413_in_the_error_shape(fitted: FittedModel) -> None:
    settings = Settings(max_body_bytes=2048, prediction_db="", model_poll_seconds=0)
    big = {**EXAMPLE_LEAD, "notes": "x" * 4000}
    with TestClient(create_app(settings, loaded=fitted.loaded)) as client:
        response = client.post("/v1/score", json=big)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "body_too_large"
        assert client.post("/v1/score", json=EXAMPLE_LEAD).status_code == 200


def test_metrics_count_requests_latency_and_recommendations(client: TestClient) -> None:
    client.post("/v1/score", json=EXAMPLE_LEAD)
    text = client.get("/metrics").text
    assert 'leadscore_requests_total{route="/v1/score",status="200"}' in text
    assert 'leadscore_request_seconds_bucket{le="0.1",route="/v1/score"}' in text
    assert "leadscore_scores_total{recommendation=" in text


@pytest.mark.integration
def test_hot_swap_under_load_drops_nothing_and_retries_a_broken_model_until_fixed(
    demo_dir: Path, empty_store: Settings, tmp_path: Path
) -> None:
    training = empty_store.model_copy(update={"data_dir": demo_dir})
    store = training.mlflow_tracking_uri
    train_and_register(training)
    app = create_app(training.model_copy(update={"model_poll_seconds": 0.2, "prediction_db": ""}))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{base}/healthz").status_code == 200
    while httpx.get(f"{base}/readyz").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.05)  # the model loads after the port opened

    versions: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for _ in range(5000):  # bounded
                if stop.is_set():
                    return
                response = http.post("/v1/score", json=EXAMPLE_LEAD)
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                else:
                    versions.append(response.json()["model"]["version"])

    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    try:
        second = train_and_register(training)
        promote(MlflowClient(store), "lead-scoring", second.registration.version)
        deadline = time.monotonic() + 30
        while "2" not in versions and time.monotonic() < deadline:
            time.sleep(0.1)
        # A version that cannot load is never served: the old one keeps answering.
        client = MlflowClient(store)
        missing = tmp_path / "no-such-model"
        broken = client.create_model_version("lead-scoring", source=missing.as_uri())
        broken_version = str(broken.version)
        client.set_registered_model_alias("lead-scoring", "champion", broken.version)
        deadline = time.monotonic() + 30
        while app.state.load_error is None and time.monotonic() < deadline:
            time.sleep(0.1)
        served_after_break = len(versions)
        time.sleep(0.5)
        # Readiness and the model route say what serves, what the registry names, and why.
        ready = httpx.get(f"{base}/readyz").json()
        info = httpx.get(f"{base}/v1/model").json()
        for body in (ready, info):
            assert body["serving_version"] == "2"
            assert body["registry_champion"] == broken_version
            assert f"lead-scoring/{broken_version} not loaded" in body["load_error"]
        # Fixed in place (its files restored), the version is picked up by the next retry.
        source = client.get_model_version_download_uri("lead-scoring", "2")
        shutil.copytree(source.removeprefix("file://"), missing)
        deadline = time.monotonic() + 30
        while broken_version not in versions[-5:] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert httpx.get(f"{base}/readyz").json()["load_error"] is None
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
        server.should_exit = True
        thread.join(timeout=30)
    assert failures == []
    assert {"1", "2"} <= set(versions)
    assert versions.index("2") > 0
    assert len(versions) > served_after_break
    assert versions[-1] == broken_version


@pytest.mark.parametrize(
    "store",
    ["postgresql+psycopg://postgres:hunter2@127.0.0.1:5432/leadscore_no_such_db",
     "sqlite:///{tmp}/mistyped-mlflow.db"],
)  # fmt: skip
def test_an_unreachable_registry_leaves_the_server_alive_and_says_why(
    store: str, tmp_path: Path
) -> None:
    """A PostgreSQL registry that does not exist used to leave /healthz unanswered for 112 s;
    a mistyped SQLite path created an empty registry."""
    store = store.format(tmp=tmp_path)
    settings = Settings(mlflow_tracking_uri=store, prediction_db="", model_poll_seconds=0)
    started = time.monotonic()
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        deadline = time.monotonic() + 10
        while "store" not in (client.get("/readyz").json()["error"]["message"]):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        ready = client.get("/readyz")
    assert ready.status_code == 503 and time.monotonic() - started < 10
    message = ready.json()["error"]["message"]
    assert "hunter2" not in message
    assert ("does not exist" in message) or ("no MLflow store" in message)
    assert not (tmp_path / "mistyped-mlflow.db").exists()
