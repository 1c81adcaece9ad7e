"""`leadscore serve` with several workers: each takes its share of connections, all stop cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
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


def _serve(trained: TrainedModel, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "LEADSCORE_WORKERS": str(workers),
        "LEADSCORE_MLFLOW_TRACKING_URI": trained.settings.mlflow_tracking_uri,
        "LEADSCORE_PREDICTION_DB": "",
        "LEADSCORE_MODEL_POLL_SECONDS": "0",
    }
    return subprocess.Popen(
        [LEADSCORE, "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _wait_ready(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("server not ready after 120 s")


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


def test_a_port_in_use_fails_at_once_with_the_reason(trained: TrainedModel) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = _serve(trained, taken.getsockname()[1], workers=2)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 2
    assert "already in use" in output
