"""The bulk path for an entry's first publication: rows prepared where the line is parsed.

Most of a large batch publishes entries the store has never seen. For those the outcome
of the lifecycle is known without the store: the entry becomes published (or never
public), and, when its listing period is already over, expired at once. The parsing
process (see ``search_index.parallel``) runs the ordinary lifecycle code on such a line and
sends back the finished journal and entry rows; the writer then only checks that the
entry is really new and writes them. Anything else (an entry already stored, two events
for one entry in a chunk, an event seen before) goes the general way, so both paths give
the same rows: a test imports the same file both ways and compares the stores.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, select

from core.bulk import insert_tuples, wire_time, wire_values
from core.db import allocate_seq, one_of
from search_index.entries import row_from_state
from search_index.events import EXPIRE, PUBLISH, Event
from search_index.journal import JournalLine, known_keys, next_event_id
from search_index.lifecycle import EXPIRY_SOURCE, StoredEvent, apply, expiry_event
from search_index.tables import entries, events

EVENT_COLUMNS = (
    "id",
    "event_key",
    "entry_id",
    "op",
    "effective_at",
    "received_at",
    "source",
    "batch_id",
    "line_no",
    "payload",
    "applied_at",
)
# Every entry column but ``seq``, which the writer assigns.
ENTRY_COLUMNS = tuple(c.name for c in entries.columns if c.name != "seq")


@dataclass(slots=True)
class FirstPublication:
    """A publish line with its rows prepared as if its entry were new."""

    line_no: int
    entry_id: str
    key: str
    effective_at: str  # wire form (UTC text), as journaled
    payload: str  # JSON text, as journaled
    entry: list[Any]  # ENTRY_COLUMNS values
    listed_until: str | None  # valid_until while still public (the writer re-checks the date)
    expiry: list[str] | None  # [key, effective_at, payload] of its immediate expiry

    def to_wire(self) -> list[Any]:
        return [
            self.line_no,
            self.entry_id,
            self.key,
            self.effective_at,
            self.payload,
            self.entry,
            self.listed_until,
            self.expiry,
        ]

    @classmethod
    def from_wire(cls, values: list[Any]) -> FirstPublication:
        return cls(*values)

    def journal_line(self) -> JournalLine:
        """The same line for the general path."""
        effective = datetime.fromisoformat(self.effective_at).replace(tzinfo=UTC)
        event = Event(PUBLISH, self.entry_id, effective, orjson.loads(self.payload), self.key)
        return JournalLine(event, self.line_no)


def prepare(
    event: Event, line_no: int, received_at: datetime, today: date
) -> FirstPublication | None:
    """Rows for ``event`` (a publish) applied to an entry that does not exist yet."""
    if event.op != PUBLISH:
        return None
    stored = StoredEvent(0, PUBLISH, event.entry_id, event.effective_at, received_at, event.payload)
    state = apply(None, stored)
    expiry: list[str] | None = None
    valid_until = state.data.get("valid_until")
    if state.is_public and valid_until and valid_until < today.isoformat():
        ending = expiry_event(state.id, date.fromisoformat(valid_until), state.last_effective_at)
        state = apply(
            state,
            StoredEvent(0, EXPIRE, state.id, ending.effective_at, received_at, ending.payload),
        )
        expiry = [ending.key, wire_time(ending.effective_at), orjson.dumps(ending.payload).decode()]
    return FirstPublication(
        line_no=line_no,
        entry_id=event.entry_id,
        key=event.key,
        effective_at=wire_time(event.effective_at),
        payload=orjson.dumps(event.payload).decode(),
        entry=wire_values(entries, ENTRY_COLUMNS, row_from_state(state, 0)),
        listed_until=valid_until if state.is_public else None,
        expiry=expiry,
    )


def record(
    conn: Connection,
    items: Sequence[FirstPublication],
    others: Sequence[JournalLine],
    *,
    source: str,
    batch_id: str | None,
    received_at: datetime,
    today: date,
) -> tuple[int, list[JournalLine]]:
    """Journal and apply the items that really are first publications, inside the
    caller's write transaction. Returns how many were written and, as journal lines, the
    items the general path must take (``others`` are the chunk's other lines)."""
    if not items:
        return 0, []
    in_chunk = Counter(item.entry_id for item in items)
    in_chunk.update(line.event.entry_id for line in others)
    stored = _existing(conn, [item.entry_id for item in items])
    known = known_keys(
        conn, [item.key for item in items] + [item.expiry[0] for item in items if item.expiry]
    )
    today_iso = today.isoformat()
    fast: list[FirstPublication] = []
    rest: list[JournalLine] = []
    for item in items:
        new = (
            in_chunk[item.entry_id] == 1
            and item.entry_id not in stored
            and item.key not in known
            and not (item.expiry and item.expiry[0] in known)
            # Midnight may have passed since the line was parsed.
            and not (item.listed_until and item.listed_until < today_iso)
        )
        if new:
            fast.append(item)
        else:
            rest.append(item.journal_line())
    if fast:
        _write(conn, fast, source=source, batch_id=batch_id, received_at=received_at)
    return len(fast), rest


def _write(
    conn: Connection,
    items: list[FirstPublication],
    *,
    source: str,
    batch_id: str | None,
    received_at: datetime,
) -> None:
    # Ids and sequence numbers are handed out here, under the writer lock, as in
    # ``journal.journal`` and ``apply._save``.
    next_id = next_event_id(conn)
    first_seq = allocate_seq(conn, len(items))
    received = wire_time(received_at)
    journal_rows: list[tuple[Any, ...]] = []
    entry_rows: list[tuple[Any, ...]] = []
    for offset, item in enumerate(items):
        journal_rows.append(
            (
                next_id,
                item.key,
                item.entry_id,
                PUBLISH,
                item.effective_at,
                received,
                source,
                batch_id,
                item.line_no,
                item.payload,
                received,
            )
        )
        next_id += 1
        entry_rows.append((*item.entry, first_seq + offset))
    for item in items:
        if item.expiry:
            key, effective, payload = item.expiry
            journal_rows.append(
                (
                    next_id,
                    key,
                    item.entry_id,
                    EXPIRE,
                    effective,
                    received,
                    EXPIRY_SOURCE,
                    None,
                    None,
                    payload,
                    received,
                )
            )
            next_id += 1
    insert_tuples(conn, events, EVENT_COLUMNS, journal_rows)
    insert_tuples(conn, entries, (*ENTRY_COLUMNS, "seq"), entry_rows)


def _existing(conn: Connection, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    return set(conn.execute(select(entries.c.id).where(one_of(conn, entries.c.id, ids))).scalars())
