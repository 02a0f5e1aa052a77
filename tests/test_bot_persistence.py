"""The bot remembers across restarts: the same store, a new ``Application`` each run
(built by ``build_application`` as ``shixin bot`` builds it, started and shut down as a
restart does), on SQLite and on PostgreSQL.

Covered: the language chosen with ``/lang``; paging buttons of a search sent before the
restart (also after newer searches); a persistent conversation left half-way; and what is
kept holds no full ID number, neither after a search by one nor when a handler tries to keep
one (refused, logged without the number, the rest of the state unharmed).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence

import pytest
from bot_support import FULL, FULL_ID, MASKED, App, assert_clean, labels, press, send
from sqlalchemy import select
from support import ingest, namesakes, person
from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from test_casework_support import Casework, cw_fixture, routing_fixture  # noqa: F401

from bot.app import build_application
from bot.local_api import TOKEN, USER_CHAT, LocalBotApi, run
from chat_state.tables import chat_state
from core.settings import Secret

OTHER_CHAT = USER_CHAT + 1


def run_bot(
    cw: Casework,
    api: LocalBotApi,
    scenario: Callable[[App], Awaitable[None]],
    handlers: Sequence[BaseHandler] = (),
) -> None:
    """One run of the bot from start to shutdown, with ``handlers`` tried before its own;
    then the scanner over everything it said."""
    settings = dataclasses.replace(cw.lists.settings, telegram_token=Secret(TOKEN))
    app = build_application(
        settings, cw.cases.store, lists=cw.lists, request=api.request, clock=cw.clock
    )
    for handler in handlers:
        app.add_handler(handler, group=-1)

    async def lifetime() -> None:
        async with app:
            await scenario(app)

    run(lifetime())
    assert_clean(api)


def kept_rows(cw: Casework) -> list[tuple[str, str, str]]:
    """Every row of the bot's kept state: namespace, key and the value (JSON text)."""
    with cw.cases.store.read() as conn:
        rows = conn.execute(select(chat_state.c.namespace, chat_state.c.key, chat_state.c.data))
        return [tuple(row) for row in rows]


def test_the_language_chosen_with_lang_is_kept_after_a_restart(cw: Casework) -> None:
    api = LocalBotApi()

    async def choose(app: App) -> None:
        await send(app, "/lang")
        await send(app, "张伟")

    async def later(app: App) -> None:
        await send(app, "张伟")
        await send(app, "张伟", chat=OTHER_CHAT)  # another user: still the default

    run_bot(cw, api, choose)
    assert api.sent[0].text.startswith("Switched to English")
    run_bot(cw, api, later)
    assert api.sent[1].text.startswith("1 public entries found")
    assert api.sent[2].text == api.sent[1].text
    assert api.sent[3].text.startswith("找到 1 条公开条目")


def test_paging_buttons_sent_before_a_restart_still_page(cw: Casework) -> None:
    ingest(cw.lists, *namesakes(12), person("z1", iname="赵敏", caseCode="(2024)京0105执77号"))
    api = LocalBotApi()

    async def search(app: App) -> None:
        await send(app, "张伟")

    async def later(app: App) -> None:
        await send(app, "赵敏")  # a newer search must not take the old one's place
        await press(app, first, "下一页 »")
        await press(app, first, "详情 1")

    run_bot(cw, api, search)
    first = api.sent[0]
    assert first.text.startswith("找到 13 条公开条目，第 1/3 页")
    run_bot(cw, api, later)
    newer, page_two, details = api.sent[1:]
    assert newer.text.startswith("找到 1 条公开条目") and "赵敏" in newer.text
    assert page_two.edited and page_two.message_id == first.message_id
    assert "第 2/3 页" in page_two.text and "6. 张伟" in page_two.text
    assert labels(page_two)[-2:] == ["« 上一页", "下一页 »"]
    assert details.text.startswith("张伟")
    assert not any("过期" in s.text for s in api.sent)


# A tiny persistent conversation: /ask asks a name, the next text answers it.
NAME = 0


async def ask(update: Update, context: object) -> int:
    assert update.effective_message is not None
    await update.effective_message.reply_text("您叫什么名字？")
    raise ApplicationHandlerStop(NAME)  # the bot's own handlers do not see it too


async def got_name(update: Update, context: object) -> int:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"您好，{update.effective_message.text}！")
    raise ApplicationHandlerStop(ConversationHandler.END)


def asking() -> ConversationHandler:
    return ConversationHandler(
        entry_points=[CommandHandler("ask", ask)],
        states={NAME: [MessageHandler(filters.TEXT & ~filters.COMMAND, got_name)]},
        fallbacks=[],
        name="asking",
        persistent=True,
    )


def test_a_conversation_left_half_way_goes_on_after_a_restart(cw: Casework) -> None:
    api = LocalBotApi()

    async def start(app: App) -> None:
        await send(app, "/ask")

    async def later(app: App) -> None:
        await send(app, "小明")
        await send(app, "小红")  # the conversation has ended: now a search

    run_bot(cw, api, start, [asking()])
    assert [ns for ns, _, _ in kept_rows(cw)].count("conversation:asking") == 1
    run_bot(cw, api, later, [asking()])
    assert api.to(USER_CHAT) == ["您叫什么名字？", "您好，小明！", "没有找到符合条件的公开条目。"]
    assert "conversation:asking" not in {ns for ns, _, _ in kept_rows(cw)}


def test_after_a_search_by_full_id_number_the_kept_state_holds_no_full_number(
    cw: Casework,
) -> None:
    ingest(cw.lists, person("b1", iname="赵敏", cardNum=FULL, caseCode="(2024)京0105执77号"))
    api = LocalBotApi()

    async def search(app: App) -> None:
        await send(app, f"赵敏 {FULL}")
        await send(app, FULL)

    async def later(app: App) -> None:
        await press(app, api.sent[1], "详情 1")

    run_bot(cw, api, search)
    run_bot(cw, api, later)
    assert MASKED in api.sent[-1].text
    rows = kept_rows(cw)
    assert any('"ids":["b1"]' in data for ns, _, data in rows if ns == "chat")
    for row in rows:
        assert not any(FULL_ID.search(text) for text in row), row
        assert not any(FULL in text for text in row), row


def test_a_value_holding_a_full_id_number_is_refused_and_the_rest_is_kept(
    cw: Casework, caplog: pytest.LogCaptureFixture
) -> None:
    """Defence in depth: a handler that would keep a full ID number (none of ours does)."""
    caplog.set_level(logging.DEBUG)
    api = LocalBotApi()

    async def careless(update: Update, context: object) -> None:
        context.user_data["note"] = FULL  # type: ignore[attr-defined]
        raise ApplicationHandlerStop

    async def first(app: App) -> None:
        await send(app, "/lang")

    async def second(app: App) -> None:
        await send(app, "/note")

    async def third(app: App) -> None:
        await send(app, "张伟")

    note = [CommandHandler("note", careless)]
    run_bot(cw, api, first, note)
    run_bot(cw, api, second, note)
    run_bot(cw, api, third, note)
    assert api.sent[-1].text.startswith("1 public entries found")  # the language is kept
    assert not any(FULL in data for _, _, data in kept_rows(cw))
    lines = [r.getMessage() for r in caplog.records]
    assert "chat state refused in user: the value holds a full ID number" in lines
    assert not any(FULL in line for line in lines)


def test_what_a_user_set_is_forgotten_after_90_days_away_but_not_while_active(
    cw: Casework,
) -> None:
    api = LocalBotApi()

    async def choose(app: App) -> None:
        await send(app, "/lang")

    async def search(app: App) -> None:
        await send(app, "张伟")

    run_bot(cw, api, choose)
    assert [key for ns, key, _ in kept_rows(cw) if ns == "user"] == [str(USER_CHAT)]
    cw.clock.advance(days=60)
    run_bot(cw, api, search)  # active: what the user set is kept fresh
    cw.clock.advance(days=60)
    run_bot(cw, api, search)
    cw.clock.advance(days=91)
    run_bot(cw, api, search)
    answers = [s.text for s in api.sent[1:]]
    assert [a.startswith("1 public entries found") for a in answers] == [True, True, False]
    assert answers[-1].startswith("找到 1 条公开条目")
    assert "user" not in {ns for ns, _, _ in kept_rows(cw)}  # nothing chosen: no row


def test_stopping_the_bot_writes_its_state_at_once(cw: Casework) -> None:
    """As ``shixin bot`` stops (Ctrl-C): post_stop writes before the shutdown steps that talk
    to Telegram."""
    api = LocalBotApi()

    async def lifetime(app: App) -> None:
        await app.start()
        await send(app, "/lang")
        assert kept_rows(cw) == []  # the next regular write is seconds away
        await app.stop()
        assert app.post_stop is not None
        await app.post_stop(app)
        assert [ns for ns, _, _ in kept_rows(cw)] == ["user"]

    run_bot(cw, api, lifetime)
