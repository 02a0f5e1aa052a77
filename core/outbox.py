"""Writing to the notification outbox (``core.tables.outbox``): every domain that announces
a change enqueues its message in the same transaction as the change. Delivery (claiming,
retries) is casework's (casework/outbox.py) and the bot's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from core.tables import outbox


def enqueue(
    conn: Connection,
    at: datetime,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    ticket_id: int | None = None,
) -> None:
    enqueue_many(conn, at, [(channel, recipient, subject, body, ticket_id)])


def enqueue_many(
    conn: Connection,
    at: datetime,
    messages: Iterable[tuple[str, str, str, str, int | None]],
) -> int:
    """Several messages (channel, recipient, subject, body, ticket id) in one statement."""
    rows: list[dict[str, Any]] = [
        {
            "created_at": at,
            "channel": channel,
            "recipient": recipient,
            "subject": subject,
            "body": body,
            "ticket_id": ticket_id,
            "attempts": 0,
            "next_attempt_at": at,
        }
        for channel, recipient, subject, body, ticket_id in messages
    ]
    if rows:
        conn.execute(outbox.insert(), rows)
    return len(rows)
