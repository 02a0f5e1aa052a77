"""Keeping the index in step with the store, and proving removals.

The store is the durable outbox: every change to an entry gives it a new sequence number,
and ``sync_state.seq`` remembers how far the index has caught up. A sync round reads the
entries changed since then, upserts the public ones, deletes the rest, asks the index
which of the deleted are still served, records the confirmed removals, and only then
advances the mark. A crash anywhere repeats the round; every step is idempotent.

One process syncs at a time (a lease row), because two rounds overlapping could let an
older document overwrite a newer deletion.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, or_, select, update

from core.db import Store
from search_index import removals
from search_index.dates import today_cst
from search_index.entries import doc_from_row, is_servable
from search_index.tables import entries, sync_state
from search_index.types import IndexBackend

STATE = "index"
LEASE = timedelta(seconds=60)
BATCH = 5000
OPTIMIZE_AFTER = 50_000  # documents changed before the index is compacted
HOLDER = f"{socket.gethostname()}:{os.getpid()}"


@dataclass(slots=True)
class SyncResult:
    upserted: int = 0
    deleted: int = 0
    confirmed: int = 0
    still_served: list[str] = field(default_factory=list)
    skipped: bool = False  # another process holds the lease


class LeaseBusy(RuntimeError):
    pass


class Syncer:
    def __init__(self, store: Store, index: IndexBackend) -> None:
        self.store = store
        self.index = index
        self._lock = threading.Lock()  # one round at a time within this process
        self._changed = 0  # documents changed since the index was last compacted

    def sync(self, *, wait: bool = True, optimize: bool = True) -> SyncResult:
        """Bring the index up to the store's latest change. ``wait=False`` returns at once
        (skipped) when another round is running here or elsewhere. ``optimize=False``
        leaves compaction to a later round."""
        if not self._lock.acquire(blocking=wait):
            return SyncResult(skipped=True)
        try:
            with self.lease():
                return self._drain(optimize=optimize)
        except LeaseBusy:
            return SyncResult(skipped=True)
        finally:
            self._lock.release()

    def _optimize(self) -> None:
        """After a large round, let the index compact itself (the SQLite index merges its
        FTS5 segments: searches after a million-entry import get several times faster)."""
        optimize = getattr(self.index, "optimize", None)
        if optimize is not None:
            optimize()

    def start_over(self) -> None:
        """Forget how far the index has caught up: the next round sends every entry."""
        with self.store.write() as conn:
            _ensure_state(conn)
            conn.execute(update(sync_state).where(sync_state.c.name == STATE).values(seq=0))

    def rebuild(self) -> SyncResult:
        """Empty the index and fill it again from the store."""
        with self._lock, self.lease():
            self.index.clear()
            self.start_over()
            return self._drain(optimize=True)

    def lag(self) -> int:
        """How many changes the index has not seen yet (for metrics and health)."""
        with self.store.read() as conn:
            latest = conn.execute(select(func.max(entries.c.seq))).scalar() or 0
            return max(0, latest - _synced_seq(conn))

    def lease(self) -> _Lease:
        return _Lease(self.store)

    def _drain(self, *, optimize: bool) -> SyncResult:
        total = SyncResult()
        while True:
            with self.store.read() as conn:
                since = _synced_seq(conn)
                rows = (
                    conn.execute(
                        select(entries)
                        .where(entries.c.seq > since)
                        .order_by(entries.c.seq)
                        .limit(BATCH)
                    )
                    .mappings()
                    .all()
                )
            self.store.restart_wal_if_large()
            if not rows:
                if optimize and self._changed >= OPTIMIZE_AFTER:
                    self._optimize()
                    self._changed = 0
                return total
            self._push(rows, total)

    def _push(self, rows: Sequence, total: SyncResult) -> None:  # type: ignore[type-arg]
        today = today_cst()
        docs = [doc_from_row(r) for r in rows if is_servable(r, today)]
        gone = [r["id"] for r in rows if not is_servable(r, today)]
        if docs:
            self.index.upsert(docs)
        if gone:
            self.index.delete(gone)
        still = self.index.present(gone) if gone else set()
        confirmed = [entry_id for entry_id in gone if entry_id not in still]
        with self.store.write() as conn:
            total.confirmed += removals.confirm(conn, confirmed, datetime.now(UTC))
            if not still:  # never advance past a removal the index has not confirmed
                _set_synced_seq(conn, rows[-1]["seq"])
        total.upserted += len(docs)
        total.deleted += len(gone)
        self._changed += len(docs) + len(gone)
        if still:
            total.still_served.extend(sorted(still))
            raise RuntimeError(f"index still serves removed entries: {sorted(still)[:10]}")


class _Lease:
    """A time-limited claim on syncing, held in the ``sync_state`` row."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> _Lease:
        now = datetime.now(UTC)
        with self.store.write() as conn:
            _ensure_state(conn)
            claimed = conn.execute(
                update(sync_state)
                .where(
                    sync_state.c.name == STATE,
                    or_(
                        sync_state.c.lease_until.is_(None),
                        sync_state.c.lease_until < now,
                        sync_state.c.lease_holder == HOLDER,
                    ),
                )
                .values(lease_holder=HOLDER, lease_until=now + LEASE)
            ).rowcount
        if not claimed:
            raise LeaseBusy("another process is syncing")
        return self

    def __exit__(self, *exc: object) -> None:
        with self.store.write() as conn:
            conn.execute(
                update(sync_state)
                .where(sync_state.c.name == STATE, sync_state.c.lease_holder == HOLDER)
                .values(lease_holder=None, lease_until=None)
            )


def _ensure_state(conn: Connection) -> None:
    exists = conn.execute(select(sync_state.c.name).where(sync_state.c.name == STATE)).first()
    if exists is None:
        conn.execute(sync_state.insert().values(name=STATE, seq=0))


def _synced_seq(conn: Connection) -> int:
    value = conn.execute(select(sync_state.c.seq).where(sync_state.c.name == STATE)).scalar()
    return value or 0


def _set_synced_seq(conn: Connection, seq: int) -> None:
    _ensure_state(conn)
    conn.execute(
        update(sync_state)
        .where(sync_state.c.name == STATE, sync_state.c.seq < seq)
        .values(seq=seq, updated_at=datetime.now(UTC))
    )
