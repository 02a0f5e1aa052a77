"""The bot's handlers through a real python-telegram-bot ``Application``: updates go in with
``process_update``, answers come out at a local Bot API (bot/local_api.py), the store is
real (SQLite and PostgreSQL). Also ``shixin bot`` on the command line.

Covered: ``/start <token>`` binds the ticket and the confirmation arrives from the delivery
loop; a unit's reply then reaches the chat; used, expired and unknown links get Chinese
answers and bind nothing; ``/start``, ``/help``, ``/track``, an unknown command; groups bind
nothing; ``/stop`` unlinks; on demo data /start and /help say so, and with a public URL the
answers link to the tracking page; ``shixin bot`` without a token exits 2, ``--failed`` lists.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from bot_support import PUBLIC_URL, App, send, with_bot
from support import make_settings
from test_casework_support import Casework, cw_fixture, routing_fixture  # noqa: F401
from test_telegram import contact, filed

from bot.app import start_delivery, stop_delivery
from bot.local_api import USER_CHAT, LocalBotApi
from casework import outbox

OTHER_CHAT = 888000222


async def eventually(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 20
    while not check():
        assert time.monotonic() < deadline, "not delivered"
        await asyncio.sleep(0.02)


def test_start_with_a_token_binds_and_notifications_follow(cw: Casework) -> None:
    api = LocalBotApi()
    receipt = filed(cw)
    tourism = cw.unit("tourism")

    async def scenario(app: App) -> None:
        await start_delivery(app)  # what run_polling's post_init does
        try:
            await send(app, f"/start {receipt.telegram_token}")
            assert contact(cw, receipt.ticket_id) == str(USER_CHAT)
            await eventually(lambda: len(api.to(USER_CHAT)) == 1)  # woken: no interval wait
            cw.cases.accept(tourism, receipt.ticket_id)
            cw.cases.reply(tourism, receipt.ticket_id, "经核实，已通知酒店限制其入住。")
            app.bot_data["wake"].set()
            await eventually(lambda: len(api.to(USER_CHAT)) == 3)
        finally:
            await stop_delivery(app)

    with_bot(cw, api, scenario)
    assert "setMyCommands" in api.methods
    confirmation, accepted, replied = api.to(USER_CHAT)
    assert confirmation.startswith(f"[{receipt.number}] 您的事项已绑定 Telegram 通知")
    assert "受理、转办、答复、办结" in confirmation and "/stop" in confirmation
    assert accepted.startswith(f"[{receipt.number}] 您的事项已受理")
    assert "经核实，已通知酒店限制其入住。" in replied
    assert all(receipt.access_code not in s.text for s in api.sent)
    assert all(s.parse_mode is None for s in api.sent)
    view = cw.cases.track(receipt.number, receipt.access_code)
    assert view is not None
    assert [i.message for i in view.timeline if i.action == "contact"] == ["已绑定 Telegram 通知"]


def test_bad_links_get_a_chinese_answer_and_bind_nothing(cw: Casework) -> None:
    api = LocalBotApi()
    used, late = filed(cw), filed(cw)

    async def scenario(app: App) -> None:
        await send(app, f"/start {used.telegram_token}", chat=OTHER_CHAT)
        await send(app, f"/start {used.telegram_token}")  # someone else's, already used
        await send(app, f"/start {used.telegram_token}", chat=OTHER_CHAT)  # ours, opened again
        cw.clock.advance(days=7, seconds=1)
        await send(app, f"/start {late.telegram_token}")
        await send(app, "/start 这不是链接")
        await send(app, "/start AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")

    with_bot(cw, api, scenario)
    assert contact(cw, used.ticket_id) == str(OTHER_CHAT)
    assert contact(cw, late.ticket_id) is None
    reused, expired, garbled, unknown = api.to(USER_CHAT)
    assert "已经使用过" in reused and "未作任何更改" in reused
    assert "已过期" in expired and "7 天" in expired and "未绑定任何事项" in expired
    assert "无法识别" in garbled and "无法识别" in unknown
    (again,) = api.to(OTHER_CHAT)  # the confirmation is queued, not answered directly
    assert again == f"事项 {used.number} 已绑定本会话，无需重复操作。发送 /stop 可停止通知。"


def test_other_commands_and_group_chats(cw: Casework) -> None:
    api = LocalBotApi()
    receipt = filed(cw)
    group = -1001234567890

    async def scenario(app: App) -> None:
        await send(app, "/start")
        await send(app, "/help")
        await send(app, "/track")
        await send(app, "/frobnicate")
        await send(app, f"/start {receipt.telegram_token}", chat=group, chat_type="supergroup")

    with_bot(cw, api, scenario)
    welcome, helptext, track, fallback = api.to(USER_CHAT)
    assert "通知" in welcome and "查询名单" in welcome
    assert all(c in helptext for c in ("/start", "/stop", "/track", "/help"))
    assert "“事项查询”页面输入事项编号和查询码" in track and "/track 事项编号 查询码" in track
    assert "演示数据" not in welcome + helptext and "http" not in welcome + track
    assert "/help" in fallback
    assert api.to(group) == ["请在与机器人的私聊中使用此功能。"]
    assert contact(cw, receipt.ticket_id) is None  # a group is never bound


def test_on_demo_data_with_a_public_url(cw: Casework) -> None:
    """/start and /help say first that the data is invented; the answers and notifications
    that send the user to the site give the tracking page's address."""
    api = LocalBotApi()
    receipt, late = filed(cw), filed(cw)

    async def scenario(app: App) -> None:
        await send(app, "/start")
        await send(app, "/help")
        await send(app, "/track")
        await send(app, f"/start {receipt.telegram_token}")
        await app.bot_data["sender"].deliver_pending()
        cw.clock.advance(days=7, seconds=1)
        await send(app, f"/start {late.telegram_token}")
        await send(app, "/stop")

    with_bot(cw, api, scenario, public_url=PUBLIC_URL, demo=True)
    welcome, helptext, track, confirmation, expired, stopped = api.to(USER_CHAT)
    for text in (welcome, helptext):
        assert text.startswith("「演示数据，非真实名单」"), text
    assert f"网站：{PUBLIC_URL}" in welcome
    for text in (track, expired, stopped):
        assert "“事项查询”页面" in text and f"\n{PUBLIC_URL}/track" in text, text
    assert f"\n{PUBLIC_URL}/track?number={receipt.number}\n" in confirmation
    assert confirmation.endswith("「演示数据，非真实名单」本消息来自演示站点。")
    assert all(not s.preview for s in api.sent)  # no preview card of the site
    assert all(receipt.access_code not in s.text for s in api.sent)


def test_stop_unlinks_the_chat_from_every_ticket(cw: Casework) -> None:
    api = LocalBotApi()
    first, second = filed(cw), filed(cw)

    async def scenario(app: App) -> None:
        await send(app, f"/start {first.telegram_token}")
        await send(app, f"/start {second.telegram_token}")
        await send(app, "/stop")
        await send(app, "/stop")

    with_bot(cw, api, scenario)
    assert contact(cw, first.ticket_id) is None and contact(cw, second.ticket_id) is None
    stopped, nothing = api.to(USER_CHAT)
    assert "已停止 2 件事项" in stopped and first.number in stopped and second.number in stopped
    assert nothing == "本会话没有绑定任何事项，不会收到通知。"
    # the two confirmations were still queued: cancelled, never sent
    assert outbox.pending(cw.cases.store, cw.clock(), channel="telegram") == []


# --- shixin bot ------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    settings = make_settings(tmp_path, database_url)
    for name, value in {
        "SHIXIN_DATA_DIR": str(settings.data_dir),
        "SHIXIN_DATABASE_URL": database_url,
        "SHIXIN_ID_HASH_KEY": "test-id-hash-key-0123456789abcdef",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SHIXIN_TELEGRAM_TOKEN", raising=False)
    return database_url


def test_shixin_bot_without_a_token_exits_2(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from shixin.cli import main

    assert main(["bot"]) == 2
    assert "未设置 SHIXIN_TELEGRAM_TOKEN" in capsys.readouterr().err
    assert main(["bot", "--once"]) == 2


def test_shixin_bot_failed_lists_given_up_telegram_messages(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    from core.db import Store
    from shixin.cli import main

    store = Store(cli_env)
    try:
        now = datetime.now(UTC)
        with store.write() as conn:
            outbox.enqueue(conn, now, "telegram", "42", "您的事项：已受理", "正文")
            outbox.enqueue(conn, now, "email", "a@example.com", "您的事项：已受理", "正文")
        telegram_row, email_row = outbox.pending(store, now)
        for row in (telegram_row, email_row):
            outbox.mark_failed(store, row.id, "403 Forbidden: bot was blocked", max_attempts=1)
    finally:
        store.dispose()
    assert main(["bot", "--failed"]) == 0  # no token needed to look
    out = capsys.readouterr().out
    assert f"#{telegram_row.id}\t-\t" in out and "bot was blocked" in out
    assert f"#{email_row.id}\t" not in out
