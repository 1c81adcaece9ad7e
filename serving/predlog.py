"""The prediction log: every answered score is kept, through crashes, outages and bad rows.

A score is first committed to a local spool (SQLite in WAL mode) before its answer is sent, and
a shipper thread then copies the spool to the configured database and deletes each row only
after the database committed it. So:

- kill -9 of the server loses no answered score: a committed WAL frame survives the process
  (`synchronous=NORMAL`: the WAL is fsynced at checkpoints, so only an operating-system crash
  or power loss can take the commits since the last one);
- a database outage loses nothing while the spool has room: the shipper retries with backoff
  for as long as the outage lasts, and scoring never waits for the database;
- a row the database refuses (a NUL byte, a value too long) is cleaned, or else quarantined in
  the spool on its own, never with its batch;
- when the spool cannot take a row (disk full, or `LEADSCORE_PREDICTION_SPOOL_MAX_MB`), the
  request answers 503 instead of a score nobody kept.

Each row carries a key (`row_key`: the spool's id and the row's sequence number) that is unique
in the database, so a row shipped twice after a crash between the commit and the delete is
stored once. Several workers share one spool; a file lock elects the one that ships.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine

from scoring import Settings, connect_timeout
from serving.errors import short_error

logger = logging.getLogger("leadscore.serving")
SHIP_BATCH = 500
# Rows gather this long between shipments once the spool is drained: shipping each row as it
# comes cost a database commit per request and halved the server's throughput.
SHIP_LINGER_SECONDS = 0.2
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 0.1, 5.0
CLOSE_SHIP_SECONDS = 5.0
INSERT = "INSERT INTO spool (kind, payload) VALUES (?, ?)"
# Each lead's latest score under a model name, and the one before it, in one statement.
LATEST = (
    "INSERT INTO latest (model_name, lead_key, score) VALUES (?, ?, ?) ON CONFLICT DO UPDATE "
    "SET previous = score, score = excluded.score RETURNING previous"
)
LATEST_READ = 500  # lead keys per read of a batch's previous scores (SQLite takes 999 values)
OUTCOMES_TABLE, DRIFT_TABLE = "lead_outcomes", "drift_checks"


def prediction_table(name: str, metadata: MetaData) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("row_key", String(40), unique=True),
        Column("lead_id", String(200)),
        Column("model_name", String(200), nullable=False),
        Column("model_version", String(50), nullable=False),
        Column("segment", String(200)),
        Column("score", Integer),
        Column("probability", Float),
        Column("recommendation", String(20), nullable=False),
        Column("features_hash", String(32), nullable=False),
        Column("scored_at", DateTime(timezone=True), nullable=False),
        # Added with outcomes: what the score describes, for the funnel and realised accuracy.
        Column("as_of", DateTime(timezone=True)),
        Column("grade", String(1)),
        Column("policy_recommendation", String(20)),
        Column("control", Boolean),
        Column("source", String(200)),
        Column("campaign", String(200)),
    )


def outcomes_table(metadata: MetaData) -> Table:
    """Won, lost and stage changes: one row per event, stored once however often it is sent
    (`event_key` is a hash of the lead's key, the event and its time)."""
    return Table(
        OUTCOMES_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("row_key", String(40), unique=True),
        Column("event_key", String(40), unique=True, nullable=False),
        Column("lead_id", String(200), nullable=False),
        Column("event", String(20), nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
    )


def drift_table(metadata: MetaData) -> Table:
    """Every drift check of every worker: what `/v1/performance` and the report show."""
    return Table(
        DRIFT_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("row_key", String(40), unique=True),
        Column("checked_at", DateTime(timezone=True), nullable=False),
        Column("model_name", String(200), nullable=False),
        Column("model_version", String(50), nullable=False),
        Column("window_leads", Integer),
        Column("window_first_as_of", DateTime(timezone=True)),
        Column("window_last_as_of", DateTime(timezone=True)),
        Column("score_psi", Float),
        Column("worst_feature", String(200)),
        Column("worst_feature_psi", Float),
        Column("unseen_share", Float),
        Column("alert", Boolean),
        Column("details", Text),
    )


def log_tables(prediction_table_name: str, metadata: MetaData) -> dict[str, Table]:
    """The log's tables by the kind of row they keep."""
    return {
        "predictions": prediction_table(prediction_table_name, metadata),
        "outcomes": outcomes_table(metadata),
        "drift": drift_table(metadata),
    }


def read_log(
    engine: Engine, tables: dict[str, Table], since: datetime
) -> dict[str, list[dict[str, Any]]]:
    """Scores whose `as_of` is at or after `since`, and the outcomes and drift checks since
    then, as rows by kind; times in UTC (SQLite gives them back without their zone)."""
    predictions, outcomes, drift = tables["predictions"], tables["outcomes"], tables["drift"]
    queries = {
        "predictions": select(predictions).where(predictions.c.as_of >= since),
        "outcomes": select(outcomes).where(outcomes.c.occurred_at >= since),
        "drift": select(drift).where(drift.c.checked_at >= since).order_by(drift.c.id),
    }
    with engine.connect() as connection:
        return {
            name: [_utc(dict(found._mapping)) for found in connection.execute(query)]
            for name, query in queries.items()
        }


def _utc(found: dict[Any, Any]) -> dict[str, Any]:
    """A row as plain text keys (the driver's are a `str` subclass JSON encoders refuse) and
    its times in UTC."""
    row = {}
    for name, value in found.items():
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        row[str(name)] = value
    return row


def event_row(
    lead_key: str | None, event: str, at: datetime, received_at: datetime
) -> dict[str, Any]:
    """A `lead_outcomes` row: won, lost or a stage change of the lead with this key."""
    return {
        "event_key": event_key(lead_key, event, at),
        "lead_id": lead_key,
        "event": event,
        "occurred_at": at,
        "received_at": received_at,
    }


def event_key(lead_key: str | None, event: str, at: datetime) -> str:
    """The same lead, event and moment give the same key, however the time was written: what
    makes an outcome sent twice stored once."""
    moment = at.astimezone(UTC).isoformat()
    text = f"{lead_key}\x1f{event}\x1f{moment}".encode()
    return hashlib.blake2b(text, digest_size=16).hexdigest()


class LogFull(Exception):
    """The spool could not keep a row: the request must not be acknowledged."""


class Spool:
    """The local, append-only store of rows not yet in the database."""

    def __init__(self, path: Path, max_mb: int) -> None:
        self.path = path
        self.max_mb = max_mb
        self._lock = threading.Lock()

    def open(self) -> Spool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = self._connect()
        with self._lock:
            self._connection.executescript(
                "CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                "kind TEXT NOT NULL, payload BLOB NOT NULL);"
                "CREATE TABLE IF NOT EXISTS quarantine (seq INTEGER PRIMARY KEY, kind TEXT, "
                "payload BLOB, error TEXT, at TEXT DEFAULT CURRENT_TIMESTAMP);"
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
                "CREATE TABLE IF NOT EXISTS latest (model_name TEXT, lead_key TEXT, score "
                "INTEGER, previous INTEGER, PRIMARY KEY (model_name, lead_key)) WITHOUT ROWID;"
            )
            self._connection.execute(
                "INSERT OR IGNORE INTO meta VALUES ('spool_id', ?)", (uuid.uuid4().hex[:12],)
            )
            (self.spool_id,) = self._connection.execute(
                "SELECT value FROM meta WHERE key = 'spool_id'"
            ).fetchone()
        return self

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=10
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count={self.max_mb * 1024 * 1024 // page_size}")
        return connection

    def append(self, kind: str, rows: list[dict[str, Any]]) -> None:
        """Commit `rows`; raises `LogFull` when they cannot be kept."""
        payloads = [(kind, orjson.dumps(row)) for row in rows]
        try:
            with self._lock:
                if len(payloads) == 1:
                    self._connection.execute(INSERT, payloads[0])
                else:
                    with self._transaction():
                        self._connection.executemany(INSERT, payloads)
        except sqlite3.Error as error:
            raise LogFull(f"{type(error).__name__}: {error}") from None

    def append_scores(self, rows: list[dict[str, Any]], model_name: str) -> list[int | None]:
        """Commit scored `rows` and each lead's latest score, in one transaction; returns each
        row's previous score under `model_name` (None: none yet, or no score now). `LogFull`
        when they cannot be kept."""
        payloads = [("predictions", orjson.dumps(row)) for row in rows]
        try:
            with self._lock, self._transaction():
                self._connection.executemany(INSERT, payloads)
                if len(rows) == 1:  # the hot path: one statement reads and writes
                    return [self._replace_latest(rows[0], model_name)]
                return self._replace_latests(rows, model_name)
        except sqlite3.Error as error:
            raise LogFull(f"{type(error).__name__}: {error}") from None

    def _replace_latest(self, row: dict[str, Any], model_name: str) -> int | None:
        if row["lead_id"] is None or row["score"] is None:
            return None
        ((before,),) = self._connection.execute(
            LATEST, (model_name, row["lead_id"], row["score"])
        ).fetchall()  # all of it: the statement then ends before the commit
        return before

    def _replace_latests(self, rows: list[dict[str, Any]], model_name: str) -> list[int | None]:
        """A batch's previous scores from one read per few hundred leads, then one write: a
        lead sent twice is compared with its own first entry."""
        keys = list(dict.fromkeys(row["lead_id"] for row in rows if row["lead_id"] is not None))
        latest: dict[str, int | None] = {}
        for start in range(0, len(keys), LATEST_READ):
            chunk = keys[start : start + LATEST_READ]
            latest.update(
                self._connection.execute(
                    "SELECT lead_key, score FROM latest WHERE model_name = ? AND lead_key IN "
                    f"({', '.join('?' * len(chunk))})",
                    (model_name, *chunk),
                ).fetchall()
            )
        previous: list[int | None] = []
        written = []
        for row in rows:
            key, score = row["lead_id"], row["score"]
            if key is None or score is None:
                previous.append(None)
                continue
            before = latest.get(key)
            previous.append(before)
            written.append((model_name, key, score, before))
            latest[key] = score
        self._connection.executemany("INSERT OR REPLACE INTO latest VALUES (?, ?, ?, ?)", written)
        return previous

    def waiting(self, kind: str, lead_id: str) -> list[tuple[int, bytes]]:
        """Rows of `kind` for `lead_id` that wait in the spool, not yet in the database."""
        with self._lock:
            return self._connection.execute(
                "SELECT seq, payload FROM spool WHERE kind = ? AND "
                "json_extract(CAST(payload AS TEXT), '$.lead_id') = ? ORDER BY seq",
                (kind, lead_id),
            ).fetchall()

    @contextlib.contextmanager
    def _transaction(self) -> Any:
        self._connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise
        self._connection.execute("COMMIT")

    def oldest(self, limit: int) -> list[tuple[int, str, bytes]]:
        with self._lock:
            return self._connection.execute(
                "SELECT seq, kind, payload FROM spool ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()

    def remove(self, seqs: list[int]) -> None:
        """Delete shipped rows: the oldest ones, so a range (no row between them is newer)."""
        with self._lock:
            self._connection.execute(
                "DELETE FROM spool WHERE seq BETWEEN ? AND ?", (min(seqs), max(seqs))
            )

    def quarantine(self, seq: int, kind: str, payload: bytes, error: str) -> None:
        with self._lock, self._transaction():
            self._connection.execute(
                "INSERT OR REPLACE INTO quarantine (seq, kind, payload, error) VALUES (?, ?, ?, ?)",
                (seq, kind, payload, error[:500]),
            )
            self._connection.execute("DELETE FROM spool WHERE seq = ?", (seq,))

    def depth(self) -> int:
        """Rows waiting: sequence numbers are never reused and leave the spool oldest first."""
        with self._lock:
            low, high = self._connection.execute("SELECT min(seq), max(seq) FROM spool").fetchone()
        return 0 if low is None else high - low + 1

    def quarantined(self) -> int:
        with self._lock:
            return self._connection.execute("SELECT count(*) FROM quarantine").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class PredictionLog:
    """Rows kept in a local spool first, then shipped to `table` at the SQLAlchemy `url`."""

    def __init__(
        self,
        url: str,
        table: str = "predictions",
        *,
        spool: Path = Path("prediction-spool.db"),
        spool_max_mb: int = 1024,
        degraded_rows: int = 100_000,
    ) -> None:
        self.url = url
        self.table_name = table
        self.spool = Spool(spool, spool_max_mb)
        self.degraded_rows = degraded_rows
        self.shipped = 0
        self.last_error: str | None = None
        self.full = False

    @classmethod
    def from_settings(cls, settings: Settings) -> PredictionLog:
        """The log `LEADSCORE_PREDICTION_*` describe (not started)."""
        return cls(
            settings.prediction_db,
            settings.prediction_table,
            spool=settings.prediction_spool,
            spool_max_mb=settings.prediction_spool_max_mb,
            degraded_rows=settings.prediction_spool_degraded_rows,
        )

    def start(self) -> PredictionLog:
        self.spool.open()
        self.metadata_ = MetaData()
        self.tables_ = log_tables(self.table_name, self.metadata_)
        # hide_parameters: a failed insert's message would otherwise carry lead ids into logs.
        self.engine_ = create_engine(
            self.url,
            hide_parameters=True,
            pool_pre_ping=True,
            connect_args=connect_timeout(self.url),
        )
        self._ready = False
        self._preparing = threading.Lock()
        self._stop = threading.Event()
        self.shipper_ = threading.Thread(
            target=self._ship_forever, name="prediction-log", daemon=True
        )
        self.shipper_.start()
        return self

    def record(self, rows: list[dict[str, Any]], kind: str = "predictions") -> None:
        """Keep `rows` before the request is answered; `LogFull` when they cannot be kept."""
        with self._keeping(len(rows)):
            self.spool.append(kind, rows)

    def record_scores(self, rows: list[dict[str, Any]], model_name: str) -> list[int | None]:
        """Keep scored `rows` as `record` does; returns each lead's previous score under
        `model_name`, for its trend."""
        with self._keeping(len(rows)):
            return self.spool.append_scores(rows, model_name)

    @contextlib.contextmanager
    def _keeping(self, count: int) -> Any:
        try:
            yield
        except LogFull as error:
            self.full = True
            self.last_error = str(error)
            logger.error(
                "prediction spool cannot keep rows", extra={"rows": count, "error": str(error)}
            )
            raise
        self.full = False

    def health(self) -> dict[str, Any]:
        depth = self.spool.depth()
        state = "full" if self.full else ("degraded" if depth > self.degraded_rows else "ok")
        return {
            "state": state,
            "spool_depth": depth,
            "degraded_at": self.degraded_rows,
            "shipped": self.shipped,
            "quarantined": self.spool.quarantined(),
            "last_error": self.last_error,
        }

    def close(self) -> int:
        """Ship what the database will take within a few seconds; the rest waits in the spool
        for the next start. Returns how many rows wait."""
        self._stop.set()
        self.shipper_.join()
        self.engine_.dispose()
        waiting = self.spool.depth()
        self.spool.close()
        return waiting

    def history(self, lead_key: str, limit: int) -> list[dict[str, Any]]:
        """The lead's logged scores, newest first: those still waiting in the spool, then the
        database's. Raises while the database is away."""
        table = self.tables_["predictions"]
        waiting = self.spool.waiting("predictions", lead_key)
        newest_first = table.c.id.desc()
        query = select(table).where(table.c.lead_id == lead_key).order_by(newest_first).limit(limit)
        self._prepare_once()
        with self.engine_.connect() as connection:
            stored = [_utc(dict(found._mapping)) for found in connection.execute(query)]
        # A row shipped between the two reads is in both: the database's copy counts.
        shipped = {found["row_key"] for found in stored}
        fresh = [self._decode(seq, "predictions", payload) for seq, payload in reversed(waiting)]
        return ([one for one in fresh if one["row_key"] not in shipped] + stored)[:limit]

    def frames(self, since: datetime) -> dict[str, list[dict[str, Any]]]:
        """`read_log` of this log's database. Rows still in the spool are not in it yet: they
        reach the database within a second while it is up."""
        self._prepare_once()
        return read_log(self.engine_, self.tables_, since)

    def _ship_forever(self) -> None:
        with _ShipperLock(self.spool.path) as lock:
            delay, closing_at = RETRY_FIRST_SECONDS, None
            while True:
                if self._stop.is_set():
                    closing_at = closing_at or time.monotonic()
                    if not lock.held or time.monotonic() - closing_at > CLOSE_SHIP_SECONDS:
                        return
                if not lock.held and not lock.acquire():
                    self._stop.wait(1.0)  # another worker ships; take over if it dies
                    continue
                try:
                    shipped = self._ship_once()
                except Exception as error:  # the database is away: keep the rows, back off
                    self.last_error = short_error(error)
                    logger.warning(
                        "prediction log database unreachable; rows stay spooled",
                        extra={"error": self.last_error, "retry_in_s": delay},
                    )
                    if closing_at is None:
                        self._stop.wait(delay)
                    else:  # closing: retry within the window, not past it
                        left = CLOSE_SHIP_SECONDS - (time.monotonic() - closing_at)
                        time.sleep(max(0.0, min(delay, left)))
                    delay = min(delay * 2, RETRY_MAX_SECONDS)
                    continue
                delay = RETRY_FIRST_SECONDS
                if shipped < SHIP_BATCH:  # caught up: let rows gather into the next batch
                    if not shipped and self._stop.is_set():
                        return
                    self._stop.wait(SHIP_LINGER_SECONDS)

    def _ship_once(self) -> int:
        """Ship the oldest rows; 0 when the spool is empty. Raises while the database is away."""
        self._prepare_once()
        rows = self.spool.oldest(SHIP_BATCH)
        if not rows:
            return 0
        decoded = [(seq, kind, self._decode(seq, kind, payload)) for seq, kind, payload in rows]
        try:
            self._insert(decoded)
        except Exception:
            with self.engine_.connect() as connection:  # raises again if the database is away
                connection.execute(text("SELECT 1"))
            self._insert_one_by_one(rows, decoded)
            return len(rows)
        self.spool.remove([seq for seq, _, _ in rows])
        self.shipped += len(rows)
        self.last_error = None
        self.full = False  # room again; a record that still does not fit says so anew
        return len(rows)

    def _insert_one_by_one(
        self, rows: list[tuple[int, str, bytes]], decoded: list[tuple[int, str, dict[str, Any]]]
    ) -> None:
        """The database is up but refused the batch: find the rows it refuses."""
        for (seq, kind, payload), one in zip(rows, decoded, strict=True):
            try:
                self._insert([one])
            except Exception as error:
                message = short_error(error)
                self.spool.quarantine(seq, kind, payload, message)
                logger.error("prediction log row quarantined", extra={"seq": seq, "error": message})
                continue
            self.spool.remove([seq])
            self.shipped += 1

    def _prepare_once(self) -> None:
        """Tables ready before the first read or write, whichever thread comes first."""
        if not self._ready:
            with self._preparing:
                if not self._ready:
                    self._prepare()

    def _prepare(self) -> None:
        """Create the tables, and add the columns a table made by an older leadscore lacks."""
        self.metadata_.create_all(self.engine_)
        for table in self.tables_.values():
            columns = {c["name"] for c in inspect(self.engine_).get_columns(table.name)}
            missing = [column for column in table.columns if column.name not in columns]
            if not missing:
                continue
            with self.engine_.begin() as connection:
                for column in missing:
                    kind = column.type.compile(dialect=self.engine_.dialect)
                    connection.execute(
                        text(f'ALTER TABLE "{table.name}" ADD COLUMN {column.name} {kind}')
                    )
                    if column.name == "row_key":
                        connection.execute(
                            text(f'CREATE UNIQUE INDEX "ix_{table.name}_row_key" '
                                 f'ON "{table.name}" (row_key)')
                        )  # fmt: skip
        self._ready = True

    def _decode(self, seq: int, kind: str, payload: bytes) -> dict[str, Any]:
        """The row as the table takes it: dates parsed, NUL bytes dropped, text cut to length."""
        table = self.tables_[kind]
        row = orjson.loads(payload)
        row["row_key"] = f"{self.spool.spool_id}:{seq}"
        for column in table.columns:
            value = row.get(column.name)
            if isinstance(value, str):
                if isinstance(column.type, DateTime):
                    row[column.name] = datetime.fromisoformat(value)
                    continue
                value = value.replace("\x00", "")
                length = getattr(column.type, "length", None)
                row[column.name] = value[:length] if length else value
        return row

    def _insert(self, rows: list[tuple[int, str, dict[str, Any]]]) -> None:
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for _, kind, row in rows:
            by_kind.setdefault(kind, []).append(row)
        with self.engine_.begin() as connection:
            for kind, values in by_kind.items():
                connection.execute(_insert_once(self.engine_, self.tables_[kind]), values)


def _insert_once(engine: Engine, table: Table) -> Any:
    """An insert that skips rows already there, by any unique key: a row shipped twice after a
    crash (`row_key`), an outcome sent twice (`event_key`). PostgreSQL and SQLite."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif engine.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy import insert  # other databases: a crash mid-ship may store a row twice

        return insert(table)
    return insert(table).on_conflict_do_nothing()


class _ShipperLock:
    """One shipper per spool, among all the workers sharing it: an advisory lock on a file
    beside the spool, which the operating system releases when its holder dies."""

    def __init__(self, spool: Path) -> None:
        self.path = spool.with_name(spool.name + ".lock")
        self.held = False

    def __enter__(self) -> _ShipperLock:
        self._file = open(self.path, "a")  # held for the shipper's life
        return self

    def acquire(self) -> bool:
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        self.held = True
        return True

    def __exit__(self, *_exc: object) -> None:
        self._file.close()  # releases the lock


def row(
    result: Any,
    model_name: str,
    model_version: str,
    at: datetime,
    lead_key: str | None,
    *,
    as_of: datetime | None = None,
    source: str | None = None,
    campaign: str | None = None,
    control: bool = False,
    answered: str | None = None,
) -> dict[str, Any]:
    """One log row from a scored lead: no names, emails or phones, only a hash of the features;
    `lead_key` is the lead's id, or its keyed hash when the id is an email or a phone number.

    `answered` is the recommendation the caller got when it differs from the policy's (a
    control lead's); source and campaign group the funnel."""
    return {
        "lead_id": lead_key,
        "model_name": model_name,
        "model_version": model_version,
        "segment": result.segment,
        "score": result.score,
        "probability": result.probability,
        "recommendation": answered or result.recommendation,
        "features_hash": result.features_hash,
        "scored_at": at,
        "as_of": as_of or at,
        "grade": result.grade,
        "policy_recommendation": result.recommendation,
        "control": control,
        "source": source,
        "campaign": campaign,
    }
