"""The notification outbox: rows written in the same transaction as the change they
announce, so a notification exists exactly when its change does. A sender (next round:
email by aiosmtplib, Telegram by the bot) reads ``pending`` and marks rows sent or failed.

Channels: ``email`` and ``telegram`` (the submitter's or a unit's address) and ``unit``
(a unit without an email address: shown in its back office; recipient is the unit code).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select, update

from shixin.db import Store
from shixin.tables import outbox

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    channel: str
    recipient: str
    subject: str
    body: str
    ticket_id: int | None
    attempts: int
    created_at: datetime


def enqueue(
    conn: Connection,
    at: datetime,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    ticket_id: int | None = None,
) -> None:
    conn.execute(
        outbox.insert().values(
            created_at=at,
            channel=channel,
            recipient=recipient,
            subject=subject,
            body=body,
            ticket_id=ticket_id,
            attempts=0,
            next_attempt_at=at,
        )
    )


def pending(
    store: Store, now: datetime | None = None, limit: int = 100, channel: str | None = None
) -> list[Message]:
    """Messages due for a (re)try, oldest first."""
    now = now or datetime.now(UTC)
    query = (
        select(outbox)
        .where(outbox.c.sent_at.is_(None), outbox.c.next_attempt_at <= now)
        .order_by(outbox.c.id)
        .limit(limit)
    )
    if channel is not None:
        query = query.where(outbox.c.channel == channel)
    with store.read() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        Message(
            r["id"],
            r["channel"],
            r["recipient"],
            r["subject"],
            r["body"],
            r["ticket_id"],
            r["attempts"],
            r["created_at"],
        )
        for r in rows
    ]


def mark_sent(store: Store, message_id: int, now: datetime | None = None) -> None:
    with store.write() as conn:
        conn.execute(
            update(outbox).where(outbox.c.id == message_id).values(sent_at=now or datetime.now(UTC))
        )


def mark_failed(store: Store, message_id: int, error: str, now: datetime | None = None) -> None:
    """Count a failed attempt and schedule the next one with backoff."""
    now = now or datetime.now(UTC)
    with store.write() as conn:
        attempts = conn.execute(select(outbox.c.attempts).where(outbox.c.id == message_id)).scalar()
        if attempts is None:
            return
        delay = BACKOFF[min(attempts, len(BACKOFF) - 1)]
        conn.execute(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(attempts=attempts + 1, next_attempt_at=now + delay, last_error=error[:2000])
        )
