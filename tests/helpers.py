"""Small helpers shared by tests that start servers, run the command or talk to PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from scoring import Settings

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def use_store(monkeypatch: pytest.MonkeyPatch, store: Settings) -> str:
    """Point the `leadscore` command (and notebooks) at `store`; returns its tracking URI."""
    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", store.mlflow_tracking_uri)
    monkeypatch.setenv("LEADSCORE_MLFLOW_ARTIFACT_ROOT", str(store.mlflow_artifact_root))
    monkeypatch.setenv("LEADSCORE_GATE_BOOTSTRAP_ROUNDS", str(store.gate_bootstrap_rounds))
    return store.mlflow_tracking_uri


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_engine() -> sqlalchemy.Engine:
    """An engine on the test database; skips, saying why, only when no server is reachable, and
    fails instead under CI, whose machine runs one."""
    engine = sqlalchemy.create_engine(POSTGRES_URL)
    try:
        engine.connect().close()
    except sqlalchemy.exc.OperationalError as error:
        reason = f"no PostgreSQL server reachable at 127.0.0.1:5432: {error}"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must have one")
        pytest.skip(reason)
    return engine


class TcpProxy:
    """A loopback TCP proxy that can cut its connections and refuse new ones for a while: a
    database outage for one client, without touching the shared server behind it."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._up = threading.Event()
        self._links: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = False
        self._listener: socket.socket | None = None
        threading.Thread(target=self._accept_forever, daemon=True).start()
        self.resume()

    def resume(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        self._up.set()

    def pause(self) -> None:
        """Cut every connection and refuse new ones until `resume`."""
        self._up.clear()
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            for link in self._links:
                with contextlib.suppress(OSError):
                    link.shutdown(socket.SHUT_RDWR)
                link.close()
            self._links.clear()

    def close(self) -> None:
        self._stopped = True
        self.pause()

    def _accept_forever(self) -> None:
        while not self._stopped:
            if not self._up.wait(0.1) or self._listener is None:
                continue
            try:
                client, _ = self._listener.accept()
            except OSError:  # timeout, or the listener closed by pause
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._links += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.close()


def wait_ready(client: Any, seconds: float = 60) -> None:
    """Wait for /readyz: the app loads its model in the background after it starts."""
    deadline = time.monotonic() + seconds
    while (response := client.get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline, f"not ready in {seconds} s: {response.text}"
        time.sleep(0.05)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def headless_chromium(profile: Path, *flags: str, height: int = 1600) -> Any:
    """Debian's Chromium through its ChromeDriver, headless, with the browser console logged.
    Skips without it, saying how to install it; fails instead under CI, which installs it."""
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI"):
            pytest.fail("CI must have chromium and chromedriver; .ci/run installs them")
        pytest.skip("chromium and chromedriver are not installed (apt-get install chromium "
                    "chromium-driver); CI installs them")  # fmt: skip
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync",
        f"--user-data-dir={profile}", f"--window-size=1200,{height}", *flags,
    ):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
