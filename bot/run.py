"""Running the bot from ``shixin bot``: long polling until Ctrl-C, one delivery pass, or the
console (``--console``: the same application against the local Bot API, in the terminal)."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from typing import TextIO

from telegram import Bot

from bot.app import ALLOWED_UPDATES, build_application
from bot.sender import RoundReport, TelegramSender
from core.db import Store
from core.settings import ConfigError, Secret, Settings
from search_index.service import ListService


def run_polling(settings: Settings, store: Store) -> None:
    lists = ListService(settings, store=store)  # the list the bot searches
    try:
        app = build_application(settings, store, lists=lists)
        # Updates that arrived while the bot was down are still answered: a /start link is
        # valid for days, and dropping it would leave the submitter without notifications.
        app.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
    finally:
        lists.close()


def run_console(
    settings: Settings,
    store: Store,
    *,
    language: str = "zh",
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> None:
    """``shixin bot --console``: the application polling would run, with the same store, list
    and settings, but its Bot API is the local one (bot/local_api.py): no token, no network.
    The outbox is left alone (its rows belong to real chats)."""
    from bot.console import repl
    from bot.local_api import TOKEN, LocalBotApi

    api = LocalBotApi()
    local = dataclasses.replace(settings, telegram_token=Secret(TOKEN))
    lists = ListService(settings, store=store)
    try:
        # The console's user is a stand-in id a real Telegram user might hold: its
        # language, searches and conversations stay in this process, out of the store.
        app = build_application(local, store, lists=lists, request=api.request, persist=False)
        asyncio.run(repl(app, api, stdin or sys.stdin, stdout or sys.stdout, language))
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
