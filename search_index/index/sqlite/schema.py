"""The index file's layout: rowids, columns, tables, statements, and the small SQL helpers
over them (the party counters in ``stats``, id lists for ``json_each``).

A file of another layout or API JSON format is discarded on open (``discard_if_outdated``):
the index is derived data, refilled from the store.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from search_index.types import API_FORMAT, PartyType

log = logging.getLogger(__name__)

# 2: docs.api and the meta table. 3: the API JSON is the only body (no positional body).
# 4: organizations carry their legal representative's tag.
SCHEMA_VERSION = 4

# rid = day << PK_BITS | pk: 2^40 rows, and days up to year 9999 fit below 2^63.
PK_BITS = 40
PK_MASK = (1 << PK_BITS) - 1
RID_MIN = -(1 << 63)
RID_MAX = (1 << 63) - 1

PARTIES = tuple(PartyType)
_NAME_COLUMNS = [f"{kind}_{party}" for party in PARTIES for kind in ("name", "bi")]
_FTS_COLUMNS = [*_NAME_COLUMNS, "tags"]

COURT, AREA = "court", "area"  # places.kind

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS docs (
    pk INTEGER PRIMARY KEY,  -- allocated in ascending order: the table only grows at its end
    rid INTEGER NOT NULL,    -- FTS rowid: publish_date.toordinal() << {PK_BITS} | pk
    id TEXT NOT NULL UNIQUE,
    seq INTEGER NOT NULL,
    party_type TEXT NOT NULL,
    {", ".join(f"{column} TEXT NOT NULL" for column in _FTS_COLUMNS)},  -- FTS texts
    -- The document's only body: orjson.dumps(IndexDoc.to_api()) as of meta.api_format. An
    -- API results page is these bytes joined, with no IndexDoc or dict per item (a third of
    -- the CPU of an API search). IndexDoc.from_api rebuilds the document from it, with seq,
    -- name_norm and the card key (kept in tags), which the API never shows.
    api BLOB NOT NULL,
    name_norm TEXT  -- NULL: the same as the name as published (most names)
);
-- Documents per party type: counting a million FTS5 entries takes 50 ms.
CREATE TABLE IF NOT EXISTS stats (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
-- api_format: the types.API_FORMAT every docs.api was written with. A file of another
-- format is discarded on open, like one of another layout.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS places (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,  -- court or area
    text TEXT NOT NULL,  -- as published
    norm TEXT NOT NULL,  -- its name tokens, concatenated
    UNIQUE (kind, text)
);
-- detail=full: phrases and the ^ anchor need token positions. columnsize=0: nothing ranks by
-- column length, and the docsize table would cost a write per document.
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    {", ".join(_FTS_COLUMNS)}, content='docs', content_rowid='rid', columnsize=0,
    tokenize='unicode61 remove_diacritics 0'
);
"""

_DOC_COLUMNS = ["pk", "rid", "id", "seq", "party_type", *_FTS_COLUMNS, "api", "name_norm"]
# What IndexDoc.from_api needs beside the JSON (see documents.decode).
DOC_BODY = "api, seq, name_norm, tags"
INSERT_DOC = (
    f"INSERT INTO docs ({', '.join(_DOC_COLUMNS)}) VALUES ({', '.join('?' * len(_DOC_COLUMNS))})"
)
# One statement per chunk: no per-row binding, and the GIL is released throughout.
INSERT_FTS = (
    f"INSERT INTO docs_fts (rowid, {', '.join(_FTS_COLUMNS)})"
    f" SELECT rid, {', '.join(_FTS_COLUMNS)} FROM docs WHERE pk BETWEEN ? AND ? ORDER BY pk"
)
# External content: FTS5 forgets a row only when told the exact text it indexed.
DELETE_FTS = (
    f"INSERT INTO docs_fts (docs_fts, rowid, {', '.join(_FTS_COLUMNS)})"
    " VALUES ('delete',?,?,?,?,?,?)"
)
SELECT_OLD = (
    f"SELECT pk, party_type, rid, {', '.join(_FTS_COLUMNS)} FROM docs"
    " WHERE id IN (SELECT value FROM json_each(?))"
)
_ADD_COUNT = "UPDATE stats SET value = value + ? WHERE key = ?"


def discard_if_outdated(path: Path) -> None:
    """An index file of another layout, or whose stored API JSON has another format, is
    deleted: the index is derived data, and the sync refills a fresh one from the store (see
    ``fresh``). The JSON is each document's only body, so it cannot be rebuilt in place."""
    if not path.exists():
        return
    conn = sqlite3.connect(path)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        api_format = None  # unknown in other layouts
        if version == SCHEMA_VERSION:
            row = conn.execute("SELECT value FROM meta WHERE key = 'api_format'").fetchone()
            api_format = row[0] if row else None
    finally:
        conn.close()
    if version == 0 or (version == SCHEMA_VERSION and api_format == API_FORMAT):
        return
    log.warning(
        "%s has index layout %s (API JSON format %s), this version uses layout %s"
        " (format %s): rebuilding it from the store",
        path,
        version,
        api_format,
        SCHEMA_VERSION,
        API_FORMAT,
    )
    real = Path(os.path.realpath(path))  # a rebuilt index: the file a link names
    for suffix in ("", "-wal", "-shm"):
        Path(f"{real}{suffix}").unlink(missing_ok=True)
    path.unlink(missing_ok=True)  # the link, if it was one


def create_schema(conn: sqlite3.Connection) -> bool:
    """Create the tables if the file is new; returns whether it was."""
    conn.execute("PRAGMA journal_mode=WAL")  # persistent: recorded in the file
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):  # replaced by another process meanwhile
            raise RuntimeError(f"index file has schema version {version}: restart to rebuild")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.executemany("INSERT OR IGNORE INTO stats VALUES (?, 0)", [(str(p),) for p in PARTIES])
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('api_format', ?)", (API_FORMAT,))
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return version == 0


# Counters and parameters


def add_counts(conn: sqlite3.Connection, delta: Counter[str]) -> None:
    conn.executemany(_ADD_COUNT, [(n, str(party)) for party, n in delta.items() if n])


def stats_count(conn: sqlite3.Connection, parties: Iterable[str]) -> int:
    keys = json_list([str(p) for p in parties])
    sql = "SELECT sum(value) FROM stats WHERE key IN (SELECT value FROM json_each(?))"
    return conn.execute(sql, (keys,)).fetchone()[0] or 0


def json_list(values: Sequence[Any]) -> str:
    return orjson.dumps(list(values)).decode()
