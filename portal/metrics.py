"""Prometheus metrics at ``/metrics``: requests by route template, latency, list health.

Request counters live in prometheus_client's default registry. With several workers
(``shixin serve --workers N``) each worker is its own process, so the CLI points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before the workers start and a scrape,
whichever worker answers it, adds up every worker's files. The list gauges (index lag,
pending removals) are not per worker: the answering worker computes them from the store at
scrape time, cached briefly because the compliance report reads every removal.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from anyio import to_thread
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.accesslog import route_template

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
GAUGE_TTL_SECONDS = 15.0

REQUESTS = Counter(
    "shixin_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "shixin_http_request_duration_seconds",
    "Time from request to the end of the response, by method and route template",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        root_path = scope.get("root_path", "")
        status = 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            # Arbitrary method tokens from clients must not mint new time series.
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            route = route_template(scope, root_path)
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - start)


class ListCollector(Collector):
    """Gauges from ``ListService.health()`` and the compliance report, read at scrape time."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > GAUGE_TTL_SECONDS:
                self._cached = (time.monotonic(), self._read())
            yield from self._cached[1]

    def _read(self) -> list[Metric]:
        health = self.service.health()
        up = GaugeMetricFamily("shixin_up", "1 if the component answers", labels=["component"])
        up.add_metric(["store"], 1.0 if health["store"] == "ok" else 0.0)
        up.add_metric(["index"], 1.0 if health["index"] == "ok" else 0.0)
        out: list[Metric] = [up]
        if health["indexLag"] is not None:
            out.append(
                GaugeMetricFamily(
                    "shixin_index_lag",
                    "Changes in the store that the search index has not applied yet",
                    value=health["indexLag"],
                )
            )
        if len(health["replicas"]) > 1:  # several hosts, each with its own index
            out += _replica_gauges(health["replicas"])
        if health["store"] == "ok":
            report = self.service.compliance()
            out.append(
                GaugeMetricFamily(
                    "shixin_removals_pending",
                    "Removals received but not yet confirmed gone from the index",
                    value=report.pending,
                )
            )
            out.append(
                GaugeMetricFamily(
                    "shixin_removals_overdue",
                    "Pending removals already past their legal deadline",
                    value=report.overdue,
                )
            )
        return out


def _replica_gauges(replicas: list[dict[str, Any]]) -> list[Metric]:
    lag = GaugeMetricFamily(
        "shixin_index_replica_lag",
        "Changes in the store that each index replica has not applied yet",
        labels=["replica"],
    )
    live = GaugeMetricFamily(
        "shixin_index_replica_live",
        "1 if the index replica counts as live (reports, and has caught up)",
        labels=["replica"],
    )
    for replica in replicas:
        lag.add_metric([replica["name"]], replica["lag"])
        live.add_metric([replica["name"]], 1.0 if replica["state"] == "live" else 0.0)
    return [lag, live]


def request_registry() -> CollectorRegistry:
    """Where the request counters are read from: this process, or every worker's files."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


async def metrics(request: Request) -> Response:
    collector: ListCollector | None = getattr(request.app.state, "list_collector", None)
    if collector is None:
        collector = request.app.state.list_collector = ListCollector(request.app.state.service)
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(collector)
    body = await to_thread.run_sync(
        lambda: generate_latest(request_registry()) + generate_latest(gauges)
    )
    return Response(body, media_type=CONTENT_TYPE_LATEST)
