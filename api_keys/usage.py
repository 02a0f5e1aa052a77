"""Counting keyed requests per key and Beijing day, cheaply: the API adds to a counter in
memory (a dict update, no I/O on the request's path) and a background round writes the
counts with one upsert per key and day. A worker that dies loses at most one round's
counts: usage is a figure to look at, not a bill.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from api_keys.tables import api_key_usage
from core.db import Store


class UsageCounter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._counts: Counter[tuple[int, date]] = Counter()
        self._lock = threading.Lock()  # counted on the event loop, flushed from a thread

    def count(self, key_id: int, day: date) -> None:
        with self._lock:
            self._counts[(key_id, day)] += 1

    def flush(self) -> int:
        """Write what was counted since the last round; returns how many requests."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts:
            return 0
        try:
            with self.store.write() as conn:
                for (key_id, day), requests in sorted(counts.items()):
                    _add(conn, key_id, day, requests)
        except Exception:
            with self._lock:  # kept for the next round
                self._counts.update(counts)
            raise
        return sum(counts.values())


def _add(conn: Connection, key_id: int, day: date, requests: int) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(api_key_usage).values(key_id=key_id, day=day, requests=requests)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["key_id", "day"],
            set_={"requests": api_key_usage.c.requests + statement.excluded.requests},
        )
    )
