"""Watching the leads a worker scores for drift: are they still the kind the model learnt from?

Each worker keeps its own window: the last `LEADSCORE_DRIFT_WINDOW_LEADS` (500) leads it scored
with the serving model. Every `LEADSCORE_DRIFT_CHECK_SECONDS` (30), once the window is full, a
background thread compares it with the reference distributions kept in the model's artifact at
training (`scoring.drift`): the population stability index (PSI) of the score and of each
feature, and the share of category values that training never saw. A PSI below 0.1 reads as
stable, 0.1 to 0.25 as a moderate shift, 0.25 or more as a major one.

A check alerts when the score's or any feature's PSI is at least `LEADSCORE_DRIFT_PSI_ALERT`
(0.25), or the unseen share at least `LEADSCORE_DRIFT_UNSEEN_ALERT` (0.05). Only changes are
announced: the first alerting check logs one warning ("drift alert", with the figures) and,
with `LEADSCORE_DRIFT_WEBHOOK_URL` set, posts the check as JSON there; the first quiet check
after that logs and posts "drift resolved". Several workers each watch, and may each announce,
their own window. Every complete check is also handed to `record` (the prediction log's
`drift_checks` table) and shown as gauges on /metrics.

Scoring only appends to the window (a few microseconds a lead); the checks, the posts and their
retries run on threads of their own, so a slow or absent receiver never holds up an answer.
A model trained before references were kept is served as before; its checks say so.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scoring import Settings
from serving.errors import short_error

if TYPE_CHECKING:  # NumPy and the scorer load with the model, after the port opens
    from scoring import DriftReference, LeadScorer, ScoredLead

logger = logging.getLogger("leadscore.serving")
Record = Callable[[list[dict[str, Any]]], None]
CLOSE_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class _Watched:
    """The model whose leads fill the window, and its reference (None: kept no reference)."""

    scorer: LeadScorer
    name: str
    version: str
    reference: DriftReference | None


class DriftWatch:
    """One worker's drift window, checks and alerts. `use` names the model, `observe` feeds it,
    `start` checks on a schedule, `check_now` checks at once."""

    def __init__(
        self, settings: Settings, *, record: Record | None = None, webhook: Webhook | None = None
    ) -> None:
        self.window_size = settings.drift_window_leads
        self.check_seconds = settings.drift_check_seconds
        self.psi_alert = settings.drift_psi_alert
        self.unseen_alert = settings.drift_unseen_alert
        self.record = record
        url = settings.drift_webhook_url
        self.webhook = webhook or (Webhook(url) if url else None)
        self.last_check: dict[str, Any] | None = None
        self.alerting = False
        self._watched: _Watched | None = None
        self._window: deque[tuple[float, Any, int, datetime]] = deque(maxlen=self.window_size)
        self._observed = 0  # leads appended since start, to skip checks when nothing came
        self._observed_at_check = 0
        self._lock = threading.Lock()  # the window and the model it belongs to
        self._checking = threading.Lock()  # one check at a time, so alerts follow in order
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def use(self, scorer: LeadScorer, name: str, version: str) -> None:
        """Watch the leads `scorer` scores from now on, in a new window. The alert state carries
        over: a retrained model that no longer drifts resolves the alert."""
        from scoring import DriftReference

        watched = _Watched(scorer, name, version, DriftReference.of(scorer))
        with self._lock:
            self._watched = watched
            self._window = deque(maxlen=self.window_size)
        self.last_check = None

    @property
    def window_leads(self) -> int:
        return len(self._window)

    def observe(
        self, results: Sequence[ScoredLead], as_of: Sequence[datetime], scorer: LeadScorer
    ) -> None:
        """Add scored leads (each scored as of the moment in `as_of`, timezone-aware) to the
        window. Results of another scorer than the watched one (a request begun before a swap)
        and of segment models (their codes are their own) are left out."""
        with self._lock:
            watched = self._watched
            if watched is None or watched.reference is None or scorer is not watched.scorer:
                return
            append = self._window.append
            for result, moment in zip(results, as_of, strict=True):
                if result.encoded is not None and result.segment is None:
                    append((result.probability, result.encoded, result.unseen_values, moment))
            self._observed += len(results)

    def start(self) -> DriftWatch:
        self._stop.clear()
        self._thread = threading.Thread(target=self._check_forever, name="drift-watch", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.webhook is not None:
            self.webhook.close()

    def _check_forever(self) -> None:
        while not self._stop.wait(self.check_seconds):
            if self._observed == self._observed_at_check:
                continue  # nothing new since the last check
            try:
                self.check_now()
            except Exception:  # a failed check must not end the watch
                logger.exception("drift check failed")

    def check_now(self) -> dict[str, Any]:
        """Check the window now; a complete check is recorded, and logged and posted when its
        alert state changed. Returns the check."""
        with self._checking:
            with self._lock:
                watched, leads = self._watched, list(self._window)
                self._observed_at_check = self._observed
            check = self._measure(watched, leads)
            self.last_check = check
            if check["status"] == "checked":
                self._announce(check)
                self._record(check)
            return check

    def _measure(
        self, watched: _Watched | None, leads: list[tuple[float, Any, int, datetime]]
    ) -> dict[str, Any]:
        moments = [lead[3] for lead in leads]
        check: dict[str, Any] = {
            "checked_at": datetime.now(UTC).isoformat(),
            "model_name": watched.name if watched else None,
            "model_version": watched.version if watched else None,
            "window_leads": len(leads),
            "window_first_as_of": min(moments).isoformat() if moments else None,
            "window_last_as_of": max(moments).isoformat() if moments else None,
            "score_psi": None,
            "feature_psi": {},
            "worst_feature": None,
            "worst_feature_psi": None,
            "unseen_share": None,
            "alert": False,
            "reasons": [],
        }
        if watched is None:
            return {**check, "status": "no_model", "note": "No model is served yet."}
        if watched.reference is None:
            return {
                **check,
                "status": "no_reference",
                "note": "This model was trained before leadscore kept the distributions it "
                "learnt from: retrain it to watch drift.",
            }
        if len(leads) < self.window_size:
            return {
                **check,
                "status": "collecting",
                "note": f"{len(leads)} of the {self.window_size} leads a check compares have "
                "been scored so far.",
            }
        drift = watched.reference.compare(
            [lead[0] * 100 for lead in leads],
            [lead[1] for lead in leads],
            sum(lead[2] for lead in leads),
        )
        worst = drift.worst_feature
        reasons = self._reasons(drift.score_psi, drift.feature_psi, drift.unseen_share)
        return {
            **check,
            "score_psi": drift.score_psi,
            "feature_psi": drift.feature_psi,
            "worst_feature": worst,
            "worst_feature_psi": drift.feature_psi[worst] if worst else None,
            "unseen_share": round(drift.unseen_share, 4),
            "alert": bool(reasons),
            "reasons": reasons,
            "status": "checked",
            "note": None,
        }

    def _reasons(
        self, score_psi: float, feature_psi: dict[str, float], unseen_share: float
    ) -> list[str]:
        """What crossed which threshold, in plain words: the score, features (largest first),
        then unseen values."""
        limit = self.psi_alert
        reasons = []
        if score_psi >= limit:
            reasons.append(
                f"The scores moved: their PSI is {score_psi:.2f}, at or above the alert "
                f"level {limit:.2f}."
            )
        for name, value in sorted(feature_psi.items(), key=lambda item: -item[1]):
            if value >= limit:
                reasons.append(
                    f"{name} moved: its PSI is {value:.2f}, at or above the alert level "
                    f"{limit:.2f}."
                )
        if unseen_share >= self.unseen_alert:
            reasons.append(
                f"{unseen_share:.1%} of the category values sent were never seen in training, "
                f"at or above the alert level {self.unseen_alert:.1%}."
            )
        return reasons

    def _announce(self, check: dict[str, Any]) -> None:
        """Log and post a change of state only: an alert begins, or it is resolved."""
        if check["alert"] == self.alerting:
            return
        self.alerting = check["alert"]
        figures = {
            key: check[key]
            for key in ("model_name", "model_version", "window_leads", "score_psi",
                        "worst_feature", "worst_feature_psi", "unseen_share", "reasons")
        }  # fmt: skip
        if check["alert"]:
            logger.warning(
                "drift alert",
                extra={**figures, "psi_alert": self.psi_alert, "unseen_alert": self.unseen_alert},
            )
        else:
            logger.info("drift resolved", extra=figures)
        if self.webhook is not None:
            self.webhook.send(check)

    def _record(self, check: dict[str, Any]) -> None:
        if self.record is None:
            return
        row = {
            key: check[key]
            for key in ("checked_at", "model_name", "model_version", "window_leads",
                        "window_first_as_of", "window_last_as_of", "score_psi", "worst_feature",
                        "worst_feature_psi", "unseen_share", "alert")
        }  # fmt: skip
        row["details"] = json.dumps(
            {"feature_psi": check["feature_psi"], "reasons": check["reasons"]}
        )
        try:
            self.record([row])
        except Exception as error:  # the check stands without its row
            logger.error("drift check not recorded", extra={"error": short_error(error)})


class Webhook:
    """Posts drift checks as JSON to `url` from a thread of its own, in order, each retried with
    exponential backoff; a response in the 2xx range delivers it."""

    def __init__(
        self,
        url: str,
        *,
        attempts: int = 5,
        first_retry_seconds: float = 0.5,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.url = url
        self.attempts = attempts
        self.first_retry_seconds = first_retry_seconds
        self.timeout_seconds = timeout_seconds
        # The address may carry a token (chat webhooks do): logs name its host only.
        self.host = urlsplit(url).hostname or "the webhook"
        self._queue: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self, check: dict[str, Any]) -> None:
        """Queue `check` for posting; returns at once."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._deliver_forever, name="drift-webhook", daemon=True
            )
            self._thread.start()
        self._queue.put(check)

    def close(self) -> None:
        """Stop retrying and drop what is queued; a post under way gets `CLOSE_WAIT_SECONDS`
        to finish."""
        self._stop.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(CLOSE_WAIT_SECONDS)

    def _deliver_forever(self) -> None:
        import httpx  # only a server with a webhook needs it

        with httpx.Client(timeout=self.timeout_seconds) as client:
            while (check := self._queue.get()) is not None and not self._stop.is_set():
                self._deliver(client, check)

    def _deliver(self, client: Any, check: dict[str, Any]) -> None:
        delay, problem = self.first_retry_seconds, ""
        for attempt in range(1, self.attempts + 1):
            try:
                response = client.post(self.url, json=check)
            except Exception as error:  # unreachable, timed out, refused: try again
                problem = short_error(error).replace(self.url, self.host)
            else:
                if response.is_success:
                    return
                problem = f"HTTP {response.status_code}"
            if attempt == self.attempts or self._stop.wait(delay):
                break
            delay *= 2
        logger.error(
            "drift webhook not delivered",
            extra={"host": self.host, "attempts": attempt, "error": problem,
                   "alert": check["alert"]},
        )  # fmt: skip
