"""The change feed: the list's changes since a cursor, for mirrors that must stay lawful.

It follows the list's change sequence (``entries.seq``), like the index sync and the watch
alerts: every change to an entry gives it a new number, so the entries changed after a
cursor, in number order, each in its latest state, are exactly what a mirror needs to catch
up. Replaying the feed from the start (or from a snapshot's cursor) ends with the public
set as it is now. An entry that never was public is never in the feed, though the cursor
moves past it.

A removal says only the entry's id, when it left the list (``removedAt``) and when a
republisher must have deleted it (``mustDeleteBy``: the removal's effective time plus three
working days on China's calendar, as our own deadline is computed in ``removals``): no name,
no case number, nothing personal. An entry whose listing period has run out is a removal
from the start of the next day, before the expiry sweep records it.

The Atom feeds (portal/atom_feeds.py) are views of the same code: ``listings`` gives the
entries a search found in their latest state, ``recent_removals`` the newest removals as
``feed_event`` words them.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, not_, select

from core.workdays import WorkCalendar
from search_index.dates import CST
from search_index.entries import doc_from_row, is_servable, servable_clause
from search_index.removals import LEGAL_WORKING_DAYS
from search_index.tables import entries
from search_index.types import Status

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
_PREFIX = "s1."  # the cursor's version: a later form can be told apart
MAX_CURSOR = 40
CURSOR_PATTERN = f"^[A-Za-z0-9_-]{{0,{MAX_CURSOR}}}$"
_CURSOR = re.compile(CURSOR_PATTERN)


class CursorError(ValueError):
    """A cursor this feed did not hand out."""


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The change number of a cursor; "" is the start of the list."""
    if not cursor:
        return 0
    if not _CURSOR.match(cursor):
        raise CursorError(cursor)
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise CursorError(cursor) from exc
    number = text.removeprefix(_PREFIX)
    if not text.startswith(_PREFIX) or not number.isdigit() or len(number) > 18:
        raise CursorError(cursor)
    return int(number)


@dataclass(slots=True)
class FeedPage:
    events: list[dict[str, Any]] = field(default_factory=list)
    next: str = ""  # the cursor to ask with next time; the same one when nothing changed
    more: bool = False  # changes beyond this page are waiting

    def as_dict(self) -> dict[str, Any]:
        return {"events": self.events, "next": self.next, "more": self.more}


def changes(
    conn: Connection, since: int, limit: int, today: date, calendar: WorkCalendar
) -> FeedPage:
    """Up to ``limit`` events after change ``since``, oldest first. One row more than
    needed is read, so that ``more`` costs no query of its own."""
    page = FeedPage(next=encode_cursor(since))
    while len(page.events) < limit:
        want = limit - len(page.events)
        query = select(entries).where(entries.c.seq > since).order_by(entries.c.seq)
        rows = conn.execute(query.limit(want + 1)).mappings().all()
        for row in rows[:want]:
            event = feed_event(row, today, calendar)
            if event is not None:
                page.events.append(event)
            since = row["seq"]
        page.next = encode_cursor(since)
        page.more = len(rows) > want
        if not page.more:
            break
    return page


def feed_event(row: Any, today: date, calendar: WorkCalendar) -> dict[str, Any] | None:
    """What the feed says of an entry row; None for one that never was public."""
    if not row["ever_public"]:
        return None
    if is_servable(row, today):
        kind = "corrected" if row["status"] == Status.CORRECTED.value else "published"
        return {"type": kind, "id": row["id"], "entry": doc_from_row(row).to_api()}
    removed_at = _removed_at(row, today)
    return {
        "type": "removed",
        "id": row["id"],
        "removedAt": removed_at.astimezone(CST).isoformat(timespec="seconds"),
        "mustDeleteBy": must_delete_by(removed_at, calendar).isoformat(timespec="seconds"),
    }


def must_delete_by(removed_at: datetime, calendar: WorkCalendar) -> datetime:
    """When a republisher must have deleted an entry removed at ``removed_at``."""
    return calendar.removal_deadline(removed_at, LEGAL_WORKING_DAYS).astimezone(CST)


def _removed_at(row: Any, today: date) -> datetime:
    valid_until = row["valid_until"]
    if row["status"] in (Status.PUBLISHED.value, Status.CORRECTED.value) and valid_until:
        # listed, but its period is over: removed from the start of the next day (expiry.py)
        return datetime.combine(valid_until + timedelta(days=1), time(0), CST)
    return row["status_changed_at"]


@dataclass(frozen=True, slots=True)
class Listing:
    """A public entry as ``/api/v1/entries`` shows it, and when it last changed here (its
    publication, or its latest correction)."""

    entry: dict[str, Any]
    updated: datetime


def listings(conn: Connection, ids: list[str], today: date) -> list[Listing]:
    """The entries of ``ids`` that are public now, in the order given, read from the store:
    an entry the index still serves after its removal is left out, not announced."""
    rows = conn.execute(select(entries).where(entries.c.id.in_(ids))).mappings().all()
    by_id = {row["id"]: row for row in rows if row["ever_public"] and is_servable(row, today)}
    return [
        Listing(doc_from_row(by_id[i]).to_api(), by_id[i]["last_effective_at"])
        for i in ids
        if i in by_id
    ]


def recent_removals(
    conn: Connection, limit: int, today: date, calendar: WorkCalendar
) -> list[dict[str, Any]]:
    """The ``limit`` entries removed last (by change sequence, newest first), each as the
    change feed's ``removed`` event: id, ``removedAt`` and ``mustDeleteBy``, nothing else."""
    query = (
        select(entries)
        .where(entries.c.ever_public.is_(True), not_(servable_clause(today)))
        .order_by(entries.c.seq.desc())
        .limit(limit)
    )
    events = (feed_event(row, today, calendar) for row in conn.execute(query).mappings())
    return [event for event in events if event is not None]
