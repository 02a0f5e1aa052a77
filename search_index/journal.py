"""The event journal: accepted events are written here, committed, and only then applied.

A crash after journaling loses nothing: ``apply.apply_pending`` picks up every event whose
``applied_at`` is still empty. Re-sending an event already journaled is a no-op, because
events are keyed by their content (``events.event_key``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from core.bulk import insert_rows
from core.db import one_of
from search_index.events import Event
from search_index.lifecycle import StoredEvent
from search_index.tables import events


@dataclass(slots=True, frozen=True)
class JournalLine:
    event: Event
    line_no: int | None


def journal(
    conn: Connection,
    lines: Sequence[JournalLine],
    *,
    source: str,
    batch_id: str | None,
    received_at: datetime,
    applied: bool = False,
) -> list[StoredEvent]:
    """Write the events not journaled before; returns them as stored (with their ids).

    Ids are assigned here, under the writer lock, rather than by the database, so the
    caller can apply the events without reading them back."""
    keys = [line.event.key for line in lines]
    known = known_keys(conn, keys)
    next_id = next_event_id(conn)
    rows: list[dict[str, Any]] = []
    stored: list[StoredEvent] = []
    for line in lines:
        ev = line.event
        if ev.key in known:
            continue
        known.add(ev.key)  # the same event twice in one batch is one event
        stored.append(
            StoredEvent(next_id, ev.op, ev.entry_id, ev.effective_at, received_at, ev.payload)
        )
        rows.append(
            {
                "id": next_id,
                "event_key": ev.key,
                "entry_id": ev.entry_id,
                "op": ev.op,
                "effective_at": ev.effective_at,
                "received_at": received_at,
                "source": source,
                "batch_id": batch_id,
                "line_no": line.line_no,
                "payload": ev.payload,
                "applied_at": received_at if applied else None,
            }
        )
        next_id += 1
    insert_rows(conn, events, rows)
    return stored


def next_event_id(conn: Connection) -> int:
    """The id the next journaled event gets. Ids are handed out under the writer lock, so
    the caller can apply events without reading them back."""
    return (conn.execute(select(func.max(events.c.id))).scalar() or 0) + 1


def known_keys(conn: Connection, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    query = select(events.c.event_key).where(one_of(conn, events.c.event_key, keys))
    return set(conn.execute(query).scalars())


def pending(conn: Connection, limit: int) -> list[StoredEvent]:
    rows = conn.execute(
        select(events).where(events.c.applied_at.is_(None)).order_by(events.c.id).limit(limit)
    ).mappings()
    return [_stored(row) for row in rows]


def applied_for(conn: Connection, entry_ids: Sequence[str]) -> list[StoredEvent]:
    """Every applied event of these entries (for replaying them)."""
    if not entry_ids:
        return []
    rows = conn.execute(
        select(events)
        .where(one_of(conn, events.c.entry_id, entry_ids), events.c.applied_at.is_not(None))
        .order_by(events.c.id)
    ).mappings()
    return [_stored(row) for row in rows]


def history(conn: Connection, entry_id: str) -> list[StoredEvent]:
    rows = conn.execute(
        select(events)
        .where(events.c.entry_id == entry_id, events.c.applied_at.is_not(None))
        .order_by(events.c.effective_at, events.c.id)
    ).mappings()
    return [_stored(row) for row in rows]


def _stored(row: dict) -> StoredEvent:  # type: ignore[type-arg]
    return StoredEvent(
        id=row["id"],
        op=row["op"],
        entry_id=row["entry_id"],
        effective_at=row["effective_at"],
        received_at=row["received_at"],
        payload=row["payload"],
    )


def batch_event_count(conn: Connection, batch_id: str) -> int:
    """The events a batch journaled, however many runs it took (the journal has no index on
    ``batch_id``: a scan, for the rare batch that was resumed)."""
    count = conn.execute(
        select(func.count()).select_from(events).where(events.c.batch_id == batch_id)
    ).scalar()
    return int(count or 0)
