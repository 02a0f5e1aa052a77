"""Journaling events and applying them to entries, one transaction per chunk.

An accepted chunk is journaled and applied atomically: after a crash a chunk is either
wholly there or wholly absent (and a rerun, deduplicated by event key, brings it in).
Every entry that changes gets a new change sequence number; the index sync follows those
numbers (the store's durable outbox), so a committed change always reaches the index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import Connection, update

from core.db import Store, allocate_seq
from core.workdays import WorkCalendar
from search_index import firstpub, removals
from search_index.dates import today_cst
from search_index.entries import load_states, row_from_state, save_states
from search_index.firstpub import FirstPublication
from search_index.journal import JournalLine, applied_for, journal, pending
from search_index.lifecycle import (
    EXPIRY_SOURCE,
    EntryState,
    StoredEvent,
    apply,
    expiry_event,
    replay,
)
from search_index.tables import events

CHUNK = 5000


def record_events(
    store: Store,
    lines: Sequence[JournalLine],
    *,
    source: str,
    batch_id: str | None,
    calendar: WorkCalendar,
    received_at: datetime | None = None,
    check: Callable[[Connection, list[JournalLine]], list[JournalLine]] | None = None,
    first: Sequence[FirstPublication] = (),
) -> int:
    """Journal the events not seen before and apply them, atomically; returns how many
    were new. ``check`` may drop lines, seeing the store inside the same transaction.
    ``first`` are publish lines prepared for the bulk path (``search_index.firstpub``);
    they are not checked, so a caller with a ``check`` passes them as ``lines``."""
    received_at = received_at or datetime.now(UTC)
    with store.write() as conn:
        if check is not None:
            lines = check(conn, list(lines))
        written, rest = firstpub.record(
            conn,
            first,
            lines,
            source=source,
            batch_id=batch_id,
            received_at=received_at,
            today=today_cst(),
        )
        if rest:  # keep input order: it breaks ties between events of one entry
            lines = sorted([*lines, *rest], key=lambda line: line.line_no or 0)
        stored = journal(
            conn, lines, source=source, batch_id=batch_id, received_at=received_at, applied=True
        )
        if stored:
            _apply(conn, stored, calendar, received_at)
    return written + len(stored)


def apply_pending(store: Store, calendar: WorkCalendar, chunk: int = CHUNK) -> int:
    """Apply journaled events that are not applied yet (journals written by an older
    version, or by hand); returns how many were applied."""
    total = 0
    while True:
        with store.write() as conn:
            batch = pending(conn, chunk)
            if not batch:
                return total
            now = datetime.now(UTC)
            _apply(conn, batch, calendar, now)
            conn.execute(
                update(events).where(events.c.id.in_([e.id for e in batch])).values(applied_at=now)
            )
        total += len(batch)


def _apply(
    conn: Connection, batch: list[StoredEvent], calendar: WorkCalendar, now: datetime
) -> None:
    by_entry: dict[str, list[StoredEvent]] = defaultdict(list)
    for event in batch:
        by_entry[event.entry_id].append(event)
    states = load_states(conn, list(by_entry))
    history = _history_for_replay(conn, by_entry, states)
    afters: dict[str, EntryState] = {}
    for entry_id, new_events in by_entry.items():
        if entry_id in history:
            after = replay(history[entry_id] + new_events)
        else:
            after = _apply_in_order(states.get(entry_id), new_events)
        assert after is not None
        afters[entry_id] = after
    _expire_past_listing_period(conn, afters, now)
    _save(conn, states, afters, calendar, now)


def _expire_past_listing_period(
    conn: Connection, afters: dict[str, EntryState], now: datetime
) -> None:
    """A court may send an entry whose listing period is already over: journal and apply
    its expiry right here, so it is never served even for a moment."""
    today = today_cst().isoformat()
    due = [
        state
        for state in afters.values()
        if state.is_public and (state.data.get("valid_until") or "9999") < today
    ]
    if not due:
        return
    lines = [
        JournalLine(
            expiry_event(s.id, date.fromisoformat(s.data["valid_until"]), s.last_effective_at),
            None,
        )
        for s in due
    ]
    stored = journal(
        conn, lines, source=EXPIRY_SOURCE, batch_id=None, received_at=now, applied=True
    )
    for event in stored:
        afters[event.entry_id] = apply(afters[event.entry_id], event)


def _save(
    conn: Connection,
    states: dict[str, EntryState],
    afters: dict[str, EntryState],
    calendar: WorkCalendar,
    now: datetime,
) -> None:
    first_seq = allocate_seq(conn, len(afters))
    new_rows, changed_rows, removal_rows, republished = [], [], [], []
    for offset, (entry_id, after) in enumerate(afters.items()):
        before = states.get(entry_id)
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


def _history_for_replay(
    conn: Connection, by_entry: dict[str, list[StoredEvent]], states: dict[str, EntryState]
) -> dict[str, list[StoredEvent]]:
    """Earlier events of the entries that received an event not newer than their state."""
    stale = [
        entry_id
        for entry_id, new_events in by_entry.items()
        if entry_id in states
        # Equal times replay too: ties are broken by event id, which an incremental
        # apply could get wrong when another writer's events were applied in between.
        and min(e.effective_at for e in new_events) <= states[entry_id].last_effective_at
    ]
    new_ids = {e.id for entry_id in stale for e in by_entry[entry_id]}
    history: dict[str, list[StoredEvent]] = {entry_id: [] for entry_id in stale}
    for event in applied_for(conn, stale):
        if event.id not in new_ids:  # this chunk's own events are journaled as applied
            history[event.entry_id].append(event)
    return history


def _apply_in_order(state: EntryState | None, new_events: list[StoredEvent]) -> EntryState | None:
    for event in sorted(new_events, key=lambda e: e.order):
        state = apply(state, event)
    return state
