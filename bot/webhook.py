"""Webhook mode, Telegram's side: ``shixin bot --set-webhook`` tells Telegram to post the
bot's updates to ``SHIXIN_PUBLIC_URL/telegram/webhook`` with the secret
(``SHIXIN_TELEGRAM_WEBHOOK_SECRET``) in every request's ``X-Telegram-Bot-Api-Secret-Token``
header, and ``--delete-webhook`` goes back to polling. The portal receives them
(portal/telegram_webhook.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from telegram import Bot
from telegram.request import BaseRequest

from bot.app import ALLOWED_UPDATES
from core.settings import ConfigError, Settings

PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_url(settings: Settings) -> str:
    if settings.public_url is None:
        raise ConfigError(
            "SHIXIN_PUBLIC_URL is not set: Telegram needs the site's public https address "
            "to post updates to"
        )
    return settings.public_url + PATH


def set_webhook(settings: Settings, request: Callable[[], BaseRequest] | None = None) -> str:
    """Register the webhook; the URL Telegram now posts to. ``request`` as in
    build_application (tests pass the local Bot API)."""
    url = webhook_url(settings)
    if settings.telegram_webhook_secret is None:
        raise ConfigError(
            "SHIXIN_TELEGRAM_WEBHOOK_SECRET is not set: without it anyone could post updates"
        )
    secret = settings.telegram_webhook_secret.reveal()

    async def call(bot: Bot) -> None:
        # Updates waiting since the bot last ran are kept: a /start link is valid for days.
        await bot.set_webhook(
            url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
        )

    _with_bot(settings, request, call)
    return url


def delete_webhook(settings: Settings, request: Callable[[], BaseRequest] | None = None) -> None:
    """Remove the webhook: ``shixin bot`` can poll again (pending updates are kept)."""

    async def call(bot: Bot) -> None:
        await bot.delete_webhook(drop_pending_updates=False)

    _with_bot(settings, request, call)


def _with_bot(
    settings: Settings,
    request: Callable[[], BaseRequest] | None,
    call: Callable[[Bot], Awaitable[None]],
) -> None:
    if settings.telegram_token is None:
        raise ConfigError("SHIXIN_TELEGRAM_TOKEN is not set")
    token = settings.telegram_token.reveal()

    async def run() -> None:
        bot = Bot(token, request=request()) if request else Bot(token)
        async with bot:
            await call(bot)

    asyncio.run(run())
