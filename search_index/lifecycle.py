"""The lifecycle of one entry: folding its events, in effective order, into a state.

Events are facts with an effective time. Applying them in effective order (arrival order
breaks ties) makes the outcome independent of the order they reached us, so a stale
correction can never overwrite a newer state: when one arrives late the entry is replayed
from all of its events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from search_index.dates import CST
from search_index.events import CORRECT, EXPIRE, PUBLISH, REMOVAL_OPS, Event
from search_index.types import PUBLIC_STATUSES, Status

REMOVAL_STATUS = {
    "shield": Status.SHIELDED,
    "delete": Status.DELETED,
    "revoke": Status.REVOKED,
    EXPIRE: Status.EXPIRED,
}
EXPIRY_REASON = "失信名单有效期届满"
EXPIRY_SOURCE = "system:expiry"  # the source journaled with expiry events


@dataclass(slots=True, frozen=True)
class StoredEvent:
    """An event as journaled: ``id`` orders events that share an effective time."""

    id: int
    op: str
    entry_id: str
    effective_at: datetime
    received_at: datetime
    payload: dict[str, Any]

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.effective_at, self.id)


@dataclass(slots=True)
class EntryState:
    id: str
    status: Status
    data: dict[str, Any]
    last_effective_at: datetime
    status_changed_at: datetime
    removal_reason: str | None = None
    ever_public: bool = False
    # The event that last changed the status; not persisted, used to record removals.
    cause: StoredEvent | None = field(default=None, compare=False)

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES


def apply(state: EntryState | None, event: StoredEvent) -> EntryState:
    """The state after ``event``; ``state`` is left untouched."""
    if state is None:
        state = EntryState(
            id=event.entry_id,
            status=Status.UNPUBLISHED,
            data={},
            last_effective_at=event.effective_at,
            status_changed_at=event.effective_at,
        )
    else:
        state = replace(state, data=dict(state.data))
    state.last_effective_at = max(state.last_effective_at, event.effective_at)
    if event.op == PUBLISH:
        _publish(state, event)
    elif event.op == CORRECT:
        _correct(state, event)
    elif event.op in REMOVAL_OPS or event.op == EXPIRE:
        _remove(state, event)
    return state


def expiry_event(entry_id: str, valid_until: date, state_time: datetime) -> Event:
    """The expiry of an entry listed until ``valid_until``: effective at the start of the
    next day. ``state_time`` (the entry's latest change) makes the event unique per
    version of the entry, so an entry published again with the same period expires again."""
    effective = datetime.combine(valid_until + timedelta(days=1), time(0), CST)
    payload = {"validUntil": valid_until.isoformat(), "stateTime": state_time.isoformat()}
    return Event(EXPIRE, entry_id, effective, payload)


def replay(events: Iterable[StoredEvent]) -> EntryState | None:
    state: EntryState | None = None
    for event in sorted(events, key=lambda e: e.order):
        state = apply(state, event)
    return state


def _set_status(state: EntryState, status: Status, event: StoredEvent) -> None:
    if state.status != status:
        state.status = status
        state.status_changed_at = event.effective_at
        state.cause = event
    if status in PUBLIC_STATUSES:
        state.ever_public = True


def _publish(state: EntryState, event: StoredEvent) -> None:
    # A publish is the whole entry: a re-publication replaces what was there.
    state.data = dict(event.payload)
    state.removal_reason = None
    disclose = event.payload.get("disclose", True)
    _set_status(state, Status.PUBLISHED if disclose else Status.NEVER_PUBLIC, event)


def _correct(state: EntryState, event: StoredEvent) -> None:
    changed = dict(event.payload)
    fields = changed.pop("fields", None)
    state.data.update(changed)
    if fields:
        state.data["fields"] = {**state.data.get("fields", {}), **fields}
    if state.data.get("disclose", True) is False and state.status in PUBLIC_STATUSES:
        _set_status(state, Status.NEVER_PUBLIC, event)
    elif state.status == Status.PUBLISHED:
        _set_status(state, Status.CORRECTED, event)


def _remove(state: EntryState, event: StoredEvent) -> None:
    if event.op == EXPIRE and state.status not in PUBLIC_STATUSES:
        return  # only a listed entry can run out; a removed one stays as it is
    state.removal_reason = event.payload.get("reason") or (
        EXPIRY_REASON if event.op == EXPIRE else None
    )
    _set_status(state, REMOVAL_STATUS[event.op], event)
