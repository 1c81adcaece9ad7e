"""The drift watch: quiet on leads like the training data, one alert per change of state, a
webhook that retries and never holds up scoring, and a row for every complete check."""

from __future__ import annotations

import copy
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from prometheus_client import generate_latest

from scoring import LeadScorer, ScoredLead, Settings
from serving.drift import DriftWatch, Webhook
from serving.observe import Metrics
from serving.schemas import EXAMPLE_LEAD
from tests.conftest import FittedModel

WINDOW = 500
AS_OF = [datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=i) for i in range(WINDOW)]
RECORD_KEYS = {
    "checked_at", "model_name", "model_version", "window_leads", "window_first_as_of",
    "window_last_as_of", "score_psi", "worst_feature", "worst_feature_psi", "unseen_share",
    "alert", "details",
}  # fmt: skip
WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class Windows:
    """Scored leads: some like the training data, the same leads shifted, and with new values."""

    scorer: LeadScorer
    like: list[ScoredLead]
    shifted: list[ScoredLead]
    unseen: list[ScoredLead]


@pytest.fixture(scope="module")
def windows(fitted: FittedModel) -> Windows:
    scorer, dataset = fitted.trainer.scorer_, fitted.dataset
    learnt = np.concatenate([fitted.trainer.splits_rows_[s] for s in ("train", "validation")])
    rows = np.random.default_rng(0).choice(learnt, WINDOW, replace=False)
    like = dataset.features.iloc[rows]
    # Who the leads are changes: bought lists of much smaller companies.
    shifted = like.assign(
        source="purchased_list", campaign="list-q3", company_size=like["company_size"] / 20
    )
    return Windows(
        scorer,
        scorer.score_frame(like, reasons=0),
        scorer.score_frame(shifted, reasons=0),
        scorer.score_frame(like.assign(industry="aerospace"), reasons=0),
    )


def _watch(
    windows: Windows,
    *,
    record: Callable[[list[dict[str, Any]]], None] | None = None,
    webhook: Webhook | None = None,
    **settings: Any,
) -> DriftWatch:
    watch = DriftWatch(
        Settings(drift_window_leads=WINDOW, **settings), record=record, webhook=webhook
    )
    watch.use(windows.scorer, "lead-scoring", "1")
    return watch


def _said(log: pytest.LogCaptureFixture, message: str) -> list[logging.LogRecord]:
    return [r for r in log.records if r.name == "leadscore.serving" and r.msg == message]


@pytest.fixture
def serving_log(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> pytest.LogCaptureFixture:
    """caplog, for the serving logger: the `serve` command turns leadscore's propagation off
    when a test runs it in this process."""
    monkeypatch.setattr(logging.getLogger("leadscore"), "propagate", True)
    caplog.set_level(logging.INFO, logger="leadscore.serving")
    return caplog


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"waited {WAIT_SECONDS} s for {what}"
        time.sleep(0.02)


def test_quiet_on_leads_like_the_training_data_alerts_on_shifted_ones(windows: Windows) -> None:
    watch = _watch(windows)
    watch.observe(windows.like, AS_OF, windows.scorer)
    quiet = watch.check_now()
    assert quiet["status"] == "checked" and quiet["window_leads"] == WINDOW
    assert not quiet["alert"] and quiet["reasons"] == []
    assert quiet["score_psi"] < 0.1 and quiet["worst_feature_psi"] < 0.1
    assert quiet["window_first_as_of"] == AS_OF[0].isoformat()
    assert quiet["window_last_as_of"] == AS_OF[-1].isoformat()
    assert quiet["unseen_share"] == 0.0

    watch.observe(windows.shifted, AS_OF, windows.scorer)
    drifted = watch.check_now()
    assert drifted["alert"] and watch.last_check is drifted
    assert drifted["score_psi"] >= 0.25
    assert drifted["worst_feature"] in {"source", "campaign", "company_size"}
    assert drifted["worst_feature_psi"] == max(drifted["feature_psi"].values()) >= 0.25
    assert any(reason.startswith("source moved") for reason in drifted["reasons"])
    assert drifted["model_name"] == "lead-scoring" and drifted["model_version"] == "1"


def test_new_category_values_alert_on_their_share(windows: Windows) -> None:
    watch = _watch(windows, drift_psi_alert=50.0)  # only the unseen share can alert here
    watch.observe(windows.unseen, AS_OF, windows.scorer)
    check = watch.check_now()
    assert all(r.unseen_values == 1 for r in windows.unseen)  # the industry of each lead
    categorical = [i for i, f in enumerate(windows.scorer.feature_set) if f.kind == "categorical"]
    sent = WINDOW + sum(
        int(np.count_nonzero(~np.isnan(r.encoded[categorical]))) for r in windows.unseen
    )
    assert check["unseen_share"] == pytest.approx(WINDOW / sent, abs=1e-4)
    assert check["alert"] and "never seen in training" in check["reasons"][-1]


def test_live_leads_carry_their_encoded_row_and_unseen_count(windows: Windows) -> None:
    scorer = windows.scorer
    (known,) = scorer.score_leads([EXAMPLE_LEAD], EXAMPLE_LEAD["as_of"])
    (new,) = scorer.score_leads([{**EXAMPLE_LEAD, "industry": "Aerospace"}], EXAMPLE_LEAD["as_of"])
    industry = scorer.feature_set.names.index("industry")
    assert known.unseen_values == 0 and not np.isnan(known.encoded[industry])
    assert new.unseen_values == 1 and np.isnan(new.encoded[industry])
    assert len(known.encoded) == len(scorer.feature_set)


def test_an_alert_is_logged_once_per_change_of_state(
    windows: Windows, serving_log: pytest.LogCaptureFixture
) -> None:
    watch = _watch(windows)
    for leads in (windows.like, windows.shifted, windows.shifted, windows.like, windows.like):
        watch.observe(leads, AS_OF, windows.scorer)
        watch.check_now()
    said = [
        (r.levelname, r.msg)
        for r in serving_log.records
        if r.name == "leadscore.serving" and r.msg.startswith("drift")
    ]
    assert said == [("WARNING", "drift alert"), ("INFO", "drift resolved")]
    (alert,) = _said(serving_log, "drift alert")
    assert alert.score_psi >= 0.25 and alert.psi_alert == 0.25
    assert alert.worst_feature in {"source", "campaign", "company_size"} and alert.reasons


def test_checks_wait_for_a_full_window_and_then_record_a_row(windows: Windows) -> None:
    rows: list[dict[str, Any]] = []
    watch = _watch(windows, record=rows.extend)
    watch.observe(windows.like[:200], AS_OF[:200], windows.scorer)
    early = watch.check_now()
    assert early["status"] == "collecting" and early["window_leads"] == 200
    assert early["score_psi"] is None and not early["alert"] and rows == []

    watch.observe(windows.shifted, AS_OF, windows.scorer)
    check = watch.check_now()
    (row,) = rows
    assert set(row) == RECORD_KEYS
    assert row["checked_at"] == check["checked_at"] and row["window_leads"] == WINDOW
    assert row["alert"] is True and row["score_psi"] == check["score_psi"]
    assert datetime.fromisoformat(row["window_first_as_of"]) == AS_OF[0]
    details = json.loads(row["details"])
    assert details == {"feature_psi": check["feature_psi"], "reasons": check["reasons"]}


def test_a_failing_record_is_logged_and_the_watch_carries_on(
    windows: Windows, serving_log: pytest.LogCaptureFixture
) -> None:
    def broken(rows: list[dict[str, Any]]) -> None:
        raise OSError("disk full")

    watch = _watch(windows, record=broken)
    watch.observe(windows.like, AS_OF, windows.scorer)
    assert watch.check_now()["status"] == "checked"
    (failed,) = _said(serving_log, "drift check not recorded")
    assert "disk full" in failed.error


def test_a_new_model_starts_a_new_window_and_old_results_are_left_out(windows: Windows) -> None:
    watch = _watch(windows)
    watch.observe(windows.shifted, AS_OF, windows.scorer)
    assert watch.check_now()["alert"]
    retrained = copy.copy(windows.scorer)  # another scorer object, as a hot swap brings
    watch.use(retrained, "lead-scoring", "2")
    assert watch.last_check is None and watch.window_leads == 0
    watch.observe(windows.shifted, AS_OF, windows.scorer)  # begun before the swap: left out
    assert watch.window_leads == 0
    watch.observe(windows.like, AS_OF, retrained)
    check = watch.check_now()
    assert check["model_version"] == "2" and not check["alert"] and not watch.alerting


def test_an_artifact_without_a_reference_loads_serves_and_says_so(
    windows: Windows, tmp_path: Path
) -> None:
    folder = windows.scorer.save(tmp_path / "old")
    document = json.loads((folder / "scorer.json").read_text())
    del document["metadata"]["drift_reference"]  # as models trained before references were
    (folder / "scorer.json").write_text(json.dumps(document))
    old = LeadScorer.load(folder)
    results = old.score_leads([EXAMPLE_LEAD], EXAMPLE_LEAD["as_of"])
    assert results[0].score is not None
    watch = DriftWatch(Settings(drift_window_leads=WINDOW))
    watch.use(old, "lead-scoring", "0")
    watch.observe(results, AS_OF[:1], old)
    check = watch.check_now()
    assert check["status"] == "no_reference" and "retrain" in check["note"]
    assert check["window_leads"] == 0 and not check["alert"]


class _Receiver:
    """A local HTTP server that answers each POST with the next status of `statuses` (then 200),
    keeping each body."""

    def __init__(self, statuses: list[int]) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.answered: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                status = statuses.pop(0) if statuses else 200
                receiver.answered.append(status)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/drift"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    found = _Receiver([500])
    yield found
    found.close()


def test_the_alert_reaches_the_webhook_after_a_retry_and_so_does_its_end(
    windows: Windows, receiver: _Receiver
) -> None:
    webhook = Webhook(receiver.url, first_retry_seconds=0.05, timeout_seconds=5.0)
    watch = _watch(windows, webhook=webhook)
    watch.observe(windows.shifted, AS_OF, windows.scorer)
    alert = watch.check_now()
    _wait_for(lambda: receiver.answered == [500, 200], "the alert, retried once")
    delivered = receiver.bodies[1]
    assert receiver.bodies[0] == delivered  # the same check, sent again
    assert delivered["alert"] is True and delivered["score_psi"] == alert["score_psi"]
    assert delivered["feature_psi"] == alert["feature_psi"]
    assert delivered["worst_feature"] == alert["worst_feature"] and delivered["reasons"]

    watch.observe(windows.like, AS_OF, windows.scorer)
    watch.check_now()
    _wait_for(lambda: len(receiver.bodies) == 3, "the all-clear")
    assert receiver.bodies[2]["alert"] is False and receiver.answered[2] == 200
    watch.close()


def test_a_receiver_that_is_down_never_holds_up_scoring_or_checks(
    windows: Windows, serving_log: pytest.LogCaptureFixture
) -> None:
    # A port that takes connections and never answers: each post waits out its timeout.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/hooks/secret-token"
    webhook = Webhook(url, attempts=2, first_retry_seconds=0.05, timeout_seconds=0.5)
    watch = _watch(windows, webhook=webhook)
    try:
        started = time.perf_counter()
        watch.observe(windows.shifted, AS_OF, windows.scorer)
        assert watch.check_now()["alert"]
        for leads in (windows.like, windows.shifted):
            watch.observe(leads, AS_OF, windows.scorer)
            watch.check_now()
        took = time.perf_counter() - started
        assert took < 0.5, f"observing and checking took {took:.2f} s"  # one post takes 1 s

        _wait_for(lambda: bool(_said(serving_log, "drift webhook not delivered")), "a give-up")
        failure = _said(serving_log, "drift webhook not delivered")[0]
        assert failure.attempts == 2 and failure.host == "127.0.0.1"
        assert "secret-token" not in " ".join(str(vars(r)) for r in serving_log.records)
    finally:
        watch.close()
        silent.close()


def test_the_background_check_runs_on_schedule_and_stops(windows: Windows) -> None:
    watch = _watch(windows, drift_check_seconds=0.05).start()
    try:
        watch.observe(windows.shifted, AS_OF, windows.scorer)
        _wait_for(lambda: (watch.last_check or {}).get("alert") is True, "a scheduled check")
    finally:
        watch.close()


def test_metrics_show_the_latest_check(windows: Windows) -> None:
    metrics = Metrics()
    watch = _watch(windows)
    metrics.watch_drift(watch)
    before = generate_latest(metrics.registry).decode()
    assert "leadscore_drift_alert 0.0" in before and "leadscore_drift_score_psi" not in before
    watch.observe(windows.shifted, AS_OF, windows.scorer)
    check = watch.check_now()
    text = generate_latest(metrics.registry).decode()
    assert f"leadscore_drift_score_psi {check['score_psi']}" in text
    assert f'leadscore_drift_feature_psi{{feature="source"}} {check["feature_psi"]["source"]}' in (
        text
    )
    assert f"leadscore_drift_unseen_share {check['unseen_share']}" in text
    assert "leadscore_drift_alert 1.0" in text
    assert f"leadscore_drift_window_leads {float(WINDOW)}" in text
