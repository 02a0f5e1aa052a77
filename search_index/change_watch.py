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
import time
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from core.db import Store
from search_index.sync import Syncer, SyncResult
from search_index.tables import entries

if TYPE_CHECKING:
    import psycopg

CHANNEL = "shixin_entries"  # the migration's trigger notifies this channel
POLL = 0.1  # seconds between two looks at the store where nothing notifies
RECONNECT = 5.0  # seconds before a lost listening connection is tried again

log = logging.getLogger(__name__)


class ChangeWatch:
    """``wait(seen, timeout)``: returns once the store's latest change is past ``seen``, or
    after ``timeout`` seconds, with the latest change it saw."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._listener: _Listener | None = None if store.is_sqlite else _Listener(store)

    def head(self) -> int:
        with self.store.read() as conn:
            return conn.execute(select(func.max(entries.c.seq))).scalar() or 0

    def wait(self, seen: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while True:
            if self._listener is not None:
                self._listener.ready()  # listening before the look below: nothing slips by
            head = self.head()
            left = deadline - time.monotonic()
            if head > seen or left <= 0:
                return head
            if self._listener is not None and self._listener.listening:
                self._listener.next(timeout=left)
            else:
                time.sleep(min(POLL, left))

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

    def next(self, timeout: float) -> None:
        """Until a notification arrives (all that are queued are read) or ``timeout``."""
        import psycopg

        conn = self._conn
        assert conn is not None
        try:
            for _ in conn.notifies(timeout=timeout, stop_after=1):
                pass
        except psycopg.Error as error:
            log.warning("lost the connection listening for index changes (%s)", error)
            self.close()
            self._retry_at = time.monotonic() + RECONNECT

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

    def turn(self) -> SyncResult:
        try:
            head = self.watch.wait(self._seen, self.interval)
        except Exception:
            time.sleep(self.interval)  # the store is away: try again as often as before
            raise
        try:
            result = self.syncer.sync(wait=False)
        except Exception:
            time.sleep(self.interval)
            raise
        finally:
            # Skipped (another worker of this host is syncing this replica) or failed: wait
            # for a newer change or the interval, rather than trying again at once.
            self._seen = head
        if not result.skipped:
            self._seen = max(head, self.syncer.synced_seq())
        return result
