"""Small helpers shared by tests that start servers or talk to PostgreSQL."""

from __future__ import annotations

import os
import socket

import pytest
import sqlalchemy

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


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
