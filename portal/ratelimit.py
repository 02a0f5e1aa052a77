"""Per-client rate limits (slowapi over `limits`), applied to routes as the app is assembled.

Three budgets per client address, each shared by every route of its kind:

* ``pages``: GET/HEAD on the site (search, entries, status, stats, metrics);
* ``api``: everything under ``/api/``;
* ``forms``: POST/PUT/PATCH/DELETE outside the API.

A request carrying a valid API key (portal/api_key_auth.py) is counted for its key instead of
its address, and the ``api`` budget of a key is ``SHIXIN_RATE_LIMIT_API_KEYED``.

Why decorators and not slowapi's middleware: both middlewares find the endpoint by scanning
the app's top-level routes, so a route inside a ``Mount`` has no endpoint and silently gets
no default limit, and the older ``SlowAPIMiddleware`` (a ``BaseHTTPMiddleware``) ignores a
custom 429 handler if it is a coroutine. :func:`limit_routes` instead wraps every endpoint,
recursing into mounted routers, with ``limiter.shared_limit``; the decorator raises
``RateLimitExceeded`` inside the endpoint, so Starlette's own exception table answers with
:func:`rate_limited` (Chinese HTML or the API's JSON error), and routes nobody listed are
limited by default. Plain ASGI apps under a ``Mount`` (``/static``) have no endpoint to wrap
and stay unlimited on purpose: every page view loads them.

slowapi talks to the storage synchronously, on the event loop: one Redis round trip per
limited request (``X-RateLimit-*`` headers are off, since they would cost a second one).
benchmarks/RESULTS.md has the measured cost. If Redis goes away, each worker falls back to
its own memory counters and logs a warning, instead of failing every request.
"""

from __future__ import annotations

import inspect
import logging
import math
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from limits import parse_many
from slowapi import Limiter
from slowapi.errors import RateLimitExceeded
from slowapi.wrappers import Limit
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, Router

from core.settings import Settings
from portal.clientaddr import ClientAddress
from portal.responses import api_error, is_api_path
from search_index.dates import CST

log = logging.getLogger("shixin.ratelimit")

PAGES, API, FORMS = "pages", "api", "forms"
# Submissions without a solved proof-of-work challenge (portal/altcha.py), charged by hand.
UNPROVEN = "unproven"
KEY_PREFIX = "shixin"
# Where portal/api_key_auth.py leaves a checked key's id, and how its counters are named.
API_KEY_SCOPE = "shixin.api_key"
KEYED = "key:"
READ_METHODS = ("get", "head")
WRITE_METHODS = ("post", "put", "patch", "delete")
# Load balancers and monitors poll it from one address; it answers from two cheap queries.
# Telegram posts every update of the bot from its few addresses; the secret header guards
# the webhook (portal/telegram_webhook.py), and the bot limits each chat (bot/fair_use.py).
EXEMPT_PATHS = frozenset({"/healthz", "/telegram/webhook"})
# The JSON twins of the casework forms (portal/casework_api.py): they draw on the forms
# budget too, or the API would be a way around it.
FORM_API_PATHS = frozenset(
    {"/api/v1/reports", "/api/v1/complaints", "/api/v1/track"}
    | {"/api/v1/track/add-info", "/api/v1/track/contest"}
)
# A dead Redis must cost little: the limit check runs on the event loop.
REDIS_OPTIONS = {"socket_timeout": 0.25, "socket_connect_timeout": 0.25}


def build_limiter(settings: Settings, clients: ClientAddress) -> Limiter:
    storage = settings.redis_url.reveal() if settings.redis_url else "memory://"

    # slowapi inspects the key function's signature on every hit: it must take `request`.
    # A request with a valid API key (portal/api_key_auth.py) is counted for its key.
    def client_key(request: Request) -> str:
        key_id = request.scope.get(API_KEY_SCOPE)
        if key_id is not None:
            return f"{KEYED}{key_id}"
        return clients.resolve(request.scope)

    # ...and inspect.signature() is slow unless the answer is already there.
    client_key.__signature__ = inspect.signature(client_key)  # type: ignore[attr-defined]

    logging.getLogger("slowapi").addFilter(_quiet_rejections)
    return Limiter(
        key_func=client_key,
        storage_uri=storage,
        storage_options=REDIS_OPTIONS if settings.redis_url else {},
        strategy="fixed-window",
        key_prefix=KEY_PREFIX,
        headers_enabled=False,
        in_memory_fallback_enabled=True,
        enabled=settings.rate_limit_enabled,
    )


def per_worker_warning(settings: Settings, workers: int) -> str | None:
    """What to warn about when ``workers`` processes would each keep their own counters
    (several workers, limits on, no Redis); None when the budgets hold as configured."""
    if workers <= 1 or not settings.rate_limit_enabled or settings.redis_url:
        return None
    return (
        f"{workers} workers without SHIXIN_REDIS_URL: each worker counts rate limits in its "
        f"own memory, so a client may get up to {workers} times every budget "
        "(SHIXIN_RATE_LIMIT_PAGES, _API, _FORMS, _UNPROVEN). Set SHIXIN_REDIS_URL to share "
        "the counters between workers."
    )


def _quiet_rejections(record: logging.LogRecord) -> bool:
    """slowapi logs every rejected request with the client's address: under a scraper that
    floods the log. 429s are counted in /metrics and written to the access log instead."""
    return not str(record.msg).startswith("ratelimit ")


def limit_routes(
    routes: Sequence[BaseRoute], limiter: Limiter, settings: Settings, prefix: str = ""
) -> list[BaseRoute]:
    """New routes whose endpoints check the limits; the given routes are left untouched
    (they are module-level lists that every app, and every test, builds from)."""
    if not limiter.enabled:
        return list(routes)
    budgets: dict[str, str | Callable[..., str]] = {PAGES: settings.rate_limit_pages}
    budgets[API] = api_budget(settings.rate_limit_api, settings.rate_limit_api_keyed)
    budgets[FORMS] = settings.rate_limit_forms
    wrapped: dict[str, tuple[Callable[..., Any], set[str]]] = getattr(
        limiter, "_shixin_wrapped", {}
    )
    limiter._shixin_wrapped = wrapped  # type: ignore[attr-defined]
    out: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route) and _is_function(route.endpoint):
            endpoint = _wrap(route, prefix, limiter, budgets, wrapped)
            out.append(
                Route(
                    route.path,
                    endpoint,
                    methods=sorted(route.methods) if route.methods else None,
                    name=route.name,
                    include_in_schema=route.include_in_schema,
                )
            )
        elif isinstance(route, Mount) and isinstance(route.app, Router):
            inner = limit_routes(route.routes, limiter, settings, prefix + route.path)
            out.append(Mount(route.path, routes=inner, name=route.name))
        else:
            if isinstance(route, Route):
                log.warning("route %s: endpoint is not a function, not rate limited", route.path)
            out.append(route)
    return out


def api_budget(anonymous: str, keyed: str) -> Callable[..., str]:
    """The API's budget for a rate-limit key: the higher one for an API key's requests."""

    def budget(key: str) -> str:
        return keyed if key.startswith(KEYED) else anonymous

    # slowapi looks for a `key` parameter on every hit: answered without inspecting.
    budget.__signature__ = inspect.signature(budget)  # type: ignore[attr-defined]
    return budget


def groups_for(path: str, methods: set[str] | None) -> list[tuple[str, tuple[str, ...]]]:
    """Which budgets a route draws on, and for which methods."""
    if path in EXEMPT_PATHS:
        return []
    if path in FORM_API_PATHS:  # filing or following a ticket by API costs what the form does
        return [(API, READ_METHODS + WRITE_METHODS), (FORMS, WRITE_METHODS)]
    if is_api_path(path):
        return [(API, READ_METHODS + WRITE_METHODS)]
    wanted = {m.lower() for m in methods or {"GET", "HEAD", "POST"}}
    out = []
    if wanted & set(READ_METHODS):
        out.append((PAGES, READ_METHODS))
    if wanted & set(WRITE_METHODS):
        out.append((FORMS, WRITE_METHODS))
    return out


def _wrap(
    route: Route,
    prefix: str,
    limiter: Limiter,
    budgets: dict[str, str | Callable[..., str]],
    wrapped: dict[str, tuple[Callable[..., Any], set[str]]],
) -> Callable[..., Any]:
    endpoint = route.endpoint
    # slowapi files limits under "module.name" and checks all of them whichever wrapper runs;
    # decorating one function twice for the same budget would count each request twice.
    name = f"{endpoint.__module__}.{endpoint.__name__}"
    current, applied = wrapped.get(name, (endpoint, set()))
    for group, methods in groups_for(prefix + route.path, route.methods):
        if group in applied:
            continue
        current = limiter.shared_limit(
            budgets[group], scope=group, exempt_when=_other_methods(methods), error_message=group
        )(current)
        applied.add(group)
    wrapped[name] = (current, applied)
    return current


def _other_methods(methods: tuple[str, ...]) -> Callable[[Request], bool]:
    # shared_limit() takes no `methods`; a limit exempts the requests it does not count.
    upper = frozenset(m.upper() for m in methods)

    def exempt(request: Request) -> bool:
        return request.method not in upper

    return exempt


def _is_function(endpoint: Any) -> bool:
    # slowapi's decorator needs a named function or method taking `request`.
    return inspect.isfunction(endpoint) or inspect.ismethod(endpoint)


def charge(request: Request, budget: str, scope: str, cost: int = 1) -> None:
    """Count this request ``cost`` times against ``budget`` (say ``"3/hour"``, or several
    joined by ``;``) in ``scope``, in the same storage as the route budgets; raise
    ``RateLimitExceeded`` (answered by :func:`rate_limited`) once it is spent. For budgets
    that depend on what was posted, which no route decorator knows (``scope=API`` draws on
    the route budget of the API itself, or of the request's API key). Storage trouble lets
    the request through (with a warning): the route's own budget, which falls back to
    memory, still applies."""
    limiter: Limiter = request.app.state.limiter
    if not limiter.enabled or cost < 1:
        return
    key = request.app.clients.resolve(request.scope)
    key_id = request.scope.get(API_KEY_SCOPE)
    if scope == API and key_id is not None:  # an API key's request: its key's own budget
        key, budget = f"{KEYED}{key_id}", request.app.state.settings.rate_limit_api_keyed
    args = [KEY_PREFIX, key, scope]
    for item in parse_many(budget):
        request.state.view_rate_limit = (item, args)  # for the Retry-After of a 429
        try:
            allowed = limiter.limiter.hit(item, *args, cost=cost)
        except Exception:
            log.warning("rate-limit storage failed; %s budget not charged", scope, exc_info=True)
            return
        if not allowed:
            limit = Limit(item, lambda: key, scope, False, None, scope, None, 1, False)
            raise RateLimitExceeded(limit)


def retry_after_seconds(request: Request, limiter: Limiter) -> int:
    """Seconds until the budget that was exhausted refills (one storage call, on 429s only)."""
    current = getattr(request.state, "view_rate_limit", None)
    if current is None:
        return 60
    item, args = current
    try:
        reset_at, _remaining = limiter.limiter.get_window_stats(item, *args)
    except Exception:  # storage trouble must not turn a 429 into a 500
        log.warning("could not read the rate-limit window", exc_info=True)
        return int(item.get_expiry())
    return max(1, math.ceil(reset_at - time.time()))


async def rate_limited(request: Request, exc: Exception) -> Response:
    """The 429 answer: JSON for the API, a Chinese page otherwise; both with Retry-After."""
    assert isinstance(exc, RateLimitExceeded)
    retry = retry_after_seconds(request, request.app.state.limiter)
    headers = {"Retry-After": str(retry), "Cache-Control": "no-store"}
    unproven = exc.detail == UNPROVEN
    if is_api_path(request.url.path):
        message = f"请求过于频繁，请在 {retry} 秒后再试"
        if unproven:
            message = f"未附工作量证明（altcha）的提交过多，请附上 altcha，或在 {retry} 秒后再试"
        response: Response = api_error(429, "rate_limited", message, retryAfter=retry)
        response.headers.update(headers)
        return response
    retry_at = datetime.fromtimestamp(time.time() + retry, UTC).astimezone(CST)
    return request.app.state.templates.TemplateResponse(
        request,
        "429.html",
        {
            "status": 429,
            "retry_after": retry,
            "retry_at": f"{retry_at:%H:%M:%S}",
            "unproven": unproven,
        },
        status_code=429,
        headers=headers,
    )
