"""Webhook mode: the portal, started with its lifespan, runs the bot, and Telegram's posts to
/telegram/webhook reach it; the bot's HTTP goes to the local Bot API (bot/local_api.py).

Covered: a post without or with a wrong secret is refused (403) and nothing is answered; the
right secret gets 200 at once and the reply arrives; a body that is no update is a 400;
outside webhook mode there is no such address; the site starts while Telegram is down and
the bot comes up once it is back; ``shixin bot --set-webhook`` registers the address, the
secret and the update kinds, ``--delete-webhook`` removes them, and either says clearly
what is missing.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support import ingest, make_settings, person

from bot.local_api import TOKEN, USER_CHAT, LocalBotApi, command_update
from bot.webhook import delete_webhook, set_webhook
from core.settings import Secret, Settings
from portal import telegram_webhook
from portal.app import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

SECRET = "webhook-secret-0123456789abcdefghijklmnop"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
PUBLIC_URL = "https://shixin.example.cn"
PATH = "/telegram/webhook"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Webhook mode is the same on every store: SQLite only."""
    return f"sqlite:///{tmp_path / 'shixin.sqlite3'}"


def webhook_settings(settings: Settings, **changes: object) -> Settings:
    return dataclasses.replace(
        settings,
        telegram_token=Secret(TOKEN),
        telegram_webhook_secret=Secret(SECRET),
        public_url=PUBLIC_URL,
        **changes,
    )


@contextmanager
def portal(settings: Settings, api: LocalBotApi) -> Iterator[TestClient]:
    app = create_app(settings, background=False, telegram_request=api.request)
    with TestClient(app) as client:
        yield client


def eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """The bot answers in its own task, after the 200: wait for what it says."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the bot did not answer in time"
        time.sleep(0.02)


def test_only_posts_with_the_secret_reach_the_bot(settings: Settings) -> None:
    api = LocalBotApi()
    with portal(webhook_settings(settings), api) as client:
        ingest(client.app.state.service, person("p1", iname="张伟"))  # type: ignore[attr-defined]
        refused = [
            client.post(PATH, json=command_update("/help")),
            client.post(PATH, json=command_update("/help"), headers={HEADER: "wrong"}),
            client.post(PATH, json=command_update("/help"), headers={HEADER: SECRET[:-1]}),
        ]
        assert [r.status_code for r in refused] == [403, 403, 403]
        answered = client.post(PATH, json=command_update("张伟"), headers={HEADER: SECRET})
        assert answered.status_code == 200 and answered.content == b""
        eventually(lambda: bool(api.to(USER_CHAT)))
    # Updates are answered in order: had a refused /help gone through, it would be first.
    (reply,) = api.to(USER_CHAT)
    assert "找到 1 条公开条目" in reply and "张伟" in reply
    assert "getMe" in api.methods


def test_a_body_that_is_no_update_is_a_400_and_other_methods_a_405(settings: Settings) -> None:
    api = LocalBotApi()
    with portal(webhook_settings(settings), api) as client:
        for body in (b"{not json", b"[1, 2]", b'"text"', b"{}"):
            response = client.post(PATH, content=body, headers={HEADER: SECRET})
            assert response.status_code == 400, body
        assert client.get(PATH).status_code == 405
        client.post(PATH, json=command_update("/help"), headers={HEADER: SECRET})
        eventually(lambda: bool(api.to(USER_CHAT)))
    assert len(api.sent) == 1  # only the real update was answered


def test_without_a_secret_there_is_no_webhook(settings: Settings) -> None:
    api = LocalBotApi()
    plain = dataclasses.replace(settings, telegram_token=Secret(TOKEN))
    with portal(plain, api) as client:
        response = client.post(PATH, json=command_update("/help"), headers={HEADER: SECRET})
        assert response.status_code == 404
    assert api.methods == []  # the portal never talked to Telegram


def test_the_site_starts_while_telegram_is_down_and_the_bot_follows(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telegram_webhook, "RETRY_SECONDS", 0.05)
    api = LocalBotApi(outage="network")
    with portal(webhook_settings(settings), api) as client:
        assert client.get("/").status_code == 200
        waiting = client.post(PATH, json=command_update("/help"), headers={HEADER: SECRET})
        assert waiting.status_code == 503  # Telegram posts it again later
        api.outage = None
        update = command_update("/help")

        def answered() -> bool:
            return client.post(PATH, json=update, headers={HEADER: SECRET}).status_code == 200

        eventually(answered)
        eventually(lambda: bool(api.to(USER_CHAT)))
    assert "/search" in api.to(USER_CHAT)[0]


# --- shixin bot --set-webhook / --delete-webhook ---------------------------------------------


def in_own_thread(function: Any, *args: Any, **kwargs: Any) -> Any:
    """``function`` (which calls asyncio.run) in a thread of its own: the browser tests'
    session keeps an event loop running in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def test_set_webhook_registers_the_address_the_secret_and_the_update_kinds(
    settings: Settings,
) -> None:
    api = LocalBotApi()
    url = in_own_thread(set_webhook, webhook_settings(settings), request=api.request)
    assert url == "https://shixin.example.cn/telegram/webhook"
    assert api.webhook is not None
    assert api.webhook["url"] == url
    assert api.webhook["secret_token"] == SECRET
    assert api.webhook["allowed_updates"] == ["message", "callback_query", "inline_query"]
    in_own_thread(delete_webhook, webhook_settings(settings), request=api.request)
    assert api.webhook is None


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path, database_url)
    for name, value in {
        "SHIXIN_DATA_DIR": str(settings.data_dir),
        "SHIXIN_DATABASE_URL": database_url,
        "SHIXIN_ID_HASH_KEY": "test-id-hash-key-0123456789abcdef",
        "SHIXIN_TELEGRAM_TOKEN": TOKEN,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("SHIXIN_PUBLIC_URL", "SHIXIN_TELEGRAM_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)


def test_set_webhook_says_what_is_missing(
    cli_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shixin.cli import main

    assert in_own_thread(main, ["bot", "--set-webhook"]) == 2
    assert "SHIXIN_PUBLIC_URL is not set" in capsys.readouterr().err
    monkeypatch.setenv("SHIXIN_PUBLIC_URL", PUBLIC_URL)
    assert in_own_thread(main, ["bot", "--set-webhook"]) == 2
    assert "SHIXIN_TELEGRAM_WEBHOOK_SECRET is not set" in capsys.readouterr().err
    monkeypatch.setenv("SHIXIN_TELEGRAM_WEBHOOK_SECRET", "short")
    assert in_own_thread(main, ["bot", "--set-webhook"]) == 2
    assert "32 to 256 characters" in capsys.readouterr().err


def test_polling_refuses_while_the_portal_holds_the_webhook(
    cli_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shixin.cli import main

    monkeypatch.setenv("SHIXIN_TELEGRAM_WEBHOOK_SECRET", SECRET)
    assert in_own_thread(main, ["bot"]) == 2
    assert "shixin bot --delete-webhook" in capsys.readouterr().err
