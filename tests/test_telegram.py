"""Telegram notifications without the bot's handlers: linking a chat to a ticket
(casework/telegram_links.py) and the sender (bot/sender.py) against a fake Bot API
(bot/local_api.py; python-telegram-bot itself is real). On SQLite and PostgreSQL.

Covered: a link binds the chat, the timeline shows it and a confirmation goes out; a unit's
reply reaches the chat in Chinese with the ticket number and never the access code; used,
expired and unknown links bind nothing; a Telegram outage (connection refused, 502, 429)
delays messages and loses none, across a restart, honouring ``retry_after``; a blocked bot
or a vanished chat fails at once, unlinks the chat and is not retried; ``/stop`` unlinks;
long replies are split; hostile text goes out verbatim as plain text. With a public URL
every message links to the tracking page (the number filled in, never the code); on demo
data every message says so.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from support import credit_code
from telegram import Bot
from test_casework_support import (  # noqa: F401
    HOSTILE_TEXT,
    Casework,
    cw_fixture,
    routing_fixture,
)

from bot.local_api import TOKEN, USER_CHAT, LocalBotApi, run
from bot.sender import RoundReport, TelegramSender
from casework import outbox
from casework.intake import Receipt
from casework.tables import ticket_events, tickets
from casework.telegram_links import LinkStatus, link_chat, split_message, unlink_chat
from core.tables import outbox as outbox_table
from watches.service import WatchService

OTHER_CHAT = 888000222
PUBLIC_URL = "https://shixin.example.cn"


@pytest.fixture
def api() -> LocalBotApi:
    return LocalBotApi()


@pytest.fixture
def bot(api: LocalBotApi) -> Iterator[Bot]:
    bot = Bot(TOKEN, request=api.request(), get_updates_request=api.request())
    run(bot.initialize())  # getMe, as the bot does at start
    yield bot
    run(bot.shutdown())


def deliver(cw: Casework, bot: Bot) -> RoundReport:
    """One round by a fresh sender, as after a restart (state lives in the store only)."""
    return run(
        TelegramSender(cw.cases.store, bot, clock=cw.clock, sleep=cw.clock.sleep).deliver_pending()
    )


def filed(cw: Casework, **kw: object) -> Receipt:
    """A report whose submitter asked for Telegram (the receipt carries the link's token)."""
    fields: dict[str, object] = {"email": None, "telegram_link": True}
    fields.update(kw)
    receipt = cw.report(**fields)
    assert receipt.telegram_token
    return receipt


def contact(cw: Casework, ticket_id: int) -> str | None:
    with cw.cases.store.read() as conn:
        return conn.execute(
            select(tickets.c.contact_telegram).where(tickets.c.id == ticket_id)
        ).scalar()


def telegram_rows(cw: Casework) -> list[dict]:
    with cw.cases.store.read() as conn:
        rows = conn.execute(
            select(outbox_table)
            .where(outbox_table.c.channel == "telegram")
            .order_by(outbox_table.c.id)
        )
        return [dict(r) for r in rows.mappings()]


def event_count(cw: Casework) -> int:
    with cw.cases.store.read() as conn:
        return len(conn.execute(select(ticket_events.c.id)).all())


def link(cw: Casework, receipt: Receipt, chat: int = USER_CHAT) -> None:
    assert receipt.telegram_token is not None
    result = link_chat(cw.cases.store, receipt.telegram_token, chat, cw.clock())
    assert (result.status, result.number) == (LinkStatus.LINKED, receipt.number)


# --- linking and notifications -------------------------------------------------------------


def test_a_linked_chat_gets_the_confirmation_and_the_units_reply(
    cw: Casework, api: LocalBotApi, bot: Bot
) -> None:
    receipt = filed(cw)
    assert contact(cw, receipt.ticket_id) is None and telegram_rows(cw) == []

    link(cw, receipt)
    assert contact(cw, receipt.ticket_id) == str(USER_CHAT)
    timeline = cw.cases.track(receipt.number, receipt.access_code).timeline  # type: ignore[union-attr]
    assert (timeline[-1].action, timeline[-1].message) == ("contact", "已绑定 Telegram 通知")
    assert timeline[-1].actor_kind == "submitter"

    assert deliver(cw, bot).sent == 1
    (confirmation,) = api.sent
    assert confirmation.chat_id == USER_CHAT and confirmation.parse_mode is None
    assert confirmation.text.startswith(f"[{receipt.number}] 您的事项已绑定 Telegram 通知")
    assert "/stop" in confirmation.text and "事项查询" in confirmation.text

    tourism = cw.unit("tourism")
    cw.clock.advance(hours=1)
    cw.cases.accept(tourism, receipt.ticket_id)
    cw.cases.reply(tourism, receipt.ticket_id, "已核实，已通知酒店限制其入住。")
    assert deliver(cw, bot).sent == 2
    accepted, replied = api.to(USER_CHAT)[1:]
    assert accepted.startswith(f"[{receipt.number}] 您的事项已受理")
    assert replied.startswith(f"[{receipt.number}] 您的事项已答复")
    assert "已核实，已通知酒店限制其入住。" in replied
    assert f"事项编号：{receipt.number}" in replied and "事项查询" in replied
    assert "本邮件" not in replied  # the email footer is not reused verbatim
    assert "http" not in replied and "演示数据" not in replied  # no public URL, not a demo
    for sent in api.sent:
        assert receipt.access_code not in sent.text
        assert not sent.preview  # no preview card of the site under each message
    assert all(r["sent_at"] is not None for r in telegram_rows(cw))
    assert deliver(cw, bot).claimed == 0  # each message once


def test_with_a_public_url_every_message_links_to_the_tracking_page(
    cw: Casework, api: LocalBotApi, bot: Bot
) -> None:
    cw.cases.public_url = PUBLIC_URL
    receipt = filed(cw)
    assert receipt.telegram_token is not None
    linked = link_chat(
        cw.cases.store, receipt.telegram_token, USER_CHAT, cw.clock(), public_url=PUBLIC_URL
    )
    assert linked.status is LinkStatus.LINKED
    tourism = cw.unit("tourism")
    cw.cases.accept(tourism, receipt.ticket_id)
    cw.cases.transfer(tourism, receipt.ticket_id, "commerce", "属商务局职责")
    assert deliver(cw, bot).sent == 3

    track = f"{PUBLIC_URL}/track?number={receipt.number}"
    confirmation, accepted, transferred = api.to(USER_CHAT)
    assert "已绑定 Telegram 通知" in confirmation and "已转交" in transferred
    for text in (confirmation, accepted, transferred):
        # On a line of its own: Telegram's apps make it clickable without any markup.
        assert f"\n{track}\n" in text and "“事项查询”页面" in text and "/stop" in text
        assert receipt.access_code not in text
        assert receipt.access_code.replace("-", "") not in text


def test_on_demo_data_every_message_says_so(cw: Casework, api: LocalBotApi, bot: Bot) -> None:
    receipt = filed(cw)
    link(cw, receipt)
    sender = TelegramSender(cw.cases.store, bot, clock=cw.clock, demo=True, sleep=cw.clock.sleep)
    assert run(sender.deliver_pending()).sent == 1
    (text,) = api.to(USER_CHAT)
    assert text.startswith(f"[{receipt.number}] ")  # the note does not push the number down
    assert text.endswith("「演示数据，非真实名单」本消息来自演示站点。")


def test_used_expired_and_unknown_links_bind_nothing(cw: Casework) -> None:
    store = cw.cases.store
    receipt = filed(cw)
    assert receipt.telegram_token is not None
    link(cw, receipt)
    rows, events = len(telegram_rows(cw)), event_count(cw)

    again = link_chat(store, receipt.telegram_token, USER_CHAT, cw.clock())
    assert (again.status, again.number, again.ok) == (LinkStatus.ALREADY, receipt.number, True)
    stolen = link_chat(store, receipt.telegram_token, OTHER_CHAT, cw.clock())
    assert (stolen.status, stolen.number, stolen.ok) == (LinkStatus.USED, None, False)
    assert contact(cw, receipt.ticket_id) == str(USER_CHAT)

    late = filed(cw)
    assert late.telegram_token is not None
    cw.clock.advance(days=7)
    expired = link_chat(store, late.telegram_token, USER_CHAT, cw.clock())
    assert (expired.status, expired.number) == (LinkStatus.EXPIRED, None)
    assert contact(cw, late.ticket_id) is None

    for token in ("not-a-token-we-made", "x" * 65, "", "有中文", "a b"):
        assert link_chat(store, token, USER_CHAT, cw.clock()).status == LinkStatus.UNKNOWN
    assert len(telegram_rows(cw)) == rows
    assert event_count(cw) == events + 1  # the second report's "submit", nothing else


def test_a_telegram_outage_delays_messages_and_loses_none(
    cw: Casework, api: LocalBotApi, bot: Bot
) -> None:
    first, second = filed(cw), filed(cw)
    link(cw, first)
    link(cw, second)

    api.outage = "network"
    report = deliver(cw, bot)
    assert (report.claimed, report.sent, report.retrying) == (2, 0, 2)
    assert api.sent == []
    rows = telegram_rows(cw)
    assert [r["attempts"] for r in rows] == [1, 1]
    assert all("Connection refused" in r["last_error"] for r in rows)
    assert deliver(cw, bot).claimed == 0  # backing off: not hammering a server that is down

    cw.clock.advance(minutes=1, seconds=1)
    api.outage = "502"
    assert deliver(cw, bot).retrying == 2

    cw.clock.advance(minutes=2, seconds=1)
    api.outage, api.retry_after = "429", 3600  # flood control: wait as long as Telegram says
    assert deliver(cw, bot).retrying == 2
    cw.clock.advance(minutes=30)
    assert deliver(cw, bot).claimed == 0  # the backoff alone (4 minutes) would have allowed it

    cw.clock.advance(minutes=30, seconds=1)
    api.outage = None
    report = deliver(cw, bot)  # a new sender, as after a restart of the bot
    assert (report.sent, report.given_up) == (2, 0)
    assert sorted(s.text.split("]")[0] for s in api.sent) == sorted(
        f"[{r.number}" for r in (first, second)
    )
    assert all(r["sent_at"] is not None and r["failed_at"] is None for r in telegram_rows(cw))


def test_an_outage_that_outlasts_the_retries_ends_as_failed_for_the_operator(
    cw: Casework, api: LocalBotApi, bot: Bot
) -> None:
    link(cw, filed(cw))
    api.outage = "network"
    sender = TelegramSender(
        cw.cases.store, bot, clock=cw.clock, max_attempts=3, sleep=cw.clock.sleep
    )
    for _ in range(3):
        run(sender.deliver_pending())
        cw.clock.advance(hours=7)
    (failed,) = outbox.failed(cw.cases.store, "telegram")
    assert failed.attempts == 3 and "Connection refused" in (failed.last_error or "")
    assert contact(cw, failed.ticket_id or 0) == str(USER_CHAT)  # an outage unlinks nothing

    api.outage = None
    assert outbox.retry_failed(cw.cases.store, cw.clock(), channel="telegram") == 1
    assert deliver(cw, bot).sent == 1 and len(api.sent) == 1


@pytest.mark.parametrize("how", ["blocked", "missing"])
def test_a_chat_that_blocked_the_bot_fails_at_once_and_is_unlinked(
    cw: Casework, api: LocalBotApi, bot: Bot, how: str
) -> None:
    first, second = filed(cw), filed(cw)
    link(cw, first)
    link(cw, second)
    other = filed(cw)
    link(cw, other, OTHER_CHAT)
    watching = WatchService(cw.cases.store, "k" * 32)
    code = credit_code()
    watching.add_code("telegram", str(USER_CHAT), code)
    watching.add_code("telegram", str(OTHER_CHAT), code)
    getattr(api, how).add(USER_CHAT)

    report = deliver(cw, bot)
    assert report.sent == 1 and api.to(OTHER_CHAT) and not api.to(USER_CHAT)
    assert report.unlinked == 1 and report.retrying == 0
    assert contact(cw, first.ticket_id) is None and contact(cw, second.ticket_id) is None
    assert contact(cw, other.ticket_id) == str(OTHER_CHAT)
    # The chat's watches end with it; another chat's stay.
    assert watching.list("telegram", str(USER_CHAT)) == []
    assert len(watching.list("telegram", str(OTHER_CHAT))) == 1
    for receipt in (first, second):
        view = cw.cases.track(receipt.number, receipt.access_code)
        assert view is not None
        assert view.timeline[-1].message == "Telegram 无法送达，已停止 Telegram 通知"
        assert view.timeline[-1].actor_kind == "system"
    failed = outbox.failed(cw.cases.store, "telegram")
    assert len(failed) == 2 and all(m.recipient == str(USER_CHAT) for m in failed)
    reasons = sorted(m.last_error or "" for m in failed)
    assert reasons[0].startswith("403" if how == "blocked" else "400")
    assert reasons[1].startswith("cancelled")

    cw.clock.advance(days=1)
    api.blocked.clear()
    api.missing.clear()
    assert deliver(cw, bot).claimed == 0  # not retried
    tourism = cw.unit("tourism")
    cw.cases.accept(tourism, first.ticket_id)
    assert [r["recipient"] for r in telegram_rows(cw)].count(str(USER_CHAT)) == 2  # no new row


def test_stop_unlinks_and_nothing_more_reaches_the_chat(
    cw: Casework, api: LocalBotApi, bot: Bot
) -> None:
    first, second = filed(cw), filed(cw)
    link(cw, first)
    link(cw, second)
    assert deliver(cw, bot).sent == 2
    tourism = cw.unit("tourism")
    cw.cases.accept(tourism, first.ticket_id)  # queued, not yet sent

    numbers = unlink_chat(cw.cases.store, USER_CHAT, cw.clock())
    assert numbers == [first.number, second.number]
    assert contact(cw, first.ticket_id) is None and contact(cw, second.ticket_id) is None
    view = cw.cases.track(first.number, first.access_code)
    assert view is not None and view.timeline[-1].message == "已停止 Telegram 通知"
    assert deliver(cw, bot).claimed == 0 and len(api.sent) == 2

    # An operator who re-queues everything failed must not reach a chat that said /stop.
    assert outbox.retry_failed(cw.cases.store, cw.clock(), channel="telegram") == 1
    report = deliver(cw, bot)
    assert (report.sent, report.given_up) == (0, 1) and len(api.sent) == 2
    assert unlink_chat(cw.cases.store, USER_CHAT, cw.clock()) == []


def test_long_and_hostile_replies_arrive_whole_as_plain_text(
    cw: Casework, api: LocalBotApi, bot: Bot
) -> None:
    receipt = filed(cw)
    link(cw, receipt)
    tourism = cw.unit("tourism")
    cw.cases.accept(tourism, receipt.ticket_id)
    long_reply = "\n\n".join(f"第{i}段：" + "经核查，" * 60 for i in range(1, 21))
    assert len(long_reply) <= 5000
    cw.cases.reply(tourism, receipt.ticket_id, long_reply)
    cw.cases.close(tourism, receipt.ticket_id, HOSTILE_TEXT)
    assert deliver(cw, bot).given_up == 0

    texts = api.to(USER_CHAT)
    assert all(len(t.encode("utf-16-le")) // 2 <= 4096 for t in texts)
    assert all(s.parse_mode is None for s in api.sent)
    joined = "\n".join(texts)
    for i in range(1, 21):
        assert f"第{i}段：" in joined
    assert HOSTILE_TEXT in texts[-1]  # verbatim: no parse mode, so nothing is interpreted


def test_split_message_keeps_every_character() -> None:
    emoji = "😀" * 3000  # two UTF-16 units each: Telegram counts those
    pieces = split_message(emoji)
    assert "".join(pieces) == emoji
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in pieces)
    text = "甲" * 4000 + "\n" + "乙" * 200
    assert split_message(text) == ["甲" * 4000, "乙" * 200]
    assert split_message("短消息") == ["短消息"]
