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

Several hosts on one store each sync an embedded index of their own, a replica
(``search_index.replicas``): the cursor and the lease are the replica's, and every round
reports its heartbeat; a removal is confirmed once every live replica has confirmed it.
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
from search_index import replicas
from search_index.dates import today_cst
from search_index.entries import doc_from_row, is_servable
from search_index.lease import POLL, Lease, LeaseBusy, ensure_row
from search_index.replicas import DEFAULT, ReplicaStatus
from search_index.tables import entries, index_replicas, sync_state
from search_index.types import IndexBackend

# The sync_state rows of the default replica: how far its index has caught up and its sync
# lease, and the lease of a rebuild, so that two never build at once (replicas.state_name).
STATE = replicas.state_name(DEFAULT)
REBUILD_STATE = replicas.rebuild_name(DEFAULT)
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
    def __init__(
        self,
        store: Store,
        index: IndexBackend,
        *,
        replica: str = DEFAULT,
        replica_timeout: float = replicas.TIMEOUT,
    ) -> None:
        self.store = store
        self.index = index
        self.replica = replica
        self.replica_timeout = replica_timeout
        self.state = replicas.state_name(replica)
        self.rebuild_state = replicas.rebuild_name(replica)
        self._lock = _process_lock(store, self.state)
        self._changed = 0  # documents changed since the index was last compacted
        # A heartbeat this often is plenty to stay live; a round with nothing to do writes
        # nothing in between (unless it has removals to settle).
        self._beat_every = min(5.0, replica_timeout / 4)

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

    def replicas_through(self, seq: int, timeout: float | None = None) -> bool:
        """Until every other live replica has applied every change up to ``seq`` (each host
        syncs its own, within a second); False when one has not within ``timeout``."""
        deadline = time.monotonic() + (SYNC_WAIT if timeout is None else timeout)
        while True:
            behind = [r for r in self.replicas() if r.live and r.seq < seq]
            if not [r for r in behind if r.name != self.replica]:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL)

    def replicas(self) -> list[ReplicaStatus]:
        """Every replica that ever reported: its lag, and whether it is live."""
        with self.store.read() as conn:
            return replicas.statuses(conn, datetime.now(UTC), self.replica_timeout)

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
        """Forget how far the index has caught up: the next round sends every entry, and
        the replica counts as live again once it has."""
        with self.store.write() as conn:
            ensure_row(conn, self.state)
            conn.execute(update(sync_state).where(sync_state.c.name == self.state).values(seq=0))
            replicas.catching_up(conn, self.replica)

    def lag(self) -> int:
        """How many changes the index has not seen yet (for metrics and health)."""
        with self.store.read() as conn:
            latest = conn.execute(select(func.max(entries.c.seq))).scalar() or 0
            return max(0, latest - _synced_seq(conn, self.state))

    def head(self) -> int:
        """The store's latest change."""
        with self.store.read() as conn:
            return conn.execute(select(func.max(entries.c.seq))).scalar() or 0

    def synced_seq(self) -> int:
        with self.store.read() as conn:
            return _synced_seq(conn, self.state)

    def lease(self, *, wait: float = 0.0) -> Lease:
        return Lease(self.store, self.state, wait=wait)

    def confirm(self, conn: Connection, entry_ids: Sequence[str]) -> int:
        """Inside a store transaction: this replica's index no longer serves these entries."""
        now = datetime.now(UTC)
        return replicas.confirm(conn, self.replica, entry_ids, now, self.replica_timeout)

    def _report(self, lease: Lease) -> None:
        """The heartbeat of a round that found nothing left to apply: the replica is caught
        up, and removals that every live replica has confirmed are closed."""
        now = datetime.now(UTC)
        with self.store.read() as conn:
            own = conn.execute(
                select(index_replicas).where(index_replicas.c.name == self.replica)
            ).first()
            shared = replicas.shared(conn, self.replica)
        due = own is None or own.live_since is None or shared
        if not due and (now - own.seen_at).total_seconds() < self._beat_every:
            return
        with self.store.write() as conn:
            lease.fence(conn)
            replicas.beat(conn, self.replica, now, self.replica_timeout)
            replicas.caught_up(conn, self.replica, now)
            if shared:
                replicas.settle(conn, now, self.replica_timeout)

    def _drain(self, lease: Lease, *, optimize: bool) -> SyncResult:
        total = SyncResult()
        while True:
            with self.store.read() as conn:
                since = _synced_seq(conn, self.state)
                rows = _changes(conn, since)
            self.store.restart_wal_if_large()
            if not rows:
                if optimize and self._changed >= OPTIMIZE_AFTER:
                    lease.check()
                    self._optimize(self.index)
                    self._changed = 0
                self._report(lease)
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
            # First the heartbeat: a replica back from a silence is not live until caught up.
            replicas.beat(conn, self.replica, datetime.now(UTC), self.replica_timeout)
            total.confirmed += self.confirm(conn, confirmed)
            if not still:  # never advance past a removal the index has not confirmed
                _set_synced_seq(conn, self.state, rows[-1]["seq"])
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
            _process_lock(self.store, self.rebuild_state),
            Lease(self.store, self.rebuild_state) as rebuilding,
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
            result.confirmed = self.confirm(conn, confirmed)
            if not still:
                _set_synced_seq(conn, self.state, done)
        if still:  # the rounds start again from ``synced`` and meet them there
            result.still_served = sorted(still)
            raise RuntimeError(f"rebuilt index serves removed entries: {result.still_served[:10]}")
        return result


def _changes(conn: Connection, since: int) -> Sequence:  # type: ignore[type-arg]
    query = select(entries).where(entries.c.seq > since).order_by(entries.c.seq).limit(BATCH)
    return conn.execute(query).mappings().all()


def _synced_seq(conn: Connection, state: str) -> int:
    value = conn.execute(select(sync_state.c.seq).where(sync_state.c.name == state)).scalar()
    return value or 0


def _set_synced_seq(conn: Connection, state: str, seq: int) -> None:
    ensure_row(conn, state)
    conn.execute(
        update(sync_state)
        .where(sync_state.c.name == state, sync_state.c.seq < seq)
        .values(seq=seq, updated_at=datetime.now(UTC))
    )
