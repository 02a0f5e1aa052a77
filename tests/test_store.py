"""The records store's SQLite housekeeping."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import db
from core.db import Store
from core.tables import counters


def test_a_large_wal_is_checkpointed_and_truncated_while_readers_come_and_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that keeps reading (as the index sync does beside an import) would leave
    SQLite's automatic checkpoints no moment to finish; the import restarts the WAL itself."""
    monkeypatch.setattr(db, "WAL_RESTART_BYTES", 64 * 1024)
    store = Store(f"sqlite:///{tmp_path}/store.sqlite3")
    wal = tmp_path / "store.sqlite3-wal"
    try:
        with store.read() as reader:  # a reader holding a snapshot: no checkpoint completes
            reader.execute(counters.select()).all()
            for i in range(200):
                with store.write() as conn:
                    conn.execute(counters.insert().values(name=f"c{i}", value=i))
        assert wal.stat().st_size > 64 * 1024
        store.restart_wal_if_large()
        assert wal.stat().st_size == 0
        with store.read() as conn:  # nothing lost
            assert len(conn.execute(counters.select()).all()) == 200
    finally:
        store.dispose()
