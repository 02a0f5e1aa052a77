"""A webhook's deliveries in the ground's outbox (channel ``webhook``, recipient the
endpoint's id). A row names a batch of the feed (the cursor before and after it and the
entries it covers), never what the entries said: the body is written at send time from each
entry's state then (webhooks/delivery.py), so a retry a day late never pushes what an entry
said before it was corrected or removed, and the outbox never holds personal data.

An endpoint has at most one open row (neither sent nor given up): its deliveries arrive in
the feed's order, and one that fails holds the rest back instead of piling them up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import ColumnElement, Connection, and_, delete, select, update

from core.outbox import enqueue
from core.tables import outbox

CHANNEL = "webhook"


@dataclass(frozen=True, slots=True)
class Batch:
    after: int  # the feed's change number before the batch (its ``since``)
    next: int  # and after it
    ids: tuple[str, ...]  # the entries changed in between, in change order

    def dumps(self) -> str:
        return orjson.dumps({"after": self.after, "next": self.next, "ids": self.ids}).decode()

    @classmethod
    def loads(cls, text: str) -> Batch:
        data = orjson.loads(text)
        return cls(int(data["after"]), int(data["next"]), tuple(data["ids"]))


def put(conn: Connection, at: datetime, endpoint_id: int, batch: Batch) -> None:
    subject = f"{len(batch.ids)} events"
    enqueue(conn, at, CHANNEL, str(endpoint_id), subject, batch.dumps())


def busy(conn: Connection) -> set[int]:
    """The endpoints that have an open row."""
    query = select(outbox.c.recipient).where(_open()).distinct()
    return {int(r) for r in conn.execute(query).scalars()}


def withdraw(conn: Connection, endpoint_id: int, at: datetime, reason: str) -> int | None:
    """Give up the endpoint's open rows (it was disabled); the change number to queue
    from again when it is enabled, None when nothing was open."""
    rows = conn.execute(
        select(outbox.c.id, outbox.c.body).where(_open(), outbox.c.recipient == str(endpoint_id))
    ).all()
    if not rows:
        return None
    conn.execute(
        update(outbox)
        .where(outbox.c.id.in_([r.id for r in rows]))
        .values(failed_at=at, last_error=reason[:2000])
    )
    return min(Batch.loads(r.body).after for r in rows)


def forget(conn: Connection, endpoint_id: int) -> None:
    """Every row of a deleted endpoint."""
    conn.execute(
        delete(outbox).where(outbox.c.channel == CHANNEL, outbox.c.recipient == str(endpoint_id))
    )


def _open() -> ColumnElement[bool]:
    return and_(
        outbox.c.channel == CHANNEL, outbox.c.sent_at.is_(None), outbox.c.failed_at.is_(None)
    )
