"""Telegram as a notification channel: one-time links from a ticket to a chat.

A submitter who wants notifications by Telegram gets, on the receipt, a link
``https://t.me/<bot>?start=<token>``; opening it sends ``/start <token>`` to the bot, which
stores the chat id on the ticket. Nobody types a chat id, and the token is useless once used
or expired. Only the token's hash is kept (table ``telegram_links``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection

from shixin.tables import telegram_links

LINK_LIFETIME = timedelta(days=7)
# Telegram allows 1-64 characters of A-Z, a-z, 0-9, _ and - in a /start parameter.
TOKEN_BYTES = 24


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
