"""Waking a replica's sync loop as soon as the store has a change its index has not applied.

With several hosts on one store, a removal ingested on one host waits for every other
host's loop to sync it. Polling every ``SHIXIN_SYNC_INTERVAL`` (1 s) made that wait most of
a removal's latency, so the loop waits on this watch instead, with the interval as its
longest sleep (the heartbeat rounds go on as before):

- on PostgreSQL a trigger on ``entries`` (migration 0020) sends ``NOTIFY shixin_entries``
  with every change, and the watch ``LISTEN``s on a connection of its own: the loop wakes
  within milliseconds of the commit, and an idle host asks the database nothing;
- on SQLite (every host on one machine) there is no notification, so the watch asks the
  store for its latest change every ``POLL`` seconds: one indexed lookup.

Both check the store before they sleep, so a notification missed while the listening
connection was down costs at most one interval, never a change: the round reads the store.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.db import Store
from search_index.sync import Syncer, SyncResult

if TYPE_CHECKING:
    import psycopg

CHANNEL = "shixin_entries"  # the migration's trigger notifies this channel
POLL = 0.1  # seconds between two looks at the store where nothing notifies
STOP_CHECK = 0.25  # longest wait for a notification before checking for a shutdown
RECONNECT = 5.0  # seconds before a lost listening connection is tried again

log = logging.getLogger(__name__)


class ChangeWatch:
    """``wait(seen, timeout)``: returns once the store's latest change is past ``seen``, or
    after ``timeout`` seconds, with the latest change it saw."""

    def __init__(self, store: Store, head: Callable[[], int]) -> None:
        self.head = head  # the store's latest change (``Syncer.head``)
        self._listener: _Listener | None = None if store.is_sqlite else _Listener(store)

    def wait(self, seen: int, timeout: float, stop: threading.Event | None = None) -> int:
        """``stop``: return at once when it is set (the worker is shutting down)."""
        stop = stop or threading.Event()
        deadline = time.monotonic() + timeout
        look = True
        while True:
            if self._listener is not None:
                self._listener.ready()  # listening before the look below: nothing slips by
            if look:
                head = self.head()
            left = deadline - time.monotonic()
            if head > seen or left <= 0 or stop.is_set():
                return head
            if self._listener is not None and self._listener.listening:
                # In short waits, so that stopping never waits for the interval.
                look = self._listener.next(timeout=min(left, STOP_CHECK))
            else:
                stop.wait(min(POLL, left))
                look = True

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()


class _Listener:
    """A psycopg connection of its own, in autocommit, listening on CHANNEL. Lost, it is
    opened again after RECONNECT seconds; meanwhile the watch polls."""

    def __init__(self, store: Store) -> None:
        self._conninfo = store.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._retry_at = 0.0

    @property
    def listening(self) -> bool:
        return self._conn is not None

    def ready(self) -> None:
        if self._conn is not None or time.monotonic() < self._retry_at:
            return
        import psycopg  # only PostgreSQL deployments have it loaded

        try:
            conn = psycopg.connect(self._conninfo, autocommit=True)
            conn.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as error:
            log.warning("cannot listen for index changes (%s); polling the store", error)
            self._retry_at = time.monotonic() + RECONNECT
            return
        self._conn = conn

    def next(self, timeout: float) -> bool:
        """Until a notification arrives or ``timeout``: whether the store is worth a look
        (a notification came, or the connection was lost and the watch polls again)."""
        import psycopg

        conn = self._conn
        assert conn is not None
        try:
            return any(True for _ in conn.notifies(timeout=timeout, stop_after=1))
        except psycopg.Error as error:
            log.warning("lost the connection listening for index changes (%s)", error)
            self.close()
            self._retry_at = time.monotonic() + RECONNECT
            return True

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to give back
                conn.close()


class Follower:
    """One host's sync loop: a round as soon as the store has a change this replica has not
    applied, and one every ``interval`` seconds at the latest (the heartbeat that keeps the
    replica live, and the retry of a round that failed)."""

    def __init__(self, syncer: Syncer, watch: ChangeWatch, interval: float) -> None:
        self.syncer = syncer
        self.watch = watch
        self.interval = interval
        self._seen = -1  # the first turn runs a round at once
        self._stop = threading.Event()

    def stop(self) -> None:
        """A waiting turn returns at once, without a round; so does every later one."""
        self._stop.set()

    def turn(self) -> SyncResult:
        try:
            head = self.watch.wait(self._seen, self.interval, self._stop)
        except Exception:
            self._stop.wait(self.interval)  # the store is away: try again as often as before
            raise
        if self._stop.is_set():
            return SyncResult(skipped=True)
        try:
            result = self.syncer.sync(wait=False)
        except Exception:
            self._stop.wait(self.interval)
            raise
        finally:
            # Skipped (another worker of this host is syncing this replica) or failed: wait
            # for a newer change or the interval, rather than trying again at once.
            self._seen = head
        if not result.skipped:
            self._seen = max(head, self.syncer.synced_seq())
        return result
