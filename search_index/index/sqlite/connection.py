"""Connections to the index file: a small pool, one writer at a time, and WAL checkpoints
in a background thread.

Every connection maps the file (one shared mmap rather than a page cache each) and never
checkpoints on its own: the ``Checkpointer`` copies the WAL after each commit, off the
writer's path, and a writer waits for it only when the WAL has grown beyond ``WAL_LIMIT``.

The path may be a symbolic link to the file (a rebuilt index is swapped in by pointing the
link at a new file, see ``backend.SqliteFtsIndex.swap_in``; SQLite names the ``-wal`` and
``-shm`` files after the link's target). Before lending a connection the pool checks which
file the path names (one ``stat``): when it has changed, connections to the old file are
closed as they come back and new ones open the new file, so the next search, in any
process, sees the swapped-in index.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

WAL_LIMIT = 64 << 20  # bytes
# Each connection's page cache (KiB). The process that fills the index beside an import
# gives its connections a larger one (``cache_kib``): FTS5 rewrites its segment pages, and
# mmap serves only reads.
CACHE_KIB = 16 * 1024


class ConnectionPool:
    """Connections to one SQLite file. Thread-safe: each call borrows a connection from the
    pool; writes are serialized, and WAL lets reads proceed during a write."""

    def __init__(
        self,
        path: Path,
        on_swap: Callable[[], None] | None = None,
        cache_kib: int = CACHE_KIB,
    ) -> None:
        self.path = path
        self._cache_kib = cache_kib
        self._pool: list[tuple[int, sqlite3.Connection]] = []  # (generation, idle connection)
        self._all: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False
        self._checkpointer = Checkpointer(self._open)
        self._file = _identity(path)  # the file the path names, as (device, inode)
        self._generation = 0  # one more each time the path names another file
        self._on_swap = on_swap

    def _open(self) -> sqlite3.Connection:
        # check_same_thread=False: pooled connections move between threads, but one is never
        # used by two at once. isolation_level=None: transactions are explicit.
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        # FULL: a deletion is on disk before the sync records the removal as confirmed; with
        # NORMAL an OS crash could bring back an entry the store says is gone.
        conn.execute("PRAGMA synchronous=FULL")
        # Removed entries must not linger in free pages of the file.
        conn.execute("PRAGMA secure_delete=ON")
        # Reads go through one shared mmap of the file rather than a large page cache per
        # connection: a web server may hold dozens of pooled connections.
        conn.execute(f"PRAGMA cache_size=-{int(self._cache_kib)}")
        conn.execute("PRAGMA mmap_size=2147418112")  # this build's maximum, ~2 GiB
        # Checkpoints run in the background (Checkpointer), not inside a writer's COMMIT.
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        self.notice_swap()
        with self._pool_lock:
            if self._closed:
                raise RuntimeError("index is closed")
            generation, conn = self._pool.pop() if self._pool else (self._generation, None)
        if conn is None:
            conn = self._open()
            with self._pool_lock:
                self._all.append(conn)
                if self._file is None:  # the first connection created the file
                    self._file = _identity(self.path)
        try:
            yield conn
        finally:
            with self._pool_lock:
                keep = not self._closed and generation == self._generation
                if keep:
                    self._pool.append((generation, conn))
                elif not self._closed:  # opened on a file swapped out since
                    self._all.remove(conn)
            if not keep and not self._closed:
                conn.close()

    def notice_swap(self) -> None:
        """If the path names another file than the connections have open, retire them:
        idle ones now, the others when they come back; the checkpointer starts again."""
        current = _identity(self.path)
        if current is None or current == self._file:
            return  # unchanged, or missing (a deleted file is read until reopened)
        with self._pool_lock:
            if current == self._file or self._closed:
                return  # another thread got here first
            first = self._file is None
            self._file = current
            if first:
                return
            self._generation += 1
            idle = [conn for _, conn in self._pool]
            self._pool = []
            for conn in idle:
                self._all.remove(conn)
            old_checkpointer, self._checkpointer = self._checkpointer, Checkpointer(self._open)
        for conn in idle:
            conn.close()
        old_checkpointer.stop()
        log.info("%s now names another index file: reopened", self.path)
        if self._on_swap is not None:
            self._on_swap()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        # The lock keeps this process's writers from spinning on SQLITE_BUSY; IMMEDIATE takes
        # the file's write lock up front, so a read is never upgraded mid-transaction.
        with self._write_lock, self.connection() as conn:
            if self._wal_size() > WAL_LIMIT:
                # The WAL restarts from its beginning only in a transaction that starts after
                # a checkpoint has copied all of it: without this wait, a bulk load that
                # never pauses would grow it without end.
                self._checkpointer.wait_caught_up()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        self._checkpointer.poke()

    def _wal_size(self) -> int:
        try:  # named after the file, not after a link to it
            return os.stat(f"{os.path.realpath(self.path)}-wal").st_size
        except FileNotFoundError:
            return 0

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        # One snapshot for the several statements of a search, so counts and pages agree.
        with self.connection() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def close(self) -> None:
        with self._pool_lock:
            checkpointer = self._checkpointer
        checkpointer.stop()
        with self._pool_lock:
            self._closed = True
            conns, self._all, self._pool = self._all, [], []
        for conn in conns:
            conn.close()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)  # follows a symbolic link
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


class Checkpointer:
    """Copies the WAL into the database file from a background thread, after every commit.
    Inside the writer's COMMIT (SQLite's default) the copies and their fsyncs took a quarter
    of a bulk load; here they overlap with the next batch, and pages rewritten by several
    batches are copied once."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._cond = threading.Condition()
        self._pending = False  # a commit since the last checkpoint started
        self._running = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    def poke(self) -> None:
        with self._cond:
            if self._stopping:
                return
            self._pending = True
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="sqlite-fts-checkpoint", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def wait_caught_up(self, timeout: float = 60) -> None:
        """Until every commit so far has been checkpointed (as far as readers allow)."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._stopping or not (self._pending or self._running), timeout
            )

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        conn = self._connect()
        try:
            while self._next():
                try:
                    # PASSIVE: never waits for readers or the writer; copies what it can.
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    log.exception("checkpoint of the search index WAL failed")
                finally:
                    with self._cond:
                        self._running = False
                        self._cond.notify_all()
        finally:
            conn.close()

    def _next(self) -> bool:
        """Wait for a commit to checkpoint; False when stopping."""
        with self._cond:
            self._cond.wait_for(lambda: self._pending or self._stopping)
            if self._stopping:
                return False
            self._pending, self._running = False, True
            return True
