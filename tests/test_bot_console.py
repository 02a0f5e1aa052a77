"""``shixin bot --console``: the bot's application in the terminal, against the local Bot API
(bot/local_api.py), with a scripted input. In process (SQLite and PostgreSQL) and as the real
command in a subprocess; in both, any connection beyond this machine fails the test.

Covered: /start, a search by name answered with cards and numbered buttons, ``#n`` pressing
a button (the next page, details), a number with no button, /help, /quit ending the session
before the lines after it, end of input, English for ``--user-lang en``; no token needed.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support import ingest, namesakes, person

from bot.console import CONSOLE_CHAT
from bot.run import run_console
from casework import outbox
from core.outbox import enqueue
from search_index.service import ListService

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ("127.0.0.1", "::1", "localhost")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Connections and name look-ups beyond this machine are refused and recorded."""
    tried: list[Any] = []
    connect, lookup = socket.socket.connect, socket.getaddrinfo

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[0] not in LOCAL:
            tried.append(address)
            raise OSError("no network in this test")
        return connect(self, address)

    def guarded_lookup(host: Any, *args: Any, **kw: Any) -> Any:
        if host not in LOCAL and host is not None:
            tried.append(host)
            raise OSError("no network in this test")
        return lookup(host, *args, **kw)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)
    yield tried
    assert tried == [], "the console reached for the network"


def console(service: ListService, script: str, language: str = "zh") -> str:
    out = io.StringIO()
    settings = service.settings
    assert settings.telegram_token is None
    with ThreadPoolExecutor(1) as pool:  # asyncio.run in a thread: see bot/local_api.run
        pool.submit(
            run_console,
            settings,
            service.store,
            language=language,
            stdin=io.StringIO(script),
            stdout=out,
        ).result()
    return out.getvalue()


def test_a_scripted_session(service: ListService, no_network: list[Any]) -> None:
    ingest(service, *namesakes(7))
    out = console(service, "/start\n张伟\n#6\n#1\n#99\n/help\n/quit\n/help\n")
    assert "> /start\n  您好！这是失信被执行人名单公开查询网站的官方机器人。" in out
    search = out.split("> 张伟\n", 1)[1].split("> #6\n", 1)[0]
    assert "找到 7 条公开条目，第 1/2 页：" in search
    assert "  [1] 详情 1  [2] 详情 2" in search and "[6] 下一页 »" in search
    assert "********" not in search and "****" in search  # masked ID numbers only
    page_two = out.split("> #6\n", 1)[1].split("> #1\n", 1)[0]
    assert "（修改了上一条消息）" in page_two and "第 2/2 页" in page_two
    assert "[1] 详情 6" in page_two and "« 上一页" in page_two
    details = out.split("> #1\n", 1)[1].split("> #99\n", 1)[0]
    assert "/entries/m" in details and "执行法院" in details
    assert "（没有第 99 个按钮" in out
    assert "> /help\n  可用命令：" in out
    assert out.count("可用命令：") == 1  # nothing after /quit is read
    assert out.rstrip().endswith("> /quit")


def test_end_of_input_ends_it_and_english_users_get_english(
    service: ListService, no_network: list[Any]
) -> None:
    ingest(service, person("p1"))
    out = console(service, "#1\n张伟\n#1", language="en")
    assert out.startswith("Type a message or a command")
    assert "> #1\n(no buttons to press)" in out
    assert "  1 public entries found, page 1 of 1:" in out and "  [1] Details 1" in out
    assert "Enforcing court: 北京市朝阳区人民法院" in out.split("[1] Details 1", 1)[1]


def test_notifications_for_the_console_chat_are_shown_and_no_one_elses_are_touched(
    service: ListService, no_network: list[Any]
) -> None:
    """What the bot queued for the console's chat (a ticket's notice, a watch alert) is
    printed after the next line; a real chat's row stays in the outbox for the real bot."""
    now = datetime.now(UTC)
    with service.store.write() as conn:
        enqueue(conn, now, "telegram", str(CONSOLE_CHAT), "提醒", "【失信名单关注提醒】测试提醒")
        enqueue(conn, now, "telegram", "555000333", "提醒", "给别人的消息")
    out = console(service, "/help\n")
    assert "  【失信名单关注提醒】测试提醒" in out
    assert "给别人的消息" not in out
    (left,) = outbox.pending(service.store)
    assert left.recipient == "555000333"
    assert CONSOLE_CHAT >= 2**53  # beyond any Telegram id: no real person shares it


PRELUDE = """
import runpy, socket, sys
LOCAL = (None, "localhost", "127.0.0.1", "::1")
def refuse(what):
    print("network access:", repr(what), file=sys.stderr)
    raise OSError("no network in this test")
real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo
def connect(self, address):
    if isinstance(address, tuple) and address[0] not in LOCAL:
        refuse(address)
    return real_connect(self, address)
def lookup(host, *args, **kw):
    if host not in LOCAL:
        refuse(host)
    return real_lookup(host, *args, **kw)
socket.socket.connect, socket.getaddrinfo = connect, lookup
sys.argv = ["shixin", *sys.argv[1:]]
runpy.run_module("shixin.cli", run_name="__main__")
"""


def test_the_command_needs_no_token_and_no_network(tmp_path: Path) -> None:
    data = tmp_path / "data"
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(person("p1"), ensure_ascii=False) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIXIN_") and "PROXY" not in k}
    env.update(SHIXIN_DATA_DIR=str(data), PYTHONPATH=str(ROOT))
    cli = [sys.executable, "-m", "shixin.cli"]
    subprocess.run([*cli, "import", str(feed)], env=env, check=True, capture_output=True)
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE, "bot", "--console"],
        env=env,
        input="/start\n张伟\n#1\n/help\n/quit\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "> 张伟\n  找到 1 条公开条目，第 1/1 页：" in out
    assert "  [1] 详情 1" in out
    assert "> #1\n  张伟\n" in out and "生效法律文书确定的义务" in out
    assert "可用命令：" in out
    assert "network access" not in done.stderr
