"""The Starlette application: routes, templates, and the background loops.

The loops (index sync, expiry, reconciliation, the casework overdue sweep, mail and webhooks
from the outbox) run in every worker; the sync lease makes sure only one of them changes the
index at a time, and outbox claims that each message is sent by one worker. In webhook mode the
lifespan also runs the Telegram bot (portal/telegram_webhook.py).

Every request passes, outermost first, the access log, metrics and security headers (all
outside Starlette's error handler, so 500s are logged and get the headers too), then the
API-key check (portal/api_key_auth.py), then its endpoint's rate-limit budget
(portal/ratelimit.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from anyio import CapacityLimiter, to_thread
from slowapi.errors import RateLimitExceeded
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Scope

from api_keys.service import ApiKeys
from casework.accounts import sweep_expired
from casework.mail import MailSender
from casework.service import CaseService
from core.settings import Settings, load_settings
from ingest_jobs.service import IngestJobs
from portal import (
    about_page,
    admin_key_pages,
    admin_pages,
    altcha,
    api,
    api_exports,
    api_ingest_jobs,
    api_key_pages,
    api_match,
    api_screenings,
    atom_feeds,
    casework_api,
    casework_pages,
    pages,
    reports_page,
    screening_pages,
    search_threads,
    telegram_webhook,
    unit_pages,
    units_stats_page,
    watch_pages,
    webhook_pages,
)
from portal.accesslog import AccessLogMiddleware
from portal.api_key_auth import ApiKeyMiddleware
from portal.clientaddr import ClientAddress
from portal.compression import Compression
from portal.demo import DemoMarker
from portal.metrics import MetricsMiddleware, metrics
from portal.ratelimit import build_limiter, limit_routes, rate_limited
from portal.render import render
from portal.responses import api_error, is_api_path
from portal.security import FormTooLarge, SecurityMiddleware
from portal.static_assets import StaticAssets
from portal.templating import make_templates
from screening.jobs import Screenings
from search_index.apply import apply_pending
from search_index.change_watch import POLL
from search_index.reports import QuarterlyReports
from search_index.service import ListService
from watches.alerts import AlertRound
from watches.digest import MailRound
from watches.email_subscriptions import EmailWatches
from watches.mail_texts import list_headers
from webhooks.delivery import WebhookSender
from webhooks.endpoints import Webhooks

log = logging.getLogger("shixin.portal")
ROOT = Path(__file__).resolve().parent.parent
USAGE_FLUSH_SECONDS = 10.0  # how often a worker writes the API keys' counted requests


def create_app(
    settings: Settings | None = None,
    *,
    background: bool = True,
    telegram_request: Callable[[], Any] | None = None,
) -> Starlette:
    """The portal. ``telegram_request`` makes the webhook bot's HTTP clients (tests pass
    the local Bot API; see portal/telegram_webhook.py)."""
    settings = settings or load_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The requests' threads: a few contend less for the GIL than anyio's default forty
        # (twice the throughput at 1M entries). Searches take one of their own limiter
        # (portal/search_threads.py), the background loops threads of their own (_Loops).
        to_thread.current_default_thread_limiter().total_tokens = settings.threads
        search_threads.start(app.state, settings)
        service = await to_thread.run_sync(ListService, settings)
        app.state.service = service
        try:  # a bad routing file stops the start with an error naming the entry
            cases = await to_thread.run_sync(CaseService.from_settings, settings, service.store)
        except Exception:
            service.close()
            raise
        app.state.cases = cases
        key = settings.id_hash_key.reveal()
        app.state.email_watches = EmailWatches(service.store, key, settings.public_url)
        retention = timedelta(hours=settings.screening_retention_hours)
        app.state.screenings = screenings = Screenings(service, key, retention)
        app.state.api_keys = keys = ApiKeys(service.store, key, settings.public_url)
        loopback = settings.webhooks_allow_http_loopback
        app.state.webhooks = Webhooks(service.store, key, allow_http_loopback=loopback)
        app.state.ingest_jobs = ingest_jobs = IngestJobs(service, key)
        app.state.reports = reports = QuarterlyReports(service.store, service.calendar)
        # Finish whatever a crash left journaled but unapplied, then catch the index up.
        await to_thread.run_sync(apply_pending, service.store, service.calendar)
        await to_thread.run_sync(service.expire)
        await to_thread.run_sync(service.sync)
        loops = _Loops()
        if background:
            mailer = MailSender.from_settings(
                settings, service.store, extra_headers=list_headers(key, settings.public_url)
            )
            # At once when the store changes (another host's removal), else each interval.
            follower = service.follower(settings.sync_interval_seconds)
            loops.every(POLL, "sync", follower.turn, stop=follower.stop)
            loops.every(settings.expire_interval_seconds, "expiry", service.expire)
            # A quarter's report is frozen once its removal deadlines have all passed.
            loops.every(settings.expire_interval_seconds, "quarterly reports", reports.freeze_due)
            loops.every(settings.reconcile_interval_seconds, "reconcile", service.reconcile)
            loops.every(settings.sweep_interval_seconds, "overdue sweep", cases.sweep_overdue)
            loops.every(  # old login throttle rows, dead sessions, orphan evidence files
                settings.sweep_interval_seconds,
                "housekeeping",
                lambda: (
                    sweep_expired(service.store),
                    cases.sweep_orphan_evidence(),
                    screenings.sweep(),  # uploaded lists and results past their retention
                    ingest_jobs.sweep(),  # background batches' answers, read or not
                ),
            )
            # Batches sent with Prefer: respond-async, kept in the store: a restart resumes
            # them. Stopping ends a running one after its current chunk (see stop below).
            loops.every(settings.ingest_job_interval_seconds, "ingest jobs", ingest_jobs.run)
            # Uploaded screenings, batch by batch from the store: a restart resumes them. A
            # round stops after ROUND_ROWS, so that stopping the worker never waits long.
            loops.every(
                settings.screening_interval_seconds,
                "screening",
                lambda: screenings.run(limit=screening_pages.ROUND_ROWS),
            )
            loops.every(  # a routing file installed in another worker
                admin_pages.ROUTING_CHECK_SECONDS,
                "routing check",
                lambda: app.state.cases.refresh_routing(),
            )
            # Watch alerts into the outbox: the store's write lock keeps workers' rounds apart.
            alerts = AlertRound(service.store)
            loops.every(settings.mail_interval_seconds, "watch alerts", alerts.run)
            # Then the email addresses' alerts into mails: immediate, or the daily digest.
            watch_mail = MailRound(service.store, key, settings.public_url)
            loops.every(settings.mail_interval_seconds, "watch mail", watch_mail.run)
            # API keys' daily usage, counted in memory by each request (api_keys/usage.py).
            loops.every(USAGE_FLUSH_SECONDS, "api key usage", keys.usage.flush)
            # Outbox claims keep several workers from double sends.
            loops.every(settings.mail_interval_seconds, "mail", mailer.deliver_pending)
            # Webhooks: the feed queued per endpoint, then sent from the outbox the same way.
            webhook_sender = WebhookSender(
                service.store,
                key,
                service.calendar,
                public_url=settings.public_url,
                allow_http_loopback=loopback,
                demo=settings.demo,
            )
            loops.every(settings.mail_interval_seconds, "webhooks", webhook_sender.run)
        app.state.telegram = None
        try:
            # Webhook mode: the bot answers updates in this worker (else None).
            app.state.telegram = await telegram_webhook.start(
                settings,
                service.store,
                service,
                cases,
                request=telegram_request,
                deliver=background,
            )
            yield
        finally:
            if app.state.telegram is not None:  # first: queued updates still use the store
                await app.state.telegram.stop()
            ingest_jobs.stopping.set()  # a running batch lets go at its next chunk
            await loops.stop()
            with contextlib.suppress(Exception):  # the last counts, before the store closes
                await to_thread.run_sync(keys.usage.flush)
            service.close()

    clients = ClientAddress(settings.trusted_proxies)
    limiter = build_limiter(settings, clients)
    static = StaticAssets(ROOT / "static")
    routes = [
        *api.routes,
        *api_ingest_jobs.routes,
        *api_exports.routes,
        *api_match.routes,
        *api_screenings.routes,
        *pages.routes,
        *atom_feeds.routes,
        *casework_pages.routes,
        *casework_api.routes,
        *unit_pages.routes,
        *admin_pages.routes,
        *admin_key_pages.routes,
        *units_stats_page.routes,
        *about_page.routes,
        *reports_page.routes,
        *watch_pages.routes,
        *screening_pages.routes,
        *api_key_pages.routes,
        *webhook_pages.routes,
        *altcha.routes,
        *telegram_webhook.routes(settings),
        Route("/metrics", metrics, methods=["GET"]),
        Mount("/static", static, name="static"),
    ]
    app = Portal(
        settings,
        clients,
        # Every endpoint, mounted ones included, draws on its budget (see portal/ratelimit.py).
        routes=limit_routes(routes, limiter, settings),
        # Inside the error handler (a failing key check is a logged 500), before the limits.
        middleware=[Middleware(ApiKeyMiddleware)],
        exception_handlers={
            RateLimitExceeded: rate_limited,
            HTTPException: _http_error,
            Exception: _server_error,
        },
        lifespan=lifespan,
    )
    app.state.limiter = limiter
    app.state.templates = make_templates(ROOT / "templates", static.url)
    return app


class Portal(Starlette):
    """Starlette with our middleware outside its error handler, so that a 500 page is
    logged, counted and carries the security headers like any other response."""

    def __init__(self, settings: Settings, clients: ClientAddress, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Where Starlette keeps what an app's endpoints share: views read
        # request.app.state.settings.
        self.state.settings = settings
        self.clients = clients

    @property
    def settings(self) -> Settings:
        """The app's settings, the same object as ``app.state.settings``."""
        return self.state.settings  # type: ignore[no-any-return]

    def build_middleware_stack(self) -> ASGIApp:
        settings = self.settings
        app: ASGIApp = SecurityMiddleware(super().build_middleware_stack(), settings)
        app = Compression(app)  # outside the headers it must not alter, inside the counters
        if settings.demo:  # every response, error pages and the API included
            app = DemoMarker(app)
        app = MetricsMiddleware(app)
        if settings.access_log:
            app = AccessLogMiddleware(app, self.clients)
        return app


class _Loops:
    """The background loops of one worker. Stopping lets a round that is running finish
    (its thread holds store connections, which must go back before the store closes) and
    only then ends the loops; a round still running after STOP_WAIT is abandoned.

    Each loop runs its rounds on a thread of its own (a limiter of one), never on the
    requests' threads (``SHIXIN_THREADS``): the sync loop's round waits up to a second for
    a change, and on the requests' limiter it held one of their few threads all the time."""

    STOP_WAIT = 30.0

    def __init__(self) -> None:
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stops: list[Callable[[], None]] = []

    def every(
        self,
        interval: float,
        name: str,
        job: Callable[[], Any],
        *,
        stop: Callable[[], None] | None = None,
    ) -> None:
        """``stop``: ends a round that waits (the sync loop waits for a change) at once."""
        limiter = CapacityLimiter(1)
        self._tasks.append(asyncio.create_task(self._run(interval, name, job, limiter)))
        if stop is not None:
            self._stops.append(stop)

    async def _run(
        self, interval: float, name: str, job: Callable[[], Any], limiter: CapacityLimiter
    ) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=interval)
                return  # asked to stop, between rounds
            try:
                await to_thread.run_sync(job, limiter=limiter)
            except Exception:  # a failed round is retried next time; never kill the loop
                log.exception("background %s failed", name)

    async def stop(self) -> None:
        self._stopping.set()
        for stop in self._stops:
            stop()
        if not self._tasks:
            return
        _done, late = await asyncio.wait(self._tasks, timeout=self.STOP_WAIT)
        for task in late:
            log.warning("a background round did not finish in %.0f s: abandoned", self.STOP_WAIT)
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _http_error(request: Request, exc: Exception) -> Response:
    """404, 405 and 413 as the API's JSON error or a page; the exception's headers are kept,
    and a 405 names every method the address answers (``Allow``, RFC 9110 §15.5.6)."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request.app.router.routes, request.scope) or (
            headers.get("Allow", "")
        )
    response: Response
    if is_api_path(request.url.path):
        messages = {404: "没有这个地址", 405: "不支持该请求方法", 413: "提交内容过大"}
        response = api_error(
            exc.status_code, "http_error", messages.get(exc.status_code, exc.detail)
        )
    else:
        template = {404: "404.html", 413: "413.html"}.get(exc.status_code, "error.html")
        context: dict[str, Any] = {"status": exc.status_code}
        if isinstance(exc, FormTooLarge):
            context["limit_text"] = exc.limit_text
        # Under /unit/ an error page is a back-office page like the rest: never cached.
        private = request.url.path.startswith("/unit/")
        response = render(request, template, context, status_code=exc.status_code, private=private)
    response.headers.update(headers)
    return response


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """The methods some route answers at the scope's address, as an ``Allow`` value ("" if
    none does). Starlette's own 405 names only the methods of the first route whose path
    matched, and the address may have one route per method (GET and POST on /track)."""
    methods: set[str] = set()
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount) and isinstance(route.app, StaticFiles):
            methods.update(("GET", "HEAD"))  # all StaticFiles answers
        elif isinstance(route, Mount):
            inner = allowed_methods(route.routes, {**scope, **child})
            methods.update(m.strip() for m in inner.split(",") if m.strip())
        elif isinstance(route, Route) and route.methods:
            methods.update(route.methods)
    return ", ".join(sorted(methods))


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    if is_api_path(request.url.path):
        return api_error(500, "server_error", "服务器内部错误，请稍后再试")
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"status": 500}, status_code=500
    )
