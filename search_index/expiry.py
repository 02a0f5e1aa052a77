"""Automatic expiry: an entry whose listing period (validUntil) has passed leaves the list.

Expiry is journaled as a system event like any other change, effective at the start of the
day after the last listed day, so it has the same deadline, history and proof.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from search_index.apply import apply_pending
from search_index.dates import CST, today_cst
from search_index.events import EXPIRE, Event
from search_index.journal import JournalLine, journal
from search_index.types import PUBLIC_STATUSES
from shixin.db import Store
from shixin.tables import entries
from shixin.workdays import WorkCalendar

SOURCE = "system:expiry"
CHUNK = 5000


def expire_due(store: Store, calendar: WorkCalendar, today: date | None = None) -> int:
    """Journal and apply an expiry for every public entry listed only until before ``today``."""
    today = today or today_cst()
    with store.read() as conn:
        due = conn.execute(
            select(entries.c.id, entries.c.valid_until).where(
                entries.c.status.in_([s.value for s in PUBLIC_STATUSES]),
                entries.c.valid_until < today,
            )
        ).all()
    now = datetime.now(UTC)
    for start in range(0, len(due), CHUNK):
        lines = [
            JournalLine(_expiry_event(entry_id, valid_until), None)
            for entry_id, valid_until in due[start : start + CHUNK]
        ]
        with store.write() as conn:
            journal(conn, lines, source=SOURCE, batch_id=None, received_at=now)
    if due:
        apply_pending(store, calendar)
    return len(due)


def _expiry_event(entry_id: str, valid_until: date) -> Event:
    effective = datetime.combine(valid_until + timedelta(days=1), time(0), CST)
    return Event(EXPIRE, entry_id, effective, {"validUntil": valid_until.isoformat()})
