"""Applying journaled events to entries, in chunks, each chunk one transaction.

Every entry that changes gets a new change sequence number; the index sync follows those
numbers (the store's durable outbox), so a change committed here always reaches the index.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import Connection, update

from search_index import removals
from search_index.entries import load_states, row_from_state, save_states
from search_index.journal import applied_for, pending
from search_index.lifecycle import EntryState, StoredEvent, apply, replay
from shixin.db import Store, allocate_seq
from shixin.tables import events
from shixin.workdays import WorkCalendar

CHUNK = 5000


def apply_pending(store: Store, calendar: WorkCalendar, chunk: int = CHUNK) -> int:
    """Apply every journaled event not applied yet; returns how many were applied."""
    total = 0
    while True:
        with store.write() as conn:
            batch = pending(conn, chunk)
            if not batch:
                return total
            _apply_chunk(conn, batch, calendar)
        total += len(batch)


def _apply_chunk(conn: Connection, batch: list[StoredEvent], calendar: WorkCalendar) -> None:
    now = datetime.now(UTC)
    by_entry: dict[str, list[StoredEvent]] = defaultdict(list)
    for event in batch:
        by_entry[event.entry_id].append(event)
    states = load_states(conn, list(by_entry))
    history = _history_for_replay(conn, by_entry, states)

    first_seq = allocate_seq(conn, len(by_entry))
    new_rows, changed_rows, removal_rows, republished = [], [], [], []
    for offset, (entry_id, new_events) in enumerate(by_entry.items()):
        before = states.get(entry_id)
        if entry_id in history:
            after = replay(history[entry_id] + new_events)
        else:
            after = _apply_in_order(before, new_events)
        assert after is not None
        row = row_from_state(after, first_seq + offset)
        (changed_rows if before else new_rows).append(row)
        was_public = before is not None and before.is_public
        if was_public and not after.is_public:
            removal_rows.append(removals.removal_row(after, calendar))
        elif after.is_public and not was_public:
            republished.append(entry_id)

    save_states(conn, new_rows, changed_rows)
    removals.supersede(conn, republished, now)
    removals.record(conn, removal_rows)
    conn.execute(
        update(events)
        .where(
            events.c.id.between(batch[0].id, batch[-1].id),
            events.c.applied_at.is_(None),
        )
        .values(applied_at=now)
    )


def _history_for_replay(
    conn: Connection, by_entry: dict[str, list[StoredEvent]], states: dict[str, EntryState]
) -> dict[str, list[StoredEvent]]:
    """Applied events of the entries that received an event older than their state."""
    stale = [
        entry_id
        for entry_id, new_events in by_entry.items()
        if entry_id in states
        and min(e.effective_at for e in new_events) < states[entry_id].last_effective_at
    ]
    history: dict[str, list[StoredEvent]] = {entry_id: [] for entry_id in stale}
    for event in applied_for(conn, stale):
        history[event.entry_id].append(event)
    return history


def _apply_in_order(state: EntryState | None, new_events: list[StoredEvent]) -> EntryState | None:
    for event in sorted(new_events, key=lambda e: e.order):
        state = apply(state, event)
    return state
