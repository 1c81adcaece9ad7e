"""The MLflow store is checked before MLflow opens it: a mistyped SQLite path is refused, not
created, and a database that is absent or unreachable fails in seconds, not minutes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from scoring import StoreError, check_store, load_registered
from scoring import store as store_module
from tests.helpers import POSTGRES_URL, postgres_engine

MISTYPED = "sqlite:///mlfow.db"
NO_SUCH_DB = "postgresql+psycopg://postgres:fake-secret@127.0.0.1:5432/leadscore_no_such_db"
FAST = 10  # seconds: the connect timeout (5 s) and some slack, far from MLflow's ~112 s


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory, where a relative SQLite path such as `mlfow.db` points."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_mistyped_sqlite_path_is_refused_and_not_created(in_tmp: Path) -> None:
    with pytest.raises(StoreError) as refused:
        check_store(MISTYPED, create=False)
    assert str(refused.value) == (
        "no MLflow store at mlfow.db (LEADSCORE_MLFLOW_TRACKING_URI=sqlite:///mlfow.db): train a "
        "model first with `leadscore train`, or check the path"
    )
    with pytest.raises(StoreError, match=r"no MLflow store at mlfow\.db"):
        load_registered("models:/lead-scoring@champion", MISTYPED)
    assert not (in_tmp / "mlfow.db").exists()


def test_training_may_create_the_sqlite_store_and_an_existing_one_passes(in_tmp: Path) -> None:
    check_store(MISTYPED, create=True)
    (in_tmp / "mlfow.db").touch()
    check_store(MISTYPED, create=False)
    check_store("sqlite://", create=False)  # in memory: nothing to find


def test_file_stores_and_tracking_servers_are_left_alone(in_tmp: Path) -> None:
    for uri in (str(in_tmp / "mlruns"), (in_tmp / "mlruns").as_uri(), "http://127.0.0.1:1"):
        check_store(uri, create=False)
    assert not (in_tmp / "mlruns").exists()


def _refusal(uri: str) -> tuple[str, float]:
    started = time.perf_counter()
    with pytest.raises(StoreError) as refused:
        check_store(uri, create=False)
    return str(refused.value), time.perf_counter() - started


def test_a_postgres_database_that_does_not_exist_fails_fast_without_the_password() -> None:
    postgres_engine()  # skips when no server runs
    message, seconds = _refusal(NO_SUCH_DB)
    assert seconds < FAST
    assert "\n" not in message and "fake-secret" not in message
    assert message.startswith(
        "cannot open the MLflow store at "
        "postgresql+psycopg://postgres:***@127.0.0.1:5432/leadscore_no_such_db "
        "(LEADSCORE_MLFLOW_TRACKING_URI, connect timeout 5 s): "
    )
    assert 'database "leadscore_no_such_db" does not exist' in message


def test_an_unreachable_port_fails_fast() -> None:
    message, seconds = _refusal("postgresql+psycopg://postgres:fake-secret@127.0.0.1:1/test")
    assert seconds < FAST
    assert "\n" not in message and "fake-secret" not in message
    assert "127.0.0.1:1/test" in message and "Connection refused" in message


def test_an_existing_postgres_database_passes_and_is_reached_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    postgres_engine()
    monkeypatch.setattr(store_module, "_reached", set())
    check_store(POSTGRES_URL, create=False)

    def no_second_connection(*args: object, **kwargs: object) -> None:
        raise AssertionError("a store already reached was connected to again")

    monkeypatch.setattr(store_module, "create_engine", no_second_connection)
    check_store(POSTGRES_URL, create=False)


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["promote", "1"], "Error: no MLflow store at mlfow.db"),
        (["rollback"], "Error: no MLflow store at mlfow.db"),
        (
            ["score", "--input", "leads.csv", "--out", "scores.csv"],
            "Error: expected a model at models:/lead-scoring@champion; no MLflow store at mlfow.db",
        ),
    ],
)
def test_commands_on_a_mistyped_store_say_so_in_one_line_and_create_nothing(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], said: str
) -> None:
    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", MISTYPED)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1, result.output
    assert result.output.strip().count("\n") == 0, result.output
    assert result.output.startswith(said), result.output
    assert "leadscore train" in result.output
    assert not (in_tmp / "mlfow.db").exists()


def test_a_report_on_a_missing_database_fails_fast_in_one_line(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgres_engine()
    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", NO_SUCH_DB)
    started = time.perf_counter()
    result = CliRunner().invoke(app, ["report", "--out", "unused.html"])
    assert time.perf_counter() - started < FAST
    assert result.exit_code == 1, result.output
    assert result.output.strip().count("\n") == 0, result.output
    assert "does not exist" in result.output and "fake-secret" not in result.output
    assert not (in_tmp / "unused.html").exists()
