"""The threads searches run on: a limiter of their own, ``SHIXIN_SEARCH_THREADS`` wide.

A search on the embedded index is CPU work that holds Python's GIL for most of its time, so
more searches at once on one process only add switching between threads (and between them
and the event loop): on two cores one search thread answered as many requests as four, with
a lower p99 (benchmarks/RESULTS.md, 2026-12-03). Searches therefore wait for their own
few threads, while the other calls (store reads, forms, exports) keep ``SHIXIN_THREADS``.
"""

from __future__ import annotations

from anyio import CapacityLimiter
from starlette.requests import Request

from core.settings import Settings


def start(app_state: object, settings: Settings) -> None:
    """In the lifespan (a limiter belongs to the running event loop)."""
    app_state.search_limiter = CapacityLimiter(settings.search_threads)  # type: ignore[attr-defined]


def limiter(request: Request) -> CapacityLimiter | None:
    """The searches' limiter; None (anyio's default) in an app started without it."""
    return getattr(request.app.state, "search_limiter", None)
