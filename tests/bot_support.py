"""Driving the bot offline in tests: the application built from the Casework fixture's
settings against the local Bot API (bot/local_api.py), updates fed through
``Application.process_update``, and the scanner every scenario ends with: no full ID number
and nothing removed in any message, button, inline result, log line or persisted state."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from support import id_number
from telegram import Update
from telegram.ext import Application
from test_casework_support import Casework

from bot.app import build_application
from bot.local_api import TOKEN, USER_CHAT, LocalBotApi, Sent, callback_update, command_update, run
from chat_state.tables import chat_state
from core.db import Store
from core.settings import Secret

App = Application[Any, Any, Any, Any, Any, Any]
PUBLIC_URL = "https://shixin.example.cn"
# The ID numbers the bot tests put on the list: none may ever be said in full.
FULL = id_number("110105", "19900101", "777")
MASKED = FULL[:10] + "****" + FULL[14:]
# Entries the search tests remove or never publish: the bot must never name them.
HIDDEN = ("李娜", "王芳", "鲁0203执9号", "/entries/p2", "/entries/p3")
FULL_ID = re.compile(r"(?<![0-9*])\d{17}[0-9Xx](?![0-9])")


def with_bot(
    cw: Casework,
    api: LocalBotApi,
    scenario: Callable[[App], Awaitable[None]],
    *,
    scan: bool = True,
    **settings_changes: Any,
) -> None:
    """Run ``scenario`` with the bot built from the fixture's settings (with
    ``settings_changes``), initialized (getMe) as at start; then, unless ``scan`` is off,
    check everything it said with ``assert_clean``."""
    settings = dataclasses.replace(
        cw.lists.settings, telegram_token=Secret(TOKEN), **settings_changes
    )
    app = build_application(
        settings,
        cw.cases.store,
        lists=cw.lists,
        request=api.request,
        clock=cw.clock,
        cases=cw.cases,
    )
    app.bot_data["sender"].sleep = cw.clock.sleep  # per-chat spacing moves the clock

    async def lifetime() -> None:
        async with app:
            await scenario(app)

    with logged() as lines:
        run(lifetime())
    if scan:
        assert_clean(api, lines, persisted(cw.cases.store))


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextlib.contextmanager
def logged() -> Any:
    """Every log line at INFO and above while the bot runs, tracebacks included."""
    handler, root = _Lines(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO))
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def persisted(store: Store) -> list[str]:
    """What the bot's persistence wrote to the store (chat_state's values)."""
    with store.read() as conn:
        return [row.data for row in conn.execute(chat_state.select())]


def assert_clean(
    api: LocalBotApi, lines: list[str] | None = None, kept: list[str] | None = None
) -> None:
    """The scanner: what the bot said, logged or kept holds no full ID number and nothing
    removed."""
    said = [s.text for s in api.sent]
    said += [text for s in api.sent for row in s.buttons for pair in row for text in pair]
    # Each result's ``id`` is a random uuid4 hex that Telegram never shows: one in a few
    # hundred holds 18 digits in a row, which is no ID number.
    said += [
        json.dumps([{k: v for k, v in r.items() if k != "id"} for r in a], ensure_ascii=False)
        for a in api.inline_answers
    ]
    for text in said:
        assert not FULL_ID.search(text), text
        assert FULL not in text
        assert not any(h in text for h in HIDDEN), text
    # Logs and the kept state may name what a user searched for (a chat's kept searches are
    # its own queries), but never a full ID number.
    for text in [*(lines or []), *(kept or [])]:
        assert not FULL_ID.search(text) and FULL not in text, text
    assert all(s.parse_mode is None for s in api.sent)


async def send(
    app: App,
    text: str,
    language: str | None = None,
    *,
    chat: int = USER_CHAT,
    chat_type: str = "private",
) -> None:
    update = command_update(text, chat, chat_type, language=language)
    await app.process_update(Update.de_json(update, app.bot))


async def press(app: App, message: Sent, label: str, language: str | None = None) -> None:
    (data,) = [d for row in message.buttons for t, d in row if t == label]
    assert len(data.encode()) <= 64
    update = callback_update(data, message.message_id, language=language)
    await app.process_update(Update.de_json(update, app.bot))


def labels(message: Sent) -> list[str]:
    return [t for row in message.buttons for t, _ in row]
