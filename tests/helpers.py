"""Small helpers shared by tests that start servers, run the command or talk to PostgreSQL."""

from __future__ import annotations

import os
import socket

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
