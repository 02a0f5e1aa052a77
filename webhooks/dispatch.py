"""Queueing the feed for the endpoints: each live endpoint (enabled, its key not revoked)
without an open delivery gets the next batch of the feed after its cursor, as one outbox row.

The row and the endpoint's new cursor are written in one transaction, under the store's
single-writer lock: after a crash either both are there or neither, so a restart queues
every change once, and several workers never queue the same batch twice. Entries that never
were public move the cursor but are left out of the batch (the feed leaves them out too).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from api_keys.tables import api_keys
from core.db import Store
from search_index.tables import entries
from webhooks import queue
from webhooks.queue import Batch
from webhooks.tables import webhook_endpoints

BATCH = 100  # events per delivery, the feed's default page


def dispatch(store: Store, now: datetime, batch: int = BATCH) -> int:
    """Queue the next batch for every endpoint that is ready; how many endpoints moved on
    (a batch of never-public entries only moves the cursor)."""
    moved = 0
    with store.read() as conn:  # most rounds find nothing to do: no write lock for them
        if not _live(conn):
            return 0
    with store.write() as conn:
        waiting = queue.busy(conn)
        for endpoint_id, cursor in _live(conn):
            if endpoint_id not in waiting:
                moved += _queue_next(conn, endpoint_id, cursor, now, batch)
    return moved


def _live(conn: Connection) -> list[tuple[int, int]]:
    query = (
        select(webhook_endpoints.c.id, webhook_endpoints.c.cursor)
        .join(api_keys, api_keys.c.id == webhook_endpoints.c.key_id)
        .where(webhook_endpoints.c.disabled_at.is_(None), api_keys.c.revoked_at.is_(None))
        .order_by(webhook_endpoints.c.id)
    )
    return [(int(r.id), int(r.cursor)) for r in conn.execute(query)]


def _queue_next(conn: Connection, endpoint_id: int, cursor: int, now: datetime, size: int) -> int:
    changed = conn.execute(
        select(entries.c.id, entries.c.seq, entries.c.ever_public)
        .where(entries.c.seq > cursor)
        .order_by(entries.c.seq)
        .limit(size)
    ).all()
    if not changed:
        return 0
    last = int(changed[-1].seq)
    ids = tuple(row.id for row in changed if row.ever_public)
    if ids:
        queue.put(conn, now, endpoint_id, Batch(cursor, last, ids))
    conn.execute(
        update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id).values(cursor=last)
    )
    return 1
