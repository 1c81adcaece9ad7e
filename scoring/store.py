"""The MLflow store checked before MLflow opens it: a wrong LEADSCORE_MLFLOW_TRACKING_URI is one
line within seconds, not a hang or a new, empty registry.

MLflow retries a database it cannot reach for about two minutes before failing, and SQLite
creates any file it is pointed at, so a mistyped path silently becomes a registry where every
command finds "no model" and training registers into the wrong place.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from scoring.errors import StoreError

CONNECT_TIMEOUT_SECONDS = 5
"""How long one connection attempt to a database store may take: enough for a remote database
over a slow network, short enough that a server or a command fails while someone still watches.
A host name with several addresses may take this long for each."""

# MLflow's database backends (mlflow.store.db.db_types); any other tracking URI is left alone.
DATABASES = frozenset({"sqlite", "postgresql", "mysql", "mssql"})
# The keyword each DB-API driver takes for its connect timeout in seconds. A driver not listed
# connects without one.
_TIMEOUT_ARGUMENT = {
    "psycopg": "connect_timeout",
    "psycopg2": "connect_timeout",
    "pg8000": "timeout",
    "pymysql": "connect_timeout",
    "mysqldb": "connect_timeout",
    "pyodbc": "timeout",
}
# Database stores already reached in this process: a server's every model load stays free.
_reached: set[str] = set()


def check_store(uri: str, *, create: bool) -> None:
    """Refuse a store MLflow would wait minutes for or create by mistake; `create` only for a
    job that writes the first model (train, retrain, demo), which may create an SQLite file.

    An SQLite store must exist: a file-existence check, nothing opened. Any other database is
    connected to once with a bounded timeout and asked `SELECT 1`; success is remembered per URI.
    File stores and tracking servers (http, https, databricks) are not checked: a file store has
    no connection to hang on, and a server owns its database, reached with MLflow's own HTTP
    timeouts.
    """
    scheme = urlsplit(uri).scheme.partition("+")[0].lower()
    if scheme not in DATABASES or uri in _reached:
        return
    if scheme == "sqlite":
        _check_sqlite(uri, create)
        return
    _check_database(uri)
    _reached.add(uri)


def _check_sqlite(uri: str, create: bool) -> None:
    database = make_url(uri).database
    if create or database in (None, "", ":memory:") or Path(database).exists():
        return
    raise StoreError(
        f"no MLflow store at {database} (LEADSCORE_MLFLOW_TRACKING_URI={uri}): train a model "
        "first with `leadscore train`, or check the path"
    )


def connect_timeout(uri: str) -> dict[str, int]:
    """`connect_args` that bound one connection attempt of the URI's driver: without them an
    unreachable host holds the caller for the operating system's TCP timeout (minutes)."""
    argument = _TIMEOUT_ARGUMENT.get(make_url(uri).get_driver_name())
    return {argument: CONNECT_TIMEOUT_SECONDS} if argument else {}


def _check_database(uri: str) -> None:
    url = make_url(uri)
    try:
        engine = create_engine(url, connect_args=connect_timeout(uri), poolclass=NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    # ImportError: the URI names a driver that is not installed.
    except (SQLAlchemyError, ImportError) as error:
        reason = " ".join(str(getattr(error, "orig", None) or error).split())
        raise StoreError(
            f"cannot open the MLflow store at {url.render_as_string(hide_password=True)} "
            f"(LEADSCORE_MLFLOW_TRACKING_URI, connect timeout {CONNECT_TIMEOUT_SECONDS} s): "
            f"{reason}; check the URI, and that the database exists and accepts connections"
        ) from None
