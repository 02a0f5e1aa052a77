"""Running the bot from ``shixin bot``: long polling until Ctrl-C, or one delivery pass."""

from __future__ import annotations

import asyncio

from telegram import Bot, Update

from bot.app import build_application
from bot.sender import RoundReport, TelegramSender
from core.db import Store
from core.settings import ConfigError, Settings
from search_index.service import ListService


def run_polling(settings: Settings, store: Store) -> None:
    lists = ListService(settings, store=store)  # the list the bot searches
    try:
        app = build_application(settings, store, lists=lists)
        # Updates that arrived while the bot was down are still answered: a /start link is
        # valid for days, and dropping it would leave the submitter without notifications.
        # Button presses and inline queries are asked for too (search, paging, details).
        app.run_polling(
            allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY],
            drop_pending_updates=False,
        )
    finally:
        lists.close()


def deliver_once(settings: Settings, store: Store) -> RoundReport:
    """Everything due now, batch by batch (``shixin bot --once``)."""
    if settings.telegram_token is None:
        raise ConfigError("SHIXIN_TELEGRAM_TOKEN is not set")
    token = settings.telegram_token.reveal()

    async def rounds() -> RoundReport:
        total = RoundReport()
        async with Bot(token) as bot:
            sender = TelegramSender(store, bot, demo=settings.demo)
            while True:
                report = await sender.deliver_pending()
                total.add(report)
                if report.claimed < sender.batch:
                    return total

    return asyncio.run(rounds())
