"""Opening the records store: engines, SQLite pragmas, migrations, and the write lock.

SQLite (WAL) is the embedded default; PostgreSQL is selected by a ``postgresql`` URL.
Writers are serialized (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL)
so that change sequence numbers are assigned in commit order, which the index sync
relies on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Engine,
    String,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    select,
    text,
    update,
)

from core.tables import counters

T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"
WRITE_LOCK_KEY = 0x5348_4958  # "SHIX": the PostgreSQL advisory lock for writers
# JSON columns through orjson: several times faster than the standard library on bulk work.
JSON_CODEC: dict[str, Any] = {
    "json_serializer": lambda value: orjson.dumps(value).decode(),
    "json_deserializer": orjson.loads,
}


# Each SQLite connection's page cache, in KiB. A bulk import gives its writing connections
# a larger one (``Store(write_cache_mib=...)``): it inserts into indexes on random keys (event
# keys, entry ids), whose pages it otherwise reads again from the OS for nearly every row
# once they outgrow the cache.
CACHE_KIB = 64 * 1024


def _sqlite_engine(url: str, *, immediate: bool, cache_kib: int = CACHE_KIB) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, **JSON_CODEC)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so BEGIN can be IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: each commit reaches the disk before it returns, so what we answer "accepted"
        # survives a power cut or an OS crash (NORMAL would keep it only across a crash of
        # this process). A commit then costs one fdatasync of the WAL; bulk imports commit
        # once per chunk of thousands of lines.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
        # Checkpoint the WAL every ~64 MB rather than every 4 MB: bulk imports commit
        # megabytes per chunk, and each checkpoint costs a sync of the database file.
        cur.execute("PRAGMA wal_autocheckpoint=16384")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Store:
    """Engines for one records database: ``read()`` for queries, ``write()`` for changes."""

    def __init__(
        self, url: str, *, migrate: bool = True, write_cache_mib: int | None = None
    ) -> None:
        """``write_cache_mib``: the page cache of each SQLite connection that writes, for a
        bulk import (``CACHE_KIB`` otherwise); PostgreSQL caches in the server."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._wal: Path | None = None
        if self.is_sqlite:
            if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
                self._wal = Path(url.removeprefix("sqlite:///") + "-wal")
            write_kib = CACHE_KIB if write_cache_mib is None else write_cache_mib * 1024
            self.engine = _sqlite_engine(url, immediate=False)
            self._write_engine = _sqlite_engine(url, immediate=True, cache_kib=write_kib)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, **JSON_CODEC)
            self._write_engine = self.engine
        if migrate:
            self.migrate()

    def migrate(self) -> None:
        with self._write_engine.begin() as conn:
            if not self.is_sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn
            conn.rollback()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that holds the single-writer lock until it commits."""
        with self._write_engine.begin() as conn:
            if not self.is_sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})
            yield conn

    def restart_wal_if_large(self) -> None:
        """Checkpoint the whole SQLite WAL and truncate it once it has grown large.

        Readers that keep coming (the index sync beside a large import, busy portal workers)
        can leave no moment in which SQLite's automatic checkpoints finish, and the WAL then
        grows by everything written (several GB for a million entries). A TRUNCATE
        checkpoint waits (up to the busy timeout) for the readers of the moment to finish."""
        if not self.is_sqlite or self._wal is None:
            return
        try:
            if self._wal.stat().st_size < WAL_RESTART_BYTES:
                return
        except FileNotFoundError:
            return
        raw = self._write_engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            raw.close()

    def healthy(self) -> bool:
        try:
            with self.read() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()
        if self._write_engine is not self.engine:
            self._write_engine.dispose()


WAL_RESTART_BYTES = 256 * 2**20
IN_LIST_LIMIT = 900  # values per IN (...) list: SQLite allows 999 bound parameters


def one_of(
    conn: Connection, column: ColumnElement[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """``column IN values`` with the values in one bound parameter, however many there
    are: a JSON array read by ``json_each`` on SQLite, an array with ``= ANY`` on
    PostgreSQL. An ``IN`` list binds a parameter per value, and building that statement
    costs more than running it: the bulk import asks thousands of keys per chunk."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    listed = func.json_each(bindparam(None, orjson.dumps(list(values)).decode(), type_=String))
    return column.in_(select(listed.table_valued("value").c.value))


def in_chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """``values`` in slices small enough for one ``IN (...)`` list on every dialect."""
    for start in range(0, len(values), IN_LIST_LIMIT):
        yield values[start : start + IN_LIST_LIMIT]


def allocate_seq(conn: Connection, count: int, name: str = "seq") -> int:
    """Reserve ``count`` consecutive sequence numbers; returns the first. Must run inside
    ``Store.write()`` so numbers are handed out in commit order."""
    current = conn.execute(select(counters.c.value).where(counters.c.name == name)).scalar()
    if current is None:
        conn.execute(counters.insert().values(name=name, value=count))
        return 1
    conn.execute(update(counters).where(counters.c.name == name).values(value=current + count))
    return current + 1
