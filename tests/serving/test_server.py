"""`leadscore serve` with several workers: each takes its share of connections, all stop cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from serving.schemas import EXAMPLE_LEAD
from tests.conftest import TrainedModel
from tests.helpers import free_port

pytestmark = pytest.mark.integration

LEADSCORE = str(Path(sys.executable).parent / "leadscore")


def _serve(trained: TrainedModel, port: int, workers: int, **env: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "LEADSCORE_WORKERS": str(workers),
        "LEADSCORE_MLFLOW_TRACKING_URI": trained.settings.mlflow_tracking_uri,
        "LEADSCORE_PREDICTION_DB": "",
        "LEADSCORE_MODEL_POLL_SECONDS": "0",
        **env,
    }
    return subprocess.Popen(
        [LEADSCORE, "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _wait_ready(port: int, server: subprocess.Popen) -> None:
    """Ready when 20 fresh connections in a row say so: each worker loads its model on its own,
    after its port opened, and the kernel spreads new connections across the workers."""
    deadline, in_a_row = time.monotonic() + 120, 0
    while in_a_row < 20:
        assert time.monotonic() < deadline, "server not ready after 120 s"
        assert server.poll() is None, server.stdout.read()
        try:
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            ready = False
        in_a_row = in_a_row + 1 if ready else 0
        if not ready:
            time.sleep(0.3)


def test_two_workers_share_the_connections_and_stop_on_sigterm(trained: TrainedModel) -> None:
    port = free_port()
    server = _serve(trained, port, workers=2)
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}") for _ in range(16)]
    try:
        _wait_ready(port, server)
        for client in clients:  # 16 keep-alive connections, opened one after another
            assert client.post("/v1/score", json=EXAMPLE_LEAD).status_code == 200
        established = [
            sum(
                1
                for c in worker.net_connections("tcp")
                if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
            )
            for worker in psutil.Process(server.pid).children()
        ]
        established = [count for count in established if count]
        assert sorted(established) != [16] and sum(established) == 16, established
        assert len(established) == 2
    finally:
        for client in clients:
            client.close()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
    with socket.socket() as probe:  # the port is free again
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_port_in_use_fails_at_once_with_the_reason(trained: TrainedModel, workers: int) -> None:
    """Exit 2 within a second, before loading anything: it used to take 6-9 s and print the
    banner first."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        started = time.monotonic()
        server = _serve(trained, taken.getsockname()[1], workers=workers)
        output, _ = server.communicate(timeout=60)
        elapsed = time.monotonic() - started
    assert server.returncode == 2
    assert "already in use" in output
    assert elapsed < 1.0, f"took {elapsed:.2f} s"


def test_healthz_answers_while_the_model_loads(trained: TrainedModel) -> None:
    """The port opens before the model loads: /healthz says alive at once while /readyz says
    503 until the model can score (before, both were refused for 5-16 s)."""
    port = free_port()
    server = _serve(trained, port, workers=1)
    seen: list[tuple[str, int, float]] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, server.stdout.read()
            for route in ("/healthz", "/readyz"):
                started = time.monotonic()
                try:
                    status = httpx.get(f"http://127.0.0.1:{port}{route}", timeout=5).status_code
                except httpx.TransportError:
                    continue  # not listening yet: the interpreter is still starting
                seen.append((route, status, time.monotonic() - started))
            if ("/readyz", 200) in [(route, status) for route, status, _ in seen]:
                break
            time.sleep(0.02)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    first_ready = next(i for i, (route, status, _) in enumerate(seen) if route == "/readyz"
                       and status == 200)  # fmt: skip
    loading = seen[:first_ready]
    assert ("/healthz", 200) in [(route, status) for route, status, _ in loading]
    assert ("/readyz", 503) in [(route, status) for route, status, _ in loading]
    health = [took for route, _, took in seen if route == "/healthz"]
    assert all(status == 200 for route, status, _ in seen if route == "/healthz")
    # The first answer waits for the app to import; the next ones, while the model loads in
    # the background, come at once.
    assert max(health[1:]) < 1.0, health


def test_a_stalling_body_is_refused_at_once_and_other_requests_keep_their_pace(
    trained: TrainedModel,
) -> None:
    """1.6 million empty leads in 4.8 MB used to be parsed on the event loop before the cap:
    others waited up to 20 s while memory grew by 1.4 GiB."""
    port = free_port()
    server = _serve(trained, port, workers=1)
    stall = b'{"leads":[' + b",".join([b"{}"] * 1_600_000) + b"]}"
    latencies: dict[str, list[float]] = {"before": [], "during": []}
    phase = {"now": "before"}
    stop = threading.Event()

    def steady() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            while not stop.is_set():
                started = time.monotonic()
                assert client.post("/v1/score", json=EXAMPLE_LEAD).status_code == 200
                latencies[phase["now"]].append(time.monotonic() - started)

    try:
        _wait_ready(port, server)
        rss_before = psutil.Process(server.pid).memory_info().rss
        pacer = threading.Thread(target=steady)
        pacer.start()
        time.sleep(2)
        phase["now"] = "during"
        refused = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(10):
                started = time.monotonic()
                response = client.post(
                    "/v1/score/batch", content=stall, headers={"content-type": "application/json"}
                )
                refused.append(time.monotonic() - started)
                assert response.status_code == 413
                assert response.json()["error"]["code"] == "batch_too_large"
        stop.set()
        pacer.join(timeout=30)
        rss_after = psutil.Process(server.pid).memory_info().rss
    finally:
        stop.set()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    p99 = {name: sorted(values)[int(len(values) * 0.99)] for name, values in latencies.items()}
    assert max(refused) < 0.1, refused
    assert p99["during"] < 3 * p99["before"] + 0.02, p99
    assert rss_after - rss_before < 100 * 2**20


def test_a_connection_that_never_finishes_its_request_is_answered_408_and_closed(
    trained: TrainedModel,
) -> None:
    """Connections that never finished their headers used to be held open forever."""
    port = free_port()
    server = _serve(trained, port, workers=1, LEADSCORE_READ_TIMEOUT_SECONDS="1")
    try:
        _wait_ready(port, server)
        for partial in (
            b"",
            b"POST /v1/score HTTP/1.1\r\nHost: x\r\n",
            b"POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 50\r\n\r\n{",
        ):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
                connection.sendall(partial)
                started = time.monotonic()
                answer = b""
                while chunk := connection.recv(4096):  # until the server closes
                    answer += chunk
                assert time.monotonic() - started < 5
                assert answer.startswith(b"HTTP/1.1 408"), answer
                assert b"request_timeout" in answer
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
