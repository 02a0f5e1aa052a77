"""The records store's SQLite housekeeping."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import db
from core.db import Store
from core.settings import ConfigError, load_settings
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


def test_an_import_writes_with_a_larger_page_cache_and_searches_keep_theirs(
    tmp_path: Path,
) -> None:
    """``shixin import`` opens the store with ``SHIXIN_IMPORT_CACHE_MIB`` for its writer (its
    effect on the import's time is measured in benchmarks/RESULTS.md); the connections that
    read, of which a portal holds many, keep the 64 MiB of ``CACHE_KIB``."""
    settings = load_settings({"SHIXIN_DATA_DIR": str(tmp_path), "SHIXIN_IMPORT_CACHE_MIB": "96"})
    assert settings.import_cache_mib == 96
    assert load_settings({"SHIXIN_DATA_DIR": str(tmp_path)}).import_cache_mib == 384
    with pytest.raises(ConfigError, match="SHIXIN_IMPORT_CACHE_MIB must be a whole number"):
        load_settings({"SHIXIN_DATA_DIR": str(tmp_path), "SHIXIN_IMPORT_CACHE_MIB": "lots"})
    store = Store(settings.database_url, write_cache_mib=settings.import_cache_mib)
    plain = Store(settings.database_url)
    try:
        with store.write() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -96 * 1024
        with store.read() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -db.CACHE_KIB
        with plain.write() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -db.CACHE_KIB
    finally:
        store.dispose()
        plain.dispose()
