"""From collected alerts to mail: the email side of the alert round.

The alert round (watches/alerts.py) hands its ``email`` alerts to ``collect``: an alert for
a confirmed subscriber is kept in ``email_alerts`` instead of the outbox, in the round's own
transaction. ``MailRound`` then writes the mails: an address in "immediate" mode gets one
mail per alert at the next round; an address in "digest" mode gets, at the first round after
its hour (Beijing time), one mail with every alert collected up to that hour; later alerts
wait for the next day. Each mail goes to the outbox in the transaction that deletes its
alerts, under the store's single-writer lock: a crash or a restart, or two workers, neither
lose nor repeat one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, RowMapping, delete, select

from core.china_time import CST
from core.db import Store, in_chunks
from core.outbox import enqueue_many
from watches import mail_texts
from watches.tables import email_alerts, email_subscribers

IMMEDIATE, DIGEST = "immediate", "digest"
MODES = (IMMEDIATE, DIGEST)
ALERT_SUBJECT = "失信名单关注提醒"

Message = tuple[str, str, str, str, None]


def collect(conn: Connection, now: datetime, messages: Sequence[Message]) -> list[Message]:
    """Keep the alerts of confirmed email subscribers; return the others (Telegram, and
    email watches added without the site's confirmation) for the outbox."""
    addresses = sorted({m[1].lower() for m in messages if m[0] == "email"})
    confirmed: dict[str, int] = {}
    if addresses:
        rows = conn.execute(
            select(email_subscribers.c.id, email_subscribers.c.address).where(
                email_subscribers.c.address.in_(addresses),
                email_subscribers.c.confirmed_at.is_not(None),
            )
        )
        confirmed = {r.address: r.id for r in rows}
    kept = [
        {"subscriber_id": confirmed[m[1].lower()], "body": m[3], "created_at": now}
        for m in messages
        if m[0] == "email" and m[1].lower() in confirmed
    ]
    if kept:
        conn.execute(email_alerts.insert(), kept)
    return [m for m in messages if not (m[0] == "email" and m[1].lower() in confirmed)]


def last_digest_time(now: datetime, hour: int) -> datetime:
    """The latest moment at or before ``now`` when an address with this hour gets its
    digest: today at ``hour`` Beijing time, or yesterday's if that is still to come."""
    local = now.astimezone(CST)
    moment = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if moment > local:
        moment -= timedelta(days=1)
    return moment.astimezone(UTC)


@dataclass(slots=True)
class MailResult:
    mails: int = 0  # outbox rows written
    alerts: int = 0  # collected alerts they carried


class MailRound:
    def __init__(self, store: Store, key: str, public_url: str | None) -> None:
        self.store = store
        self.key = key
        self.public_url = public_url

    def run(self, now: datetime | None = None) -> MailResult:
        """Every mail that is due, in one transaction."""
        now = now or datetime.now(UTC)
        result = MailResult()
        with self.store.write() as conn:
            pending = _pending(conn)
            mails: list[Message] = []
            sent: list[int] = []
            for subscriber, alerts in pending:
                due = _due(subscriber, alerts, now)
                if not due:
                    continue
                mails.extend(self._mails(subscriber, due, now))
                sent.extend(a["id"] for a in due)
            enqueue_many(conn, now, mails)
            for chunk in in_chunks(sent):
                conn.execute(delete(email_alerts).where(email_alerts.c.id.in_(chunk)))
            result.mails, result.alerts = len(mails), len(sent)
        return result

    def _mails(
        self, subscriber: RowMapping, alerts: Sequence[RowMapping], now: datetime
    ) -> Iterable[Message]:
        address = subscriber["address"]
        token = mail_texts.address_token(self.key, subscriber["id"], address)
        if subscriber["mode"] == DIGEST:
            day = last_digest_time(now, subscriber["digest_hour"]).astimezone(CST).date()
            bodies = [a["body"] for a in alerts]
            body = mail_texts.digest_mail(bodies, day, self.public_url, token)
            yield "email", address, mail_texts.digest_subject(day), body, None
            return
        for alert in alerts:
            body = mail_texts.alert_mail(alert["body"], self.public_url, token)
            yield "email", address, ALERT_SUBJECT, body, None


def _pending(conn: Connection) -> list[tuple[RowMapping, list[RowMapping]]]:
    """Confirmed subscribers with collected alerts, each with its alerts in order."""
    rows = conn.execute(
        select(email_alerts, email_subscribers.c.address)
        .join(email_subscribers, email_subscribers.c.id == email_alerts.c.subscriber_id)
        .where(email_subscribers.c.confirmed_at.is_not(None))
        .order_by(email_alerts.c.id)
    ).mappings()
    by_subscriber: dict[int, list[RowMapping]] = defaultdict(list)
    for row in rows:
        by_subscriber[row["subscriber_id"]].append(row)
    if not by_subscriber:
        return []
    subscribers = conn.execute(
        select(email_subscribers).where(email_subscribers.c.id.in_(sorted(by_subscriber)))
    ).mappings()
    return [(s, by_subscriber[s["id"]]) for s in subscribers]


def _due(subscriber: RowMapping, alerts: list[RowMapping], now: datetime) -> list[RowMapping]:
    if subscriber["mode"] != DIGEST:
        return alerts
    moment = last_digest_time(now, subscriber["digest_hour"])
    return [a for a in alerts if a["created_at"] <= moment]
