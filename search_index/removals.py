"""Removal records: each time an entry leaves the public list, the legal deadline it is held
against (effective time + 3 working days) and, once the index no longer serves it, the time
its removal was confirmed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from core.bulk import insert_rows
from core.db import one_of
from core.workdays import WorkCalendar
from search_index.lifecycle import EntryState
from search_index.tables import removals

LEGAL_WORKING_DAYS = 3


def removal_row(state: EntryState, calendar: WorkCalendar) -> dict[str, Any]:
    cause = state.cause
    if cause is None:  # status changed by a replay whose cause was not tracked: be explicit
        raise ValueError(f"removal of {state.id} has no causing event")
    return {
        "entry_id": state.id,
        "event_id": cause.id,
        "kind": state.status.value,
        "reason": state.removal_reason,
        "effective_at": cause.effective_at,
        "received_at": cause.received_at,
        "deadline": calendar.removal_deadline(cause.effective_at, LEGAL_WORKING_DAYS),
        "removed_at": None,
        "superseded_at": None,
    }


def record(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    insert_rows(conn, removals, rows)


def supersede(conn: Connection, entry_ids: Sequence[str], now: datetime) -> None:
    """The entries are public again before their removal reached the index: nothing to prove."""
    _close_open(conn, entry_ids, superseded_at=now)


def confirm(conn: Connection, entry_ids: Sequence[str], now: datetime) -> int:
    """Record that the index no longer serves these entries."""
    return _close_open(conn, entry_ids, removed_at=now)


def _close_open(conn: Connection, entry_ids: Sequence[str], **values: datetime) -> int:
    """Set ``values`` on the still-open removals (neither confirmed nor superseded)."""
    result = conn.execute(
        update(removals)
        .where(
            one_of(conn, removals.c.entry_id, entry_ids),
            removals.c.removed_at.is_(None),
            removals.c.superseded_at.is_(None),
        )
        .values(**values)
    )
    return result.rowcount or 0
