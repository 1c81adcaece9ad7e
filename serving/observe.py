"""Request limits and Prometheus metrics, as ASGI middleware around the app."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.errors import body_too_large
from serving.predlog import PredictionLog

if TYPE_CHECKING:
    from serving.drift import DriftWatch


class Metrics:
    """Counters and histograms of one app, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "leadscore_requests", "HTTP requests by route and status.", ["route", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "leadscore_request_seconds", "Time to answer, by route.", ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )  # fmt: skip
        self.scores = Counter(
            "leadscore_scores", "Leads scored, by recommendation.", ["recommendation"],
            registry=self.registry,
        )  # fmt: skip
        self.lead_errors = Counter(
            "leadscore_lead_errors", "Leads of a batch answered with an error, by code.",
            ["code"], registry=self.registry,
        )  # fmt: skip

    def watch(self, log: PredictionLog) -> Collector:
        """Export the prediction log's spool depth, rows shipped and rows quarantined."""
        collector = _LogCollector(log)
        self.registry.register(collector)
        return collector

    def watch_drift(self, watch: DriftWatch) -> Collector:
        """Export the drift watch's latest check: PSI of the score and of each feature, the
        unseen share, whether it alerts, and the leads in the window."""
        collector = _DriftCollector(watch)
        self.registry.register(collector)
        return collector

    def forget(self, collectors: list[Collector]) -> None:
        """Stop exporting what a stopped app watched (its log is closed)."""
        for collector in collectors:
            self.registry.unregister(collector)


class _LogCollector(Collector):
    def __init__(self, log: PredictionLog) -> None:
        self.log = log

    def collect(self) -> Iterator[Metric]:
        health = self.log.health()
        yield GaugeMetricFamily(
            "leadscore_prediction_spool_depth",
            "Scores kept in the local spool, not yet in the prediction database.",
            value=health["spool_depth"],
        )
        yield CounterMetricFamily(
            "leadscore_prediction_rows_shipped",
            "Rows this worker moved from the spool into the prediction database.",
            value=health["shipped"],
        )
        yield GaugeMetricFamily(
            "leadscore_prediction_rows_quarantined",
            "Rows the prediction database refused, kept aside in the spool.",
            value=health["quarantined"],
        )


class _DriftCollector(Collector):
    def __init__(self, watch: DriftWatch) -> None:
        self.watch = watch

    def collect(self) -> Iterator[Metric]:
        check = self.watch.last_check or {}
        if check.get("score_psi") is not None:
            yield GaugeMetricFamily(
                "leadscore_drift_score_psi",
                "Population stability index of the score over this worker's window.",
                value=check["score_psi"],
            )
        features = GaugeMetricFamily(
            "leadscore_drift_feature_psi",
            "Population stability index of each feature over this worker's window.",
            labels=["feature"],
        )
        for name, value in check.get("feature_psi", {}).items():
            features.add_metric([name], value)
        yield features
        if check.get("unseen_share") is not None:
            yield GaugeMetricFamily(
                "leadscore_drift_unseen_share",
                "Share of category values in the window that training never saw.",
                value=check["unseen_share"],
            )
        yield GaugeMetricFamily(
            "leadscore_drift_alert",
            "1 while the drift check alerts, else 0.",
            value=int(self.watch.alerting),
        )
        yield GaugeMetricFamily(
            "leadscore_drift_window_leads",
            "Scored leads in this worker's drift window.",
            value=self.watch.window_leads,
        )


class BodyLimitAndMetrics:
    """Answers 413 (in the API error shape) to bodies over `max_bytes`; times every request."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, metrics: Metrics) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send, status)
        else:
            seen = {"bytes": 0}

            async def counted_receive() -> Message:
                message = await receive()
                seen["bytes"] += len(message.get("body", b""))
                if seen["bytes"] > self.max_bytes:
                    raise _TooLarge
                return message

            async def recorded_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status["code"] = message["status"]
                await send(message)

            try:
                await self.app(scope, counted_receive, recorded_send)
            except _TooLarge:
                await self._too_large(send, status)
            except Exception:
                # Unexpected: the error handler outside answers 500; count it here first.
                status["code"] = 500
                raise
            finally:
                self._count(scope, status["code"], started)
            return
        self._count(scope, status["code"], started)

    def _count(self, scope: Scope, status: int, started: float) -> None:
        route = scope.get("route")
        path = getattr(route, "path", None) or "unmatched"
        self.metrics.requests.labels(path, str(status)).inc()
        self.metrics.latency.labels(path).observe(time.perf_counter() - started)

    async def _too_large(self, send: Send, status: dict[str, Any]) -> None:
        body = json.dumps(body_too_large(self.max_bytes)).encode()
        status["code"] = 413
        await send(
            {"type": "http.response.start", "status": 413,
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())]}
        )  # fmt: skip
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
