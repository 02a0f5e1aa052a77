"""Telegram as a notification channel: one-time links from a ticket to a chat.

A submitter who wants notifications by Telegram gets, on the receipt, a link
``https://t.me/<bot>?start=<token>``; opening it sends ``/start <token>`` to the bot, which
stores the chat id on the ticket (``link_chat``). Nobody types a chat id, and the token is
useless once used or expired. Only the token's hash is kept (table ``telegram_links``).

A chat id is personal data: ``/stop`` (``unlink_chat``) removes it from every ticket, and so
does the sender when Telegram says the user blocked the bot. This module is the domain side
only; the bot (bot/) talks to Telegram and imports python-telegram-bot.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, select, update

from casework import notice_texts, outbox
from casework.mail import mail_subject
from casework.tables import telegram_links, tickets
from casework.tickets import add_event
from core.db import Store
from core.tables import outbox as outbox_table

CHANNEL = "telegram"
LINK_LIFETIME = timedelta(days=7)
# Telegram allows 1-64 characters of A-Z, a-z, 0-9, _ and - in a /start parameter.
TOKEN_BYTES = 24
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CHAT_ID = re.compile(r"^-?\d{1,20}$")
# Telegram's limit per message, counted in UTF-16 code units.
MAX_MESSAGE = 4096
LINKED = "已绑定 Telegram 通知"
LINKED_DETAIL = (
    "此后该事项的受理、转办、答复、办结等进展都会发送到这里。发送 /stop 可随时停止 Telegram 通知。"
)
TELEGRAM_CLOSING = "发送 /stop 可停止 Telegram 通知。本消息由系统自动发送。"


class LinkStatus(StrEnum):
    LINKED = "linked"
    ALREADY = "already"  # the same chat opened a used link again: nothing to do
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class LinkResult:
    status: LinkStatus
    number: str | None = None  # the ticket's number when the token was valid or is ours

    @property
    def ok(self) -> bool:
        return self.status in (LinkStatus.LINKED, LinkStatus.ALREADY)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_link(conn: Connection, ticket_id: int, now: datetime) -> str:
    """A fresh token that ties ``ticket_id`` to whichever chat sends it to the bot."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    conn.execute(
        telegram_links.insert().values(
            token_hash=token_hash(token),
            ticket_id=ticket_id,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    return token


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


def link_chat(
    store: Store,
    token: str,
    chat_id: int | str,
    now: datetime,
    *,
    public_url: str | None = None,
) -> LinkResult:
    """Bind the ticket behind ``token`` to ``chat_id``: the chat id goes on the ticket, the
    link is used up, the timeline records it and a confirmation is queued for the chat (with
    a link to the tracking page when ``public_url`` is set). Anything but a valid, unused,
    unexpired token changes nothing."""
    chat = str(chat_id)
    if not _TOKEN.match(token or "") or not CHAT_ID.match(chat):
        return LinkResult(LinkStatus.UNKNOWN)
    with store.write() as conn:
        row = (
            conn.execute(
                select(
                    telegram_links.c.expires_at,
                    telegram_links.c.used_at,
                    tickets.c.id,
                    tickets.c.number,
                    tickets.c.unit_code,
                    tickets.c.contact_telegram,
                )
                .join(tickets, tickets.c.id == telegram_links.c.ticket_id)
                .where(telegram_links.c.token_hash == token_hash(token))
            )
            .mappings()
            .first()
        )
        if row is None:
            return LinkResult(LinkStatus.UNKNOWN)
        if row["used_at"] is not None:
            if row["contact_telegram"] == chat:
                return LinkResult(LinkStatus.ALREADY, row["number"])
            return LinkResult(LinkStatus.USED)
        if row["expires_at"] <= now:
            return LinkResult(LinkStatus.EXPIRED)
        conn.execute(
            update(telegram_links)
            .where(telegram_links.c.token_hash == token_hash(token))
            .values(used_at=now)
        )
        conn.execute(update(tickets).where(tickets.c.id == row["id"]).values(contact_telegram=chat))
        add_event(
            conn,
            row["id"],
            now,
            "contact",
            actor_kind="submitter",
            unit_code=row["unit_code"],
            public_message=LINKED,
        )
        subject, body = notice_texts.to_submitter(
            row["number"], LINKED, LINKED_DETAIL, public_url=public_url
        )
        outbox.enqueue(conn, now, CHANNEL, chat, subject, body, row["id"])
        return LinkResult(LinkStatus.LINKED, row["number"])


def unlink_chat(
    store: Store, chat_id: int | str, now: datetime, *, by_submitter: bool = True
) -> list[str]:
    """Remove ``chat_id`` from every ticket (``/stop``, or Telegram said the user blocked
    the bot) and cancel what is still queued for it. Returns the tickets' numbers."""
    chat = str(chat_id)
    message = "已停止 Telegram 通知" if by_submitter else "Telegram 无法送达，已停止 Telegram 通知"
    with store.write() as conn:
        rows = (
            conn.execute(
                select(tickets.c.id, tickets.c.number, tickets.c.unit_code)
                .where(tickets.c.contact_telegram == chat)
                .order_by(tickets.c.id)
            )
            .mappings()
            .all()
        )
        if rows:
            conn.execute(
                update(tickets)
                .where(tickets.c.contact_telegram == chat)
                .values(contact_telegram=None)
            )
        for row in rows:
            add_event(
                conn,
                row["id"],
                now,
                "contact",
                actor_kind="submitter" if by_submitter else "system",
                unit_code=row["unit_code"],
                public_message=message,
            )
        # Left queued, they would reach a chat that asked for silence (or cannot be reached).
        conn.execute(
            update(outbox_table)
            .where(
                outbox_table.c.channel == CHANNEL,
                outbox_table.c.recipient == chat,
                outbox_table.c.sent_at.is_(None),
                outbox_table.c.failed_at.is_(None),
            )
            .values(failed_at=now, last_error="cancelled: the chat was unlinked")
        )
    return [row["number"] for row in rows]


def still_linked(store: Store, message: outbox.Message) -> bool:
    """Whether the ticket of a queued message still names its chat (a message re-queued by
    an operator after /stop must not go out)."""
    if message.ticket_id is None:
        return True
    with store.read() as conn:
        current = conn.execute(
            select(tickets.c.contact_telegram).where(tickets.c.id == message.ticket_id)
        ).scalar()
    return current == message.recipient


def message_text(message: outbox.Message, *, demo: bool = False) -> str:
    """The plain text sent for an outbox row: the email's subject line and body, with the
    email's closing sentence swapped for one that fits a chat, and a demo note while the
    portal runs on demo data. No parse mode: nothing is markup (Telegram's apps make the
    tracking page's URL clickable by themselves)."""
    body = message.body
    if body.endswith(notice_texts.EMAIL_CLOSING):
        body = body[: -len(notice_texts.EMAIL_CLOSING)] + TELEGRAM_CLOSING
    if demo:
        body += f"\n\n{notice_texts.DEMO_NOTE}"
    return f"{mail_subject(message.subject, message.ticket_number)}\n\n{body}"


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Pieces of at most ``limit`` UTF-16 units, cut at paragraph, then line breaks where
    possible (a unit's reply may be longer than one Telegram message)."""
    pieces: list[str] = []
    rest = text
    while _units(rest) > limit:
        cut = 0
        for sep in ("\n\n", "\n", "。", " "):
            at = _last_fit(rest, sep, limit)
            if at > 0:
                cut = at
                break
        if cut == 0:  # no break at all: cut by length
            cut = _fit(rest, limit)
        pieces.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:].lstrip("\n")
    if rest:
        pieces.append(rest)
    return pieces


def _fit(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def _last_fit(text: str, sep: str, limit: int) -> int:
    end = _fit(text, limit)
    at = text.rfind(sep, 0, end)
    return at + len(sep) if at > 0 else 0
