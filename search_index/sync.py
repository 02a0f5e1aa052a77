"""Keeping the index in step with the store, and proving removals.

The store is the durable outbox: every change to an entry gives it a new sequence number,
and ``sync_state.seq`` remembers how far the index has caught up. A sync round reads the
entries changed since then, upserts the public ones, deletes the rest, asks the index
which of the deleted are still served, records the confirmed removals, and only then
advances the mark. A crash anywhere repeats the round; every step is idempotent.

One process syncs at a time (a lease, ``search_index.lease``), because two rounds
overlapping could let an older document overwrite a newer deletion. The lease is short and
renewed while a round runs, and a process that died holding it is taken over at once, so a
crash never holds removals back. A round that loses its lease stops before its next write.

A rebuild fills a new index beside the live one and swaps it in (``rebuild``): searches see
the old index or the new one, never a partial one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select, update

from core.db import Store
from core.progress import NO_PROGRESS, Progress
from search_index import removals
from search_index.dates import today_cst
from search_index.entries import doc_from_row, is_servable
from search_index.lease import POLL, Lease, LeaseBusy, ensure_row
from search_index.tables import entries, sync_state
from search_index.types import IndexBackend

STATE = "index"  # the sync_state row of the index: how far it has caught up, and its lease
REBUILD_STATE = "rebuild"  # the lease of a rebuild, so that two never build at once
BATCH = 5000
OPTIMIZE_AFTER = 50_000  # documents changed before the index is compacted
# Seconds a round that must happen (an ingest's, the command line's) waits for another
# process's round to end: longer than a lease whose holder died on another host lasts.
SYNC_WAIT = 20.0
# Seconds a filled rebuild keeps trying for the sync lease (catching up meanwhile) before
# it gives up, discarding its work.
REBUILD_WAIT = 600.0

__all__ = ["BATCH", "SYNC_WAIT", "LeaseBusy", "SyncResult", "Syncer"]

_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def _process_lock(store: Store, name: str) -> threading.Lock:
    """One round (or rebuild) at a time within this process, across every Syncer on the
    store: they share the process's lease holder name."""
    with _locks_guard:
        return _locks.setdefault((store.url, name), threading.Lock())


@dataclass(slots=True)
class SyncResult:
    upserted: int = 0
    deleted: int = 0
    confirmed: int = 0
    still_served: list[str] = field(default_factory=list)
    skipped: bool = False  # another process holds the lease


class Syncer:
    def __init__(self, store: Store, index: IndexBackend) -> None:
        self.store = store
        self.index = index
        self._lock = _process_lock(store, STATE)
        self._changed = 0  # documents changed since the index was last compacted

    def sync(self, *, wait: bool = True, optimize: bool = True) -> SyncResult:
        """Bring the index up to the store's latest change. ``wait``: if another round is
        running, here or elsewhere, wait up to SYNC_WAIT for it to end; without, or when it
        does not end in time, return at once (skipped). ``optimize=False`` leaves
        compaction to a later round."""
        try:
            with self.exclusive(wait=SYNC_WAIT if wait else 0.0) as lease:
                return self._drain(lease, optimize=optimize)
        except LeaseBusy:
            return SyncResult(skipped=True)

    def sync_through(self, seq: int, timeout: float | None = None) -> bool:
        """Until the index has applied every change up to ``seq``: by a round of our own or
        by another process's. False when neither happened within ``timeout`` seconds
        (default SYNC_WAIT)."""
        deadline = time.monotonic() + (SYNC_WAIT if timeout is None else timeout)
        while self.synced_seq() < seq:
            if not self.sync(wait=False).skipped:
                return self.synced_seq() >= seq
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL)
        return True

    @contextmanager
    def exclusive(self, *, wait: float = 0.0) -> Iterator[Lease]:
        """This process's round lock and the sync lease, waiting up to ``wait`` seconds for
        both; LeaseBusy when they are not free by then."""
        deadline = time.monotonic() + wait
        if not (self._lock.acquire(timeout=wait) if wait > 0 else self._lock.acquire(False)):
            raise LeaseBusy("another round is running in this process")
        try:
            with self.lease(wait=max(0.0, deadline - time.monotonic())) as lease:
                yield lease
        finally:
            self._lock.release()

    def _optimize(self, index: IndexBackend) -> None:
        """After a large round, let the index compact itself (the SQLite index merges its
        FTS5 segments: searches after a million-entry import get several times faster)."""
        optimize = getattr(index, "optimize", None)
        if optimize is not None:
            optimize()

    def start_over(self) -> None:
        """Forget how far the index has caught up: the next round sends every entry."""
        with self.store.write() as conn:
            _ensure_state(conn)
            conn.execute(update(sync_state).where(sync_state.c.name == STATE).values(seq=0))

    def lag(self) -> int:
        """How many changes the index has not seen yet (for metrics and health)."""
        with self.store.read() as conn:
            latest = conn.execute(select(func.max(entries.c.seq))).scalar() or 0
            return max(0, latest - _synced_seq(conn))

    def head(self) -> int:
        """The store's latest change."""
        with self.store.read() as conn:
            return conn.execute(select(func.max(entries.c.seq))).scalar() or 0

    def synced_seq(self) -> int:
        with self.store.read() as conn:
            return _synced_seq(conn)

    def lease(self, *, wait: float = 0.0) -> Lease:
        return Lease(self.store, STATE, wait=wait)

    def _drain(self, lease: Lease, *, optimize: bool) -> SyncResult:
        total = SyncResult()
        while True:
            with self.store.read() as conn:
                since = _synced_seq(conn)
                rows = _changes(conn, since)
            self.store.restart_wal_if_large()
            if not rows:
                if optimize and self._changed >= OPTIMIZE_AFTER:
                    lease.check()
                    self._optimize(self.index)
                    self._changed = 0
                return total
            self._push(rows, total, lease)

    def _push(self, rows: Sequence, total: SyncResult, lease: Lease) -> None:  # type: ignore[type-arg]
        today = today_cst()
        docs = [doc_from_row(r) for r in rows if is_servable(r, today)]
        gone = [r["id"] for r in rows if not is_servable(r, today)]
        lease.check()
        if docs:
            self.index.upsert(docs)
        if gone:
            self.index.delete(gone)
        still = self.index.present(gone) if gone else set()
        confirmed = [entry_id for entry_id in gone if entry_id not in still]
        with self.store.write() as conn:
            lease.fence(conn)
            total.confirmed += removals.confirm(conn, confirmed, datetime.now(UTC))
            if not still:  # never advance past a removal the index has not confirmed
                _set_synced_seq(conn, rows[-1]["seq"])
        total.upserted += len(docs)
        total.deleted += len(gone)
        self._changed += len(docs) + len(gone)
        if still:
            total.still_served.extend(sorted(still))
            raise RuntimeError(f"index still serves removed entries: {sorted(still)[:10]}")

    # --- Rebuilding -----------------------------------------------------------------------

    def rebuild(self, progress: Progress = NO_PROGRESS) -> SyncResult:
        """Fill a new index beside the live one from the store, then swap it in.

        Searches see the old index or the new one, never a partial one, and ordinary rounds
        go on updating the old one meanwhile (removals keep reaching the public index within
        a round). The new index follows the store's change sequence like a round does, so
        an entry that changes during the fill is read again at its new number. Only the
        last catch-up, the swap and the removals confirmed on the new index hold the sync
        lease; after the swap the ordinary rounds go on from where the fill ended. LeaseBusy
        when another rebuild is running. ``progress`` counts the entries read, out of every
        entry in the store (the catch-ups may read a few again)."""
        with (
            _process_lock(self.store, REBUILD_STATE),
            Lease(self.store, REBUILD_STATE) as rebuilding,
        ):
            built = self.index.begin_rebuild()
            swapped = False
            try:
                fresh_through = self.head()  # rows up to here are read for the first time
                progress.total = self._entry_count()
                gone: dict[str, int] = {}
                done = self._fill(built, 0, fresh_through, gone, (rebuilding,), progress)
                self._optimize(built)
                deadline = time.monotonic() + REBUILD_WAIT
                while True:
                    try:
                        with self.exclusive(wait=SYNC_WAIT) as lease:
                            leases = (rebuilding, lease)
                            done = self._fill(built, done, fresh_through, gone, leases)
                            synced = self.synced_seq()
                            lease.check()
                            self.index.swap_in(built)
                            swapped = True
                            return self._after_swap(done, synced, gone, lease)
                    except LeaseBusy:  # a long round elsewhere (a reconciliation): keep up
                        if swapped or time.monotonic() > deadline:
                            raise
                        done = self._fill(built, done, fresh_through, gone, (rebuilding,))
            except BaseException:
                if not swapped:
                    self.index.abandon_rebuild(built)
                raise

    def _entry_count(self) -> int:
        with self.store.read() as conn:
            return conn.execute(select(func.count()).select_from(entries)).scalar() or 0

    def _fill(
        self,
        target: IndexBackend,
        since: int,
        fresh_through: int,
        gone: dict[str, int],
        leases: Sequence[Lease],
        progress: Progress = NO_PROGRESS,
    ) -> int:
        """Apply the store's changes after ``since`` to ``target`` until none are left;
        returns the last one applied. ``gone`` collects the entries last seen not public
        (id -> change). A row up to ``fresh_through`` is an entry's first in this fill (a
        later change gives it a higher number), so only later ones may need deleting."""
        while True:
            with self.store.read() as conn:
                rows = _changes(conn, since)
            self.store.restart_wal_if_large()
            if not rows:
                return since
            today = today_cst()
            docs, dead = [], []
            for row in rows:
                if is_servable(row, today):
                    docs.append(doc_from_row(row))
                    gone.pop(row["id"], None)
                else:
                    gone[row["id"]] = row["seq"]
                    if row["seq"] > fresh_through:
                        dead.append(row["id"])
            for lease in leases:
                lease.check()
            if docs:
                target.upsert(docs)
            if dead:
                target.delete(dead)
            since = rows[-1]["seq"]
            progress.advance(len(rows))

    def _after_swap(self, done: int, synced: int, gone: dict[str, int], lease: Lease) -> SyncResult:
        """Confirm on the new index the removals the ordinary rounds had not reached
        (those after ``synced``), and let the rounds go on from ``done``."""
        self._changed = 0
        pending = [entry_id for entry_id, seq in gone.items() if seq > synced]
        still = self.index.present(pending) if pending else set()
        result = SyncResult(upserted=self.index.count(), deleted=len(pending))
        with self.store.write() as conn:
            lease.fence(conn)
            confirmed = [entry_id for entry_id in pending if entry_id not in still]
            result.confirmed = removals.confirm(conn, confirmed, datetime.now(UTC))
            if not still:
                _set_synced_seq(conn, done)
        if still:  # the rounds start again from ``synced`` and meet them there
            result.still_served = sorted(still)
            raise RuntimeError(f"rebuilt index serves removed entries: {result.still_served[:10]}")
        return result


def _changes(conn: Connection, since: int) -> Sequence:  # type: ignore[type-arg]
    query = select(entries).where(entries.c.seq > since).order_by(entries.c.seq).limit(BATCH)
    return conn.execute(query).mappings().all()


def _ensure_state(conn: Connection) -> None:
    ensure_row(conn, STATE)


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
