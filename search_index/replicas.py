"""Index replicas: several portal hosts on one store, each with an embedded index of its own.

Each replica follows the store with a cursor and a lease of its own (the ``sync_state`` row
``index`` for the default replica ``main``, ``index:<name>`` for the others), so each host
syncs its own index, and reports a heartbeat in ``index_replicas`` with every round.

A replica is *live* while it reports within the timeout and has caught up since it joined
or came back from a silence: one that was silent longer starts again from its own cursor
and counts once it has drained it. A removal is confirmed once every live replica has
confirmed it gone from its index, at the time of the last of those confirmations, but never
earlier than a silent replica that had not confirmed it dropped out: until then it counted,
and may have served the entry. With one replica alone its confirmation is the proof, at
once and as it always was, and nothing is recorded per replica.

A replica that is not live answers ``/healthz`` with 503, so the proxy sends it no searches
while it may serve entries the others no longer do; that is what makes leaving it out of
the confirmations safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from core.db import one_of
from search_index import removals as removal_records
from search_index.dates import CST
from search_index.tables import entries, index_replicas, removal_confirmations, removals, sync_state

DEFAULT = "main"  # the one index of a single host, or the shared Meilisearch index
LIVE, CATCHING_UP, SILENT = "live", "catching_up", "silent"
TIMEOUT = 30.0  # seconds a replica may stay silent and still count as live (the setting's default)


def state_name(replica: str) -> str:
    """The ``sync_state`` row holding the replica's cursor and sync lease."""
    return "index" if replica == DEFAULT else f"index:{replica}"


def rebuild_name(replica: str) -> str:
    """The ``sync_state`` row of the replica's rebuild lease: each host rebuilds its own."""
    return "rebuild" if replica == DEFAULT else f"rebuild:{replica}"


@dataclass(slots=True, frozen=True)
class ReplicaStatus:
    name: str
    seq: int  # the last change its index applied
    lag: int  # changes its index has not applied yet
    seen_at: datetime
    state: str  # LIVE, CATCHING_UP or SILENT
    silent_seconds: float

    @property
    def live(self) -> bool:
        return self.state == LIVE

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "lag": self.lag,
            "seenAt": self.seen_at.astimezone(CST).isoformat(timespec="seconds"),
        }

    def warning(self) -> str | None:
        if self.state == SILENT:
            return (
                f"索引副本 {self.name} 已 {self.silent_seconds:.0f} 秒未报告，不再计入在线副本："
                "移除不再等它确认；它恢复后先从自己的进度追上，再重新计入"
            )
        if self.state == CATCHING_UP:
            return (
                f"索引副本 {self.name} 正在追赶（尚差 {self.lag} 项变更），"
                "追上之前不计入在线副本，也不应接收搜索"
            )
        return None


# --- Heartbeats -------------------------------------------------------------------------------


def beat(conn: Connection, replica: str, now: datetime, timeout: float) -> None:
    """The replica reports. One silent for longer than ``timeout`` must catch up again
    before it counts as live: its index may be far behind the removals confirmed meanwhile."""
    seen = conn.execute(
        select(index_replicas.c.seen_at).where(index_replicas.c.name == replica)
    ).first()
    if seen is None:
        conn.execute(insert(index_replicas).values(name=replica, seen_at=now, live_since=None))
        return
    values: dict[str, Any] = {"seen_at": now}
    if seen.seen_at < now - timedelta(seconds=timeout):
        values["live_since"] = None
    conn.execute(update(index_replicas).where(index_replicas.c.name == replica).values(**values))


def caught_up(conn: Connection, replica: str, now: datetime) -> None:
    """The replica's index has applied every change there was: it counts as live."""
    conn.execute(
        update(index_replicas)
        .where(index_replicas.c.name == replica, index_replicas.c.live_since.is_(None))
        .values(live_since=now)
    )


def catching_up(conn: Connection, replica: str) -> None:
    """The replica's index starts again from nothing (a new or lost file): not live until
    it has been refilled."""
    conn.execute(
        update(index_replicas).where(index_replicas.c.name == replica).values(live_since=None)
    )


def shared(conn: Connection, replica: str) -> bool:
    """Whether any replica besides ``replica`` has ever reported."""
    other = select(index_replicas.c.name).where(index_replicas.c.name != replica).limit(1)
    return conn.execute(other).first() is not None


def statuses(conn: Connection, now: datetime, timeout: float) -> list[ReplicaStatus]:
    """Every replica that ever reported, by name."""
    head = conn.execute(select(func.max(entries.c.seq))).scalar() or 0
    cursors = {
        row.name: row.seq for row in conn.execute(select(sync_state.c.name, sync_state.c.seq))
    }
    out = []
    for row in conn.execute(select(index_replicas).order_by(index_replicas.c.name)):
        seq = cursors.get(state_name(row.name)) or 0
        silent = (now - row.seen_at).total_seconds()
        state = _state(silent > timeout, row.live_since is not None)
        out.append(ReplicaStatus(row.name, seq, max(0, head - seq), row.seen_at, state, silent))
    return out


def _state(silent: bool, caught_up: bool) -> str:
    if silent:
        return SILENT
    return LIVE if caught_up else CATCHING_UP


class ReplicaNotSilent(ValueError):
    """Only a replica that has stopped reporting may be forgotten."""


def forget(conn: Connection, replica: str, now: datetime, timeout: float) -> int:
    """Forget a silent replica (its host is gone for good): no more warnings, and its
    cursor and leases go. Returns how many removals that waited for it are now closed."""
    known = {r.name: r for r in statuses(conn, now, timeout)}
    if replica not in known or known[replica].state != SILENT:
        state = known[replica].state if replica in known else "unknown"
        raise ReplicaNotSilent(f"{replica}: {state}")
    # First close what waited for it, while its silence still sets the earliest time.
    closed = settle(conn, now, timeout)
    conn.execute(index_replicas.delete().where(index_replicas.c.name == replica))
    names = (state_name(replica), rebuild_name(replica))
    conn.execute(sync_state.delete().where(sync_state.c.name.in_(names)))
    return closed


# --- Confirming removals ----------------------------------------------------------------------


def confirm(
    conn: Connection, replica: str, entry_ids: Sequence[str], now: datetime, timeout: float
) -> int:
    """Record that ``replica``'s index no longer serves these entries; returns how many
    removals that confirmed for good."""
    if not entry_ids:
        return 0
    if not shared(conn, replica):
        return removal_records.confirm(conn, entry_ids, now)
    open_ids = _open_removals(conn, entry_ids)
    done = set(
        conn.execute(
            select(removal_confirmations.c.removal_id).where(
                removal_confirmations.c.replica == replica,
                one_of(conn, removal_confirmations.c.removal_id, open_ids),
            )
        ).scalars()
    )
    fresh = [{"removal_id": i, "replica": replica, "confirmed_at": now} for i in open_ids]
    fresh = [row for row in fresh if row["removal_id"] not in done]
    if fresh:
        conn.execute(insert(removal_confirmations), fresh)
    return settle(conn, now, timeout, open_ids)


def settle(
    conn: Connection, now: datetime, timeout: float, removal_ids: Sequence[int] | None = None
) -> int:
    """Close the open removals (of ``removal_ids``, default all) that every live replica
    has confirmed; returns how many."""
    reps = statuses(conn, now, timeout)
    live = {r.name for r in reps if r.live}
    if not live:  # nobody to vouch for anything
        return 0
    by_removal: dict[int, dict[str, datetime]] = {}
    for row in _confirmations_of_open(conn, removal_ids):
        by_removal.setdefault(row.removal_id, {})[row.replica] = row.confirmed_at
    closed = 0
    for removal_id, confirmed in sorted(by_removal.items()):  # one order: no deadlocks
        if not live <= confirmed.keys():
            continue
        at = max(confirmed[name] for name in live)
        # A silent replica counted until it dropped out, and may have served the entry
        # until then: the proof cannot be earlier than that.
        for r in reps:
            if r.state == SILENT and r.name not in confirmed:
                at = max(at, min(now, r.seen_at + timedelta(seconds=timeout)))
        closed += (
            conn.execute(
                update(removals)
                .where(removals.c.id == removal_id, removals.c.removed_at.is_(None))
                .values(removed_at=at)
            ).rowcount
            or 0
        )
    return closed


def _confirmations_of_open(conn: Connection, removal_ids: Sequence[int] | None) -> list[Any]:
    """The confirmations of removals still open (few: they close within a round or two)."""
    query = (
        select(removal_confirmations)
        .join(removals, removals.c.id == removal_confirmations.c.removal_id)
        .where(removals.c.removed_at.is_(None), removals.c.superseded_at.is_(None))
    )
    if removal_ids is None:
        return list(conn.execute(query))
    return list(conn.execute(query.where(one_of(conn, removals.c.id, removal_ids))))


def _open_removals(conn: Connection, entry_ids: Sequence[str]) -> list[int]:
    return list(
        conn.execute(
            select(removals.c.id).where(
                one_of(conn, removals.c.entry_id, entry_ids),
                removals.c.removed_at.is_(None),
                removals.c.superseded_at.is_(None),
            )
        ).scalars()
    )
