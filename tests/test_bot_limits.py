"""The bot within limits: per-chat fair use (bot/fair_use.py), one message a second per chat
from the outbox sender (bot/sender.py), and the admin chat's error reports
(bot/error_report.py), through a real python-telegram-bot ``Application`` against the local
Bot API.

Covered: /track attempts stop after five in ten minutes, the right code included, and say
when to try again, in Chinese or English; searches (plain text and /case) per minute;
watches added per hour, the message with an ID number still deleted when refused; inline
queries over their budget find nothing; other chats keep their own budgets; with rate
limits off nothing is refused; two bots sharing Redis share the counts, and a dead Redis
refuses nothing. The sender never sends two messages to one chat within a second, in one
round or the next, and does not hold other chats to that chat's second. A failing handler
tells the admin chat in plain text, without what the user typed or any ID number, once a
minute per error type; a report that cannot be sent is only logged.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any

import pytest
from bot_support import FULL, FULL_ID, App, send, with_bot
from limits.storage import storage_from_string
from redisserver import RedisServer, free_port, redis_server_fixture  # noqa: F401
from support import ingest, person
from telegram import Update
from test_casework_support import Casework, cw_fixture, routing_fixture  # noqa: F401
from test_telegram import filed, link

from bot.fair_use import BUDGETS, INLINE, FairUse
from bot.local_api import USER_CHAT, LocalBotApi, command_update, inline_update, run
from bot.sender import TelegramSender
from core.settings import Secret
from watches.service import WatchService

OTHER_CHAT = 555000333
ADMIN_CHAT = -1001234567890


def refusals(api: LocalBotApi, chat: int = USER_CHAT) -> list[str]:
    return [t for t in api.to(chat) if "过于频繁" in t or t.startswith("Too many")]


# --- fair use ------------------------------------------------------------------------------


def test_track_attempts_stop_after_five_in_ten_minutes_and_say_when(cw: Casework) -> None:
    receipt = filed(cw)
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        for n in range(5):
            await send(app, f"/track {receipt.number} WRONG-CODE-{n:04d}")
        await send(app, f"/track {receipt.number} {receipt.access_code}")  # too late
        await send(app, "/track")  # no attempt: still explained
        for n in range(6):
            await send(app, f"/track {receipt.number} WRONG-{n:04d}", "en", chat=OTHER_CHAT)

    with_bot(cw, api, scenario)
    said = api.to(USER_CHAT)
    assert sum(t.startswith("没有找到这个事项") for t in said) == 5
    assert not any(t.startswith(f"事项 {receipt.number}：") for t in said)  # never shown
    (refused,) = refusals(api)
    assert refused.startswith("查询事项的尝试过于频繁（每 10 分钟最多 5 次），请在 ")
    assert refused.endswith("分钟后再试。")
    assert "“事项查询”页面" in said[-1]
    assert len(api.deleted) == 6 + 6  # every message holding a code went, refused or not
    (english,) = refusals(api, OTHER_CHAT)  # its own budget, in its own language
    assert english.startswith("Too many tracking attempts (at most 5 in 10 minutes).")
    assert english.endswith(" minutes.")
    assert all(receipt.access_code not in t for t in said)


def test_searches_per_minute_then_a_clear_answer(cw: Casework) -> None:
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        for n in range(19):
            await send(app, "张伟" if n % 2 else "/case (2023)京0105执1234号", "en")
        await send(app, "/search 张伟", "en")  # the 20th
        await send(app, "张伟", "en")
        await send(app, "张伟", chat=OTHER_CHAT)

    with_bot(cw, api, scenario)
    said = api.to(USER_CHAT)
    assert sum(t.startswith("1 public entries found") for t in said) == 20
    (refused,) = refusals(api)
    assert refused.startswith("Too many searches (at most 20 a minute). Try again in ")
    assert refused.endswith(" seconds.")
    assert api.to(OTHER_CHAT)[0].startswith("找到 1 条公开条目")


def test_watches_added_per_hour(cw: Casework) -> None:
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        for n in range(30):
            await send(app, f"/watch 某某公司{n}")
        await send(app, f"/watch 赵敏 {FULL}")

    with_bot(cw, api, scenario)
    watching = WatchService(cw.cases.store, cw.lists.settings.id_hash_key.reveal())
    assert len(watching.list("telegram", str(USER_CHAT))) == 30
    (refused,) = refusals(api)
    assert refused.startswith("添加关注过于频繁（每小时最多 30 个），请在 ")
    assert len(api.deleted) == 1  # the ID number's message went all the same


def test_inline_queries_over_their_budget_find_nothing(cw: Casework) -> None:
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        budgets = {**BUDGETS, INLINE: "2/minute"}
        app.bot_data["fair_use"] = FairUse(storage_from_string("memory://"), budgets)
        for _ in range(3):
            await app.process_update(Update.de_json(inline_update("张伟"), app.bot))

    with_bot(cw, api, scenario)
    assert [len(a) for a in api.inline_answers] == [1, 1, 0]


def test_with_rate_limits_off_nothing_is_refused(cw: Casework) -> None:
    api = LocalBotApi()

    async def scenario(app: App) -> None:
        for _ in range(25):
            await send(app, "张伟")

    with_bot(cw, api, scenario, rate_limit_enabled=False)
    assert refusals(api) == []
    assert len(api.to(USER_CHAT)) == 25


def test_two_bots_sharing_redis_share_the_budget(cw: Casework, redis_server: RedisServer) -> None:
    redis_server.flush()
    first, second = LocalBotApi(), LocalBotApi()
    receipt = filed(cw)

    async def three(app: App) -> None:
        for n in range(3):
            await send(app, f"/track {receipt.number} WRONG-{n:04d}")

    with_bot(cw, first, three, redis_url=Secret(redis_server.url))
    with_bot(cw, second, three, redis_url=Secret(redis_server.url))  # another worker
    assert refusals(first) == []
    assert len(refusals(second)) == 1  # 3 + 2 allowed, the sixth refused


def test_a_dead_redis_refuses_nothing(cw: Casework) -> None:
    api = LocalBotApi()
    dead = Secret(f"redis://127.0.0.1:{free_port()}/0")

    async def scenario(app: App) -> None:
        await send(app, "张伟")

    with_bot(cw, api, scenario, redis_url=dead)
    assert api.to(USER_CHAT)[0].startswith("找到 1 条公开条目")


# --- one message a second per chat ---------------------------------------------------------


@dataclasses.dataclass
class TimedApi(LocalBotApi):
    """The local Bot API noting, by the fixture's clock, when each message arrived."""

    clock: Any = None
    arrivals: list[tuple[int, datetime]] = dataclasses.field(default_factory=list)

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, bytes]:
        if method == "sendMessage":
            self.arrivals.append((int(params["chat_id"]), self.clock()))
        return super().answer(method, params)


def test_the_sender_spaces_messages_to_one_chat_a_second_apart(cw: Casework) -> None:
    from telegram import Bot

    from bot.local_api import TOKEN

    api = TimedApi(clock=cw.clock)
    for receipt, chat in [(filed(cw), USER_CHAT), (filed(cw), USER_CHAT), (filed(cw), OTHER_CHAT)]:
        link(cw, receipt, chat)  # each link queues a confirmation
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await cw.clock.sleep(seconds)

    async def rounds() -> None:
        async with Bot(TOKEN, request=api.request()) as bot:
            sender = TelegramSender(cw.cases.store, bot, clock=cw.clock, sleep=sleep)
            assert (await sender.deliver_pending()).sent == 3
            link(cw, filed(cw), USER_CHAT)  # one more for the first chat, right away
            assert (await sender.deliver_pending()).sent == 1

    run(rounds())
    start = api.arrivals[0][1]
    seconds = [(chat, (at - start).total_seconds()) for chat, at in api.arrivals]
    assert seconds == [(USER_CHAT, 0), (USER_CHAT, 1), (OTHER_CHAT, 1), (USER_CHAT, 2)]
    assert waits == [1.0, 1.0]  # the other chat did not wait for this one's second


# --- the admin chat hears of errors --------------------------------------------------------


class BrokenList:
    """A list whose index is down, and says so with the query in the message."""

    def __init__(self, error: type[Exception] = RuntimeError) -> None:
        self.error = error

    def search(self, params: dict[str, str]) -> Any:
        raise self.error(f"<b>index</b> unavailable for {params!r}")


async def typed(app: App, text: str) -> int:
    update = command_update(text)
    await app.process_update(Update.de_json(update, app.bot))
    return int(update["update_id"])


def test_a_failing_handler_tells_the_admin_chat_without_what_the_user_typed(
    cw: Casework,
) -> None:
    api = LocalBotApi()
    ids: list[int] = []

    async def scenario(app: App) -> None:
        app.bot_data["lists"] = BrokenList()
        ids.append(await typed(app, f"张伟 {FULL}"))
        ids.append(await typed(app, "王小明"))  # the same error again: no second report
        app.bot_data["lists"] = BrokenList(KeyError)
        ids.append(await typed(app, "李雷"))  # another error type: reported

    with_bot(cw, api, scenario, telegram_admin_chat=str(ADMIN_CHAT))
    reports = [s for s in api.sent if s.chat_id == ADMIN_CHAT]
    assert len(reports) == 2
    first, second = (s.text for s in reports)
    assert first.startswith("机器人处理更新时出错：RuntimeError: <b>index</b> unavailable for")
    assert f"更新：message #{ids[0]}" in first
    assert "Traceback" in first or "line " in first  # the traceback's tail
    assert second.startswith("机器人处理更新时出错：KeyError:") and f"#{ids[2]}" in second
    for text in (first, second):
        assert not FULL_ID.search(text) and FULL[:15] not in text
        assert not any(name in text for name in ("张伟", "王小明", "李雷"))
    assert all(s.parse_mode is None for s in reports)  # "<b>" stays text


def test_an_admin_report_that_cannot_be_sent_is_only_logged(
    cw: Casework, caplog: pytest.LogCaptureFixture
) -> None:
    api = LocalBotApi(blocked={ADMIN_CHAT})

    async def scenario(app: App) -> None:
        app.bot_data["lists"] = BrokenList()
        await typed(app, "张伟")
        app.bot_data["lists"] = cw.lists
        await typed(app, "张伟")  # the bot goes on answering

    ingest(cw.lists, person("p9", iname="张伟"))
    with caplog.at_level(logging.WARNING, logger="shixin.bot"):
        with_bot(cw, api, scenario, telegram_admin_chat=str(ADMIN_CHAT))
    assert "could not tell the admin chat" in caplog.text
    assert api.to(USER_CHAT)[-1].startswith("找到 2 条公开条目")
