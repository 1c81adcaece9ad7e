"""The server's account state: what it knows of each account, kept as leads are scored.

A model trained with `[accounts]` reads five features of the lead's account (colleagues engaged
in 30 days, the best seniority among them, their high-intent actions, open and won leads). The
server computes them from an `AccountBook`: each scored lead is observed after it is answered,
and each outcome posted to /v1/outcomes closes its contact. The book is bounded (see
`features.accounts.AccountBook`) and saved beside the prediction log's spool, every
`LEADSCORE_ACCOUNTS_SAVE_SECONDS` and when the server stops, and read back at start: a crash
loses at most the leads observed since the last save. Each worker keeps its own book.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from features import AccountBook, InvalidLeadError, to_micros

logger = logging.getLogger("leadscore.serving")


class Accounts:
    """The account book of the serving model, shared by the event loop and the batch thread."""

    def __init__(self, path: Path | None, secret: Callable[[], bytes], save_seconds: float) -> None:
        self.path = path
        self.save_seconds = save_seconds
        self._secret = secret  # read when a model with accounts first needs a book
        self._lock = threading.Lock()
        self.book: AccountBook | None = None
        self._spec: dict[str, Any] | None = None  # the model's account columns the book reads
        self._saved: Mapping[str, Any] | None = self._read()

    def use(self, metadata: Mapping[str, Any]) -> None:
        """Follow the serving model: a model without accounts needs no book, one with the same
        account columns keeps the book it has (or the one saved), another starts anew."""
        spec = metadata.get("accounts")
        with self._lock:
            if spec is None:
                self.book = self._spec = None
                return
            if self.book is not None and self._spec == spec:
                return
            self._spec = dict(spec)
            # A key of the book's own, from the server's secret: lead ids are hashed with it.
            hash_key = hashlib.sha256(b"leadscore accounts\0" + self._secret()).digest()
            saved = self._saved
            if saved is not None and saved.get("spec") == spec:
                try:
                    self.book = AccountBook.from_dict(saved["book"], hash_key=hash_key)
                    return
                except (ValueError, KeyError) as error:
                    logger.warning("account book not restored", extra={"reason": str(error)})
            self.book = AccountBook(
                spec["key"],
                title_column=spec["title_column"],
                high_intent=spec["high_intent"],
                placeholders=spec["placeholders"],
                hash_key=hash_key,
            )

    def add_features(
        self, leads: Sequence[dict[str, Any]], moments: Sequence[datetime | str]
    ) -> None:
        """Each lead's account features as of its moment, written into the lead."""
        if self.book is None:
            return
        with self._lock:
            for lead, moment in zip(leads, moments, strict=True):
                lead.update(self.book.features(lead, to_micros(moment, field="as_of")))

    def observe(
        self, leads: Sequence[Mapping[str, Any]], moments: Sequence[datetime | str]
    ) -> list[str | None]:
        """Record leads that were scored, for their colleagues' features; for each, why it could
        not be recorded (an account without a creation time), or None. A lead without an id is
        not recorded."""
        if self.book is None:
            return [None] * len(leads)
        problems: list[str | None] = []
        with self._lock:
            for lead, moment in zip(leads, moments, strict=True):
                if lead.get("lead_id") is None:  # nothing to know it by when it comes again
                    problems.append(None)
                    continue
                try:
                    self.book.observe(lead, to_micros(moment, field="as_of"))
                    problems.append(None)
                except InvalidLeadError as error:
                    problems.append(f"{error.detail}: not kept for its account's other contacts")
        return problems

    def outcome(self, lead_id: str, status: str, closed_at: datetime) -> None:
        if self.book is None:
            return
        with self._lock:
            self.book.outcome(lead_id, status, to_micros(closed_at, field="closed_at"))

    def summary(self, account: str, as_of: datetime) -> dict[str, Any] | None:
        if self.book is None:
            return None
        with self._lock:
            return self.book.summary(account, to_micros(as_of, field="as_of"))

    def save(self) -> None:
        """Write the book atomically beside the spool (nothing without a spool or a book)."""
        if self.path is None or self.book is None:
            return
        with self._lock:
            document = json.dumps({"spec": self._spec, "book": self.book.to_dict()})
        partial = self.path.with_name(f".{self.path.name}.partial")
        partial.write_text(document)
        os.replace(partial, self.path)

    async def keep_saved(self) -> None:
        """Save every `save_seconds` until cancelled; a failed save is logged and retried."""
        while True:
            await asyncio.sleep(self.save_seconds)
            try:
                await asyncio.to_thread(self.save)
            except OSError as error:
                logger.warning("account book not saved", extra={"reason": str(error)})

    def _read(self) -> Mapping[str, Any] | None:
        if self.path is None or not self.path.is_file():
            return None
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError) as error:
            logger.warning("account book not read", extra={"reason": str(error)})
            return None
