"""The prediction log: every score written to a database, off the request path.

Requests only put rows on a queue; one writer thread inserts them in batches. Closing the log
(on a clean shutdown) drains the queue first, so no row is lost. No personal data is written:
only the lead id, the model, the score, the recommendation, the time and a hash of the features.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
)

logger = logging.getLogger("leadscore.serving")
_STOP = object()


def prediction_table(name: str, metadata: MetaData) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("lead_id", String(200)),
        Column("model_name", String(200), nullable=False),
        Column("model_version", String(50), nullable=False),
        Column("segment", String(200)),
        Column("score", Integer),
        Column("probability", Float),
        Column("recommendation", String(20), nullable=False),
        Column("features_hash", String(32), nullable=False),
        Column("scored_at", DateTime(timezone=True), nullable=False),
    )


class PredictionLog:
    """Batched, asynchronous inserts into `table` at the SQLAlchemy `url`."""

    def __init__(self, url: str, table: str = "predictions", *, batch_size: int = 500) -> None:
        self.url = url
        self.table_name = table
        self.batch_size = batch_size

    def start(self) -> PredictionLog:
        self.engine_ = create_engine(self.url)
        metadata = MetaData()
        self.table_ = prediction_table(self.table_name, metadata)
        metadata.create_all(self.engine_)
        self.queue_: queue.Queue[Any] = queue.Queue()
        self.writer_ = threading.Thread(target=self._write, name="prediction-log", daemon=True)
        self.writer_.start()
        return self

    def record(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.queue_.put(row)

    def close(self) -> None:
        """Write every row still queued, then stop."""
        self.queue_.put(_STOP)
        self.writer_.join()
        self.engine_.dispose()

    def _write(self) -> None:
        stopping = False
        while not stopping:
            batch = [self.queue_.get()]
            while len(batch) < self.batch_size:
                try:
                    batch.append(self.queue_.get(timeout=0.05))
                except queue.Empty:
                    break
            if any(row is _STOP for row in batch):
                stopping = True
                batch = [row for row in batch if row is not _STOP]
                while not self.queue_.empty():
                    batch.append(self.queue_.get_nowait())
            if batch:
                self._insert(batch)

    def _insert(self, batch: list[dict[str, Any]]) -> None:
        for attempt in range(3):
            try:
                with self.engine_.begin() as connection:
                    connection.execute(insert(self.table_), batch)
                return
            except Exception as error:  # the database hiccuped: retry, then say how many were lost
                if attempt == 2:
                    logger.error(
                        "prediction log write failed",
                        extra={"rows": len(batch), "error": str(error)},
                    )


def row(result: Any, model_name: str, model_version: str, at: datetime) -> dict[str, Any]:
    """One log row from a scored lead: no names, emails or phones, only a hash of the features."""
    return {
        "lead_id": result.lead_id,
        "model_name": model_name,
        "model_version": model_version,
        "segment": result.segment,
        "score": result.score,
        "probability": result.probability,
        "recommendation": result.recommendation,
        "features_hash": result.features_hash,
        "scored_at": at,
    }
