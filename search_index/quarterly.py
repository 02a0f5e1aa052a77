"""The quarterly numbers: per quarter, court and region, the new listings, the removals by
ground and how timely they were, and the corrections.

Everything comes from the journal, replayed entry by entry through the lifecycle
(``lifecycle.apply``), so that each event is judged by the state it met: a listing is a
publish that made the entry public (a re-publication of a listed entry is not a new
listing; an entry never fit for publication is never counted), a removal is an event that
took a public entry off the list (its ground is the state it left it in), a correction is
one that changed a public entry. Court and region are the entry's at that moment.

A removal is counted in the quarter it took effect. One that reached us already past its
deadline (effective time + 3 working days) is the sender's lateness, as in ``compliance``;
every other one is ours, on time when the index was confirmed not to serve the entry by the
deadline (the removal records, ``removals``). The numbers are counted only once every
deadline of the quarter has passed (``quarters.Quarter.publish_at``), so a removal the index
had not dropped by then is late.

Only aggregates leave this module: courts and regions, never an entry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from core.workdays import WorkCalendar
from search_index.events import CORRECT, PUBLISH
from search_index.lifecycle import EntryState, StoredEvent, apply
from search_index.quarters import Quarter
from search_index.removals import LEGAL_WORKING_DAYS
from search_index.tables import events, removals
from search_index.types import Status

UNNAMED = "未注明"  # a court or region the entry does not name
GROUNDS = {
    Status.SHIELDED.value: "shielded",
    Status.REVOKED.value: "revoked",
    Status.DELETED.value: "deleted",
    Status.EXPIRED.value: "expired",
}
FETCH_ROWS = 2000  # journal rows fetched at a time: the replay holds one entry's events


@dataclass(slots=True)
class Counts:
    listed: int = 0
    shielded: int = 0
    revoked: int = 0
    deleted: int = 0
    expired: int = 0
    ours_on_time: int = 0
    ours_late: int = 0
    senders_late: int = 0
    corrected: int = 0

    @property
    def removed(self) -> int:
        return self.shielded + self.revoked + self.deleted + self.expired

    def add(self, other: Counts) -> None:
        for name in COUNT_KEYS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


COUNT_KEYS = tuple(f.name for f in fields(Counts))


@dataclass(slots=True, frozen=True)
class Place:
    court: str
    region: str


Table = dict[Place, Counts]


def compute(
    conn: Connection, quarters: Iterable[Quarter], now: datetime, calendar: WorkCalendar
) -> dict[Quarter, Table]:
    """The numbers of each of ``quarters`` as the store holds them at ``now``."""
    wanted = sorted(set(quarters))
    if not wanted:
        return {}
    out: dict[Quarter, Table] = {q: defaultdict(Counts) for q in wanted}
    start, end = wanted[0].start, wanted[-1].end
    dropped = _index_drops(conn, start, end)
    judge = _Judge(dropped, calendar, now)
    for event, state, key in _changes(_applied_events(conn, end)):
        quarter = Quarter.of(event.effective_at)
        if quarter not in out:
            continue
        table = out[quarter]
        place = _place(state.data.get("court_name"), state.data.get("area_name"))
        _bump(table[place], key)
        if key in GROUNDS.values():
            _bump(table[place], judge(event))
    return {q: dict(table) for q, table in out.items()}


def _bump(counts: Counts, key: str) -> None:
    setattr(counts, key, getattr(counts, key) + 1)


def _applied_events(conn: Connection, end: datetime) -> Iterator[StoredEvent]:
    """Every applied event effective before ``end``, entry by entry, in effective order."""
    query = (
        select(events)
        .where(events.c.applied_at.is_not(None), events.c.effective_at < end)
        .order_by(events.c.entry_id, events.c.effective_at, events.c.id)
        .execution_options(yield_per=FETCH_ROWS)
    )
    for row in conn.execute(query).mappings():
        yield StoredEvent(
            row["id"],
            row["op"],
            row["entry_id"],
            row["effective_at"],
            row["received_at"],
            row["payload"],
        )


def _changes(stream: Iterable[StoredEvent]) -> Iterator[tuple[StoredEvent, EntryState, str]]:
    """(event, state after it, what it was) for each listing, removal and correction."""
    state: EntryState | None = None
    for event in stream:
        if state is not None and state.id != event.entry_id:
            state = None  # the next entry
        before = state
        state = apply(state, event)
        key = _change_key(before, state, event)
        if key is not None:
            yield event, state, key


def _change_key(before: EntryState | None, after: EntryState, event: StoredEvent) -> str | None:
    was_public = before is not None and before.is_public
    if event.op == PUBLISH and after.is_public and not was_public:
        return "listed"
    if event.op == CORRECT and was_public and after.is_public:
        return "corrected"
    if was_public and after.status.value in GROUNDS:
        return GROUNDS[after.status.value]
    return None


def _index_drops(conn: Connection, start: datetime, end: datetime) -> dict[int, datetime | None]:
    """The removal records of removals effective in [start, end), by causing event: when the
    index was confirmed not to serve the entry (None: not yet). A removal made moot (the
    entry public again before the index dropped it) has nothing to prove and is left out."""
    query = select(removals.c.event_id, removals.c.removed_at).where(
        removals.c.superseded_at.is_(None),
        removals.c.effective_at >= start,
        removals.c.effective_at < end,
    )
    return {event_id: removed_at for event_id, removed_at in conn.execute(query).all()}


@dataclass(slots=True)
class _Judge:
    """Whose and how timely a removal was, from its event and the index's record of it."""

    dropped: dict[int, datetime | None]
    calendar: WorkCalendar
    now: datetime

    def __call__(self, event: StoredEvent) -> str:
        deadline = self.calendar.removal_deadline(event.effective_at, LEGAL_WORKING_DAYS)
        if event.id not in self.dropped:
            # The index never served the entry (listed and removed in one batch) or had
            # nothing left to drop: ours cannot have been late.
            removed_at: datetime | None = event.received_at
        else:
            removed_at = self.dropped[event.id]
        return timeliness(event.received_at, deadline, removed_at, self.now)


def timeliness(
    received_at: datetime, deadline: datetime, removed_at: datetime | None, now: datetime
) -> str:
    """Whose removal it was and whether it made the deadline: ``senders_late`` when it
    reached us after the deadline, else ``ours_on_time`` or ``ours_late``. One not confirmed
    by ``now`` is late once ``now`` is past the deadline; before that it is not settled, and
    a quarter is only counted once all of its deadlines have passed."""
    if received_at > deadline:
        return "senders_late"
    if removed_at is not None:
        return "ours_on_time" if removed_at <= deadline else "ours_late"
    if now <= deadline:
        raise ValueError(
            f"a removal due {deadline.isoformat()} is not settled at {now.isoformat()}"
        )
    return "ours_late"


def _place(court: Any, region: Any) -> Place:
    return Place(_name(court), _name(region))


def _name(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    return text or UNNAMED
