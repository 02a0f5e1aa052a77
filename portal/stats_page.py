"""/stats: the public numbers: how many entries are listed and how fast removals take effect."""

from __future__ import annotations

import time

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.render import render
from search_index.service import ListService
from search_index.stats import PublicNumbers

# Counting a million entries takes most of a second: a public page must not do it per hit.
CACHE_SECONDS = 60.0


async def stats(request: Request) -> Response:
    return render(request, "stats.html", {"n": await _numbers(request)})


async def _numbers(request: Request) -> PublicNumbers:
    state = request.app.state
    cached: tuple[float, PublicNumbers] | None = getattr(state, "public_numbers", None)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    service: ListService = state.service
    numbers = await to_thread.run_sync(service.public_numbers)
    state.public_numbers = (time.monotonic(), numbers)
    return numbers


routes = [Route("/stats", stats, methods=["GET"])]
