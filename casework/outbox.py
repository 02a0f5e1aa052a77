"""The notification outbox: rows written in the same transaction as the change they
announce, so a notification exists exactly when its change does.

Channels: ``email`` and ``telegram`` (the submitter's or a unit's address) and ``unit``
(a unit without an email address: shown in its back office; recipient is the unit code).

Senders (casework/mail.py for email; the bot for Telegram) deliver in rounds: ``claim``
takes due rows for a lease under the single-writer lock, so with several workers each row
goes to one round only; the round then marks each row sent, or failed. A failure is
retried with exponential backoff (``retry_delay``) until ``max_attempts``, then the row is
given up (``failed_at``) for an operator (``failed``, ``retry_failed``). A row claimed by a
process that died is claimable again at once when that process provably died on this host
(``core/process_identity.py``), otherwise once its lease has run out, so nothing is lost; it
may then be delivered twice (at least once, never zero times).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, or_, select, update

from casework.tables import tickets
from core.db import Store
from core.outbox import enqueue as enqueue  # the ground's, re-exported for casework
from core.process_identity import holder_is_dead
from core.tables import outbox

RETRY_FIRST = timedelta(minutes=1)  # the first retry; each next one waits twice as long
RETRY_CAP = timedelta(hours=6)
MAX_ATTEMPTS = 12  # about 1 + 2 + ... + 256 minutes, then 6-hourly: some 26 hours in all
DEFAULT_LEASE = timedelta(minutes=10)

log = logging.getLogger(__name__)


@dataclass
class RoundReport:
    """What one sender round did (casework/mail.py, bot/sender.py)."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0  # failed this time, scheduled again with backoff
    given_up: int = 0  # marked failed: retries exhausted, or not deliverable at all
    released: int = 0  # claimed but left for the next round (lease nearly over)
    unlinked: int = 0  # Telegram: chats removed from their tickets (blocked the bot)

    def add(self, other: RoundReport) -> None:
        """Count ``other``'s round into this one (several rounds of one run)."""
        for name in ("claimed", "sent", "retrying", "given_up", "released", "unlinked"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


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
    ticket_number: str | None = None  # filled by claim() and failed()
    last_error: str | None = None
    failed_at: datetime | None = None


def retry_delay(failures: int) -> timedelta:
    """The wait after the ``failures``-th failed attempt (1 → 1 minute, 2 → 2, 3 → 4 …)."""
    if failures >= 20:
        return RETRY_CAP
    return min(RETRY_FIRST * 2 ** max(0, failures - 1), RETRY_CAP)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        outbox.c.sent_at.is_(None),
        outbox.c.failed_at.is_(None),
        outbox.c.next_attempt_at <= now,
        or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= now),
    )


def _message(r: Any) -> Message:
    return Message(
        r["id"],
        r["channel"],
        r["recipient"],
        r["subject"],
        r["body"],
        r["ticket_id"],
        r["attempts"],
        r["created_at"],
        r.get("ticket_number"),
        r["last_error"],
        r["failed_at"],
    )


def _with_number() -> Any:
    return select(outbox, tickets.c.number.label("ticket_number")).outerjoin(
        tickets, tickets.c.id == outbox.c.ticket_id
    )


def pending(
    store: Store, now: datetime | None = None, limit: int = 100, channel: str | None = None
) -> list[Message]:
    """Messages due for a (re)try and not claimed by a sender round, oldest first."""
    now = now or datetime.now(UTC)
    query = _with_number().where(_due(now)).order_by(outbox.c.id).limit(limit)
    if channel is not None:
        query = query.where(outbox.c.channel == channel)
    with store.read() as conn:
        return [_message(r) for r in conn.execute(query).mappings()]


def claim(
    store: Store,
    channel: str,
    claimer: str,
    now: datetime | None = None,
    lease: timedelta = DEFAULT_LEASE,
    limit: int = 20,
    recipient: str | None = None,
) -> list[Message]:
    """Take up to ``limit`` due messages of one channel (to ``recipient`` only, if given)
    for ``claimer`` until now + lease.

    Runs under the store's single-writer lock (BEGIN IMMEDIATE on SQLite, the advisory
    lock on PostgreSQL), and the UPDATE repeats the due condition: two rounds never hold
    the same row at once."""
    now = now or datetime.now(UTC)
    with store.write() as conn:
        _free_dead_claims(conn, now)
        query = select(outbox.c.id).where(_due(now), outbox.c.channel == channel)
        if recipient is not None:
            query = query.where(outbox.c.recipient == recipient)
        ids = list(conn.execute(query.order_by(outbox.c.id).limit(limit)).scalars())
        if not ids:
            return []
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids), _due(now))
            .values(claimed_by=claimer, claimed_until=now + lease)
        )
        rows = conn.execute(
            _with_number()
            .where(outbox.c.id.in_(ids), outbox.c.claimed_by == claimer)
            .order_by(outbox.c.id)
        ).mappings()
        return [_message(r) for r in rows]


def _free_dead_claims(conn: Connection, now: datetime) -> None:
    """Rows claimed by a round whose process provably died (core/process_identity.py) are
    free at once, so a restarted sender on the same host does not wait out the dead round's
    lease; a claimer that cannot be checked from here keeps its rows until the lease ends."""
    claimers = conn.execute(
        select(outbox.c.claimed_by)
        .where(
            outbox.c.sent_at.is_(None),
            outbox.c.failed_at.is_(None),
            outbox.c.claimed_until > now,
        )
        .distinct()
    ).scalars()
    dead = [claimer for claimer in claimers if claimer and holder_is_dead(claimer)]
    if dead:
        log.warning("taking over outbox rows of %d dead sender round(s)", len(dead))
        conn.execute(
            update(outbox)
            .where(outbox.c.claimed_by.in_(dead), outbox.c.sent_at.is_(None))
            .values(claimed_by=None, claimed_until=None)
        )


def release(store: Store, claimer: str, ids: list[int] | None = None) -> None:
    """Give back claimed rows not yet sent (all of the claimer's, or ``ids``)."""
    query = update(outbox).where(outbox.c.claimed_by == claimer, outbox.c.sent_at.is_(None))
    if ids is not None:
        if not ids:
            return
        query = query.where(outbox.c.id.in_(ids))
    with store.write() as conn:
        conn.execute(query.values(claimed_by=None, claimed_until=None))


def mark_sent(store: Store, message_id: int, now: datetime | None = None) -> None:
    with store.write() as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(sent_at=now or datetime.now(UTC), claimed_by=None, claimed_until=None)
        )


def mark_failed(
    store: Store,
    message_id: int,
    error: str,
    now: datetime | None = None,
    *,
    claimer: str | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    not_before: datetime | None = None,
) -> bool:
    """Count a failed attempt and schedule the next one with backoff; after
    ``max_attempts`` failures give the message up. Returns True when it was given up.

    With ``claimer``, a row no longer held by that round (its lease ran out and another
    round took it, or it was sent meanwhile) is left alone."""
    now = now or datetime.now(UTC)
    with store.write() as conn:
        row = (
            conn.execute(
                select(outbox.c.attempts, outbox.c.claimed_by, outbox.c.sent_at).where(
                    outbox.c.id == message_id
                )
            )
            .mappings()
            .first()
        )
        if row is None or row["sent_at"] is not None:
            return False
        if claimer is not None and row["claimed_by"] != claimer:
            return False
        attempts = row["attempts"] + 1
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_error": error[:2000],
            "claimed_by": None,
            "claimed_until": None,
        }
        given_up = attempts >= max_attempts
        if given_up:
            values["failed_at"] = now
        else:
            # not_before: the server asked us to wait (Telegram's flood control)
            values["next_attempt_at"] = max(now + retry_delay(attempts), not_before or now)
        conn.execute(update(outbox).where(outbox.c.id == message_id).values(values))
        return given_up


def failed(store: Store, channel: str | None = None, limit: int = 1000) -> list[Message]:
    """Messages given up after their retries, newest first: for an operator."""
    query = (
        _with_number()
        .where(outbox.c.failed_at.is_not(None), outbox.c.sent_at.is_(None))
        .order_by(outbox.c.failed_at.desc(), outbox.c.id.desc())
        .limit(limit)
    )
    if channel is not None:
        query = query.where(outbox.c.channel == channel)
    with store.read() as conn:
        return [_message(r) for r in conn.execute(query).mappings()]


def retry_failed(store: Store, now: datetime | None = None, channel: str | None = None) -> int:
    """Queue every given-up message again with a fresh count (after the operator has fixed
    the cause). Returns how many."""
    query = update(outbox).where(outbox.c.failed_at.is_not(None), outbox.c.sent_at.is_(None))
    if channel is not None:
        query = query.where(outbox.c.channel == channel)
    with store.write() as conn:
        result = conn.execute(
            query.values(failed_at=None, attempts=0, next_attempt_at=now or datetime.now(UTC))
        )
        return int(result.rowcount or 0)


def record_failure(
    store: Store,
    report: RoundReport,
    message: Message,
    reason: str,
    now: datetime,
    *,
    claimer: str,
    max_attempts: int,
    log: logging.Logger,
    command: str,
    not_before: datetime | None = None,
) -> None:
    """A sender's failed attempt: retried with backoff or given up (``mark_failed``), counted
    in ``report`` and logged, pointing the operator at ``command`` (``shixin mail --failed``)."""
    given_up = mark_failed(
        store,
        message.id,
        reason,
        now,
        claimer=claimer,
        max_attempts=max_attempts,
        not_before=not_before,
    )
    what = f"{message.channel} #{message.id} ({message.ticket_number or 'no ticket'})"
    if given_up:
        report.given_up += 1
        log.error(
            "%s given up after %d attempt(s): %s (see `%s`)",
            what,
            message.attempts + 1,
            reason,
            command,
        )
    else:
        report.retrying += 1
        log.warning("%s failed (attempt %d), will retry: %s", what, message.attempts + 1, reason)
