"""Webhook mode: the bot runs inside the portal, and Telegram posts each update to
``/telegram/webhook`` instead of the bot polling for it. On when ``SHIXIN_TELEGRAM_TOKEN``
and ``SHIXIN_TELEGRAM_WEBHOOK_SECRET`` are both set; ``shixin bot --set-webhook`` tells
Telegram the address (bot/webhook.py).

The route checks Telegram's secret header in constant time (403 otherwise, nothing read
further), parses the update, only puts it on the application's update queue and answers
200 at once: the handlers run in the application's own task, so a slow search never makes
Telegram time out and post the update again. Not rate-limited per client
(portal/ratelimit.py): every update comes from Telegram's few addresses, and the secret
already keeps everyone else out.

The portal's lifespan starts the application and, since ``post_init`` runs only under
``run_polling``, its outbox delivery loop; then stops both. The portal must start even when
Telegram cannot be reached: then the route answers 503 (Telegram posts again later) and
the bot tries again every ``RETRY_SECONDS``. With several workers each runs the same bot;
Telegram posts each update to one of them, and outbox claims keep deliveries single.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application
from telegram.request import BaseRequest

from bot.app import build_application, start_delivery, stop_delivery
from bot.persistence import flush_on_stop
from bot.webhook import PATH, SECRET_HEADER
from casework.service import CaseService
from core.db import Store
from core.settings import Settings
from search_index.service import ListService

log = logging.getLogger("shixin.portal")
RETRY_SECONDS = 30.0
App = Application[Any, Any, Any, Any, Any, Any]


def enabled(settings: Settings) -> bool:
    return settings.telegram_token is not None and settings.telegram_webhook_secret is not None


def routes(settings: Settings) -> list[Route]:
    """The webhook route in webhook mode; otherwise none (the address is a 404)."""
    return [Route(PATH, receive, methods=["POST"])] if enabled(settings) else []


async def receive(request: Request) -> Response:
    secret = request.app.state.settings.telegram_webhook_secret.reveal().encode()
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, secret):
        return PlainTextResponse("forbidden", status_code=403)
    bot: WebhookBot | None = getattr(request.app.state, "telegram", None)
    if bot is None or not bot.application.running:
        return PlainTextResponse(
            "the bot is starting", status_code=503, headers={"Retry-After": "30"}
        )
    try:
        data = json.loads(await request.body())
        update = Update.de_json(data, bot.application.bot) if isinstance(data, dict) else None
    except (ValueError, KeyError, TypeError):
        update = None
    if update is None:
        return PlainTextResponse("not a Telegram update", status_code=400)
    await bot.application.update_queue.put(update)
    return Response(status_code=200)


class WebhookBot:
    """The bot's application over the portal's store, started and stopped by the lifespan."""

    def __init__(self, application: App, *, deliver: bool) -> None:
        self.application = application
        self.deliver = deliver  # the outbox loop: off with the portal's other loops
        self._retry: asyncio.Task[None] | None = None

    async def start(self) -> None:
        try:
            await self._bring_up()
        except TelegramError as exc:  # unreachable, or a bad token: the site starts anyway
            log.warning("the Telegram bot could not start (%s); trying again", exc)
            self._retry = asyncio.create_task(self._keep_trying(), name="telegram-start")

    async def _bring_up(self) -> None:
        await self.application.initialize()  # getMe: the one call that needs Telegram
        await self.application.start()
        if self.deliver:
            await start_delivery(self.application)

    async def _keep_trying(self) -> None:
        while True:
            await asyncio.sleep(RETRY_SECONDS)
            try:
                await self._bring_up()
            except TelegramError as exc:
                log.warning("the Telegram bot could not start (%s); trying again", exc)
            else:
                log.info("the Telegram bot started")
                return

    async def stop(self) -> None:
        """Stop taking updates, answer those queued, then let go of Telegram."""
        if self._retry is not None:
            self._retry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry
        await stop_delivery(self.application)
        if self.application.running:
            await self.application.stop()
            await flush_on_stop(self.application)  # post_stop runs only under run_polling
        await self.application.shutdown()


async def start(
    settings: Settings,
    store: Store,
    lists: ListService,
    cases: CaseService,
    *,
    request: Callable[[], BaseRequest] | None = None,
    deliver: bool = True,
) -> WebhookBot | None:
    """In webhook mode, the started bot; else None. ``request`` as in build_application."""
    if not enabled(settings):
        return None
    application = build_application(settings, store, lists=lists, cases=cases, request=request)
    bot = WebhookBot(application, deliver=deliver)
    await bot.start()
    return bot
