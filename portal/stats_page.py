"""/stats: the public numbers: how many entries are listed and how fast removals take effect,
and the quarterly reports' charts over time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import report_charts
from portal.i18n import lang_of
from portal.render import render
from portal.reports_page import svg_response
from search_index.reports import QuarterlyReports, QuarterReport
from search_index.service import ListService
from search_index.stats import PublicNumbers

CHART_CACHE = "public, max-age=600"  # a new quarter appears a few times a year
# Counting a million entries takes most of a second: a public page must not do it per hit.
CACHE_SECONDS = 60.0
T = TypeVar("T")


async def stats(request: Request) -> Response:
    published = await _published(request)
    context = {
        "n": await _numbers(request),
        "trends": report_charts.trend_charts(published, lang_of(request)) if published else [],
        "chart_base": "/stats/",
    }
    return render(request, "stats.html", context)


async def trend_chart(request: Request) -> Response:
    charts = report_charts.trend_charts(await _published(request), lang_of(request))
    return svg_response(request, charts, request.path_params["chart"], CHART_CACHE)


async def _published(request: Request) -> list[QuarterReport]:
    reports: QuarterlyReports = request.app.state.reports
    return await _cached(request, "published_reports", reports.published)


async def _numbers(request: Request) -> PublicNumbers:
    service: ListService = request.app.state.service
    return await _cached(request, "public_numbers", service.public_numbers)


async def _cached(request: Request, name: str, compute: Callable[[], T]) -> T:
    """``compute()``, kept on the app as ``name`` for ``CACHE_SECONDS``."""
    state = request.app.state
    cached: tuple[float, T] | None = getattr(state, name, None)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    value = await to_thread.run_sync(compute)
    setattr(state, name, (time.monotonic(), value))
    return value


routes = [
    Route("/stats", stats, methods=["GET"]),
    Route("/stats/{chart}.svg", trend_chart, methods=["GET"]),
]
