"""Automatic expiry: an entry whose listing period (validUntil) has passed leaves the list.

Expiry is journaled as a system event like any other change, effective at the start of the
day after the last listed day, so it has the same deadline, history and proof. Entries that
arrive already expired are expired as they are applied (``apply``); this sweep catches the
ones whose period ends while they are listed.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from core.db import Store
from core.workdays import WorkCalendar
from search_index.apply import CHUNK, EXPIRY_SOURCE, record_events
from search_index.dates import today_cst
from search_index.journal import JournalLine
from search_index.lifecycle import expiry_event
from search_index.tables import entries
from search_index.types import PUBLIC_STATUSES


def expire_due(store: Store, calendar: WorkCalendar, today: date | None = None) -> int:
    """Journal and apply an expiry for every public entry listed only until before ``today``."""
    today = today or today_cst()
    with store.read() as conn:
        due = conn.execute(
            select(entries.c.id, entries.c.valid_until, entries.c.last_effective_at).where(
                entries.c.status.in_([s.value for s in PUBLIC_STATUSES]),
                entries.c.valid_until < today,
            )
        ).all()
    for start in range(0, len(due), CHUNK):
        lines = [
            JournalLine(expiry_event(entry_id, valid_until, state_time), None)
            for entry_id, valid_until, state_time in due[start : start + CHUNK]
        ]
        record_events(store, lines, source=EXPIRY_SOURCE, batch_id=None, calendar=calendar)
    return len(due)
