"""The embedded public index: one SQLite file, FTS5 over names plus exact-match tag tokens.

- Every document has an FTS5 rowid ``rid = publish_date.toordinal() << 40 | pk``, where ``pk``
  is its row in ``docs``. Rowid order is therefore publish-date order: a query walks FTS5
  matches newest first and stops after one page instead of sorting every match (a common
  surname matches tens of thousands of entries at 1M documents). Ties within a day are ordered
  by id, with a small SQL sort of that day only. ``pk`` is the low bits, so no date-ordered
  b-tree is needed; ``docs`` is append-only and bulk loads stay sequential.
- ``docs_fts`` is an external-content FTS5 table over ``docs``. ``name_<party>`` holds one
  token per character of the normalized name (as ``normalize.name_tokens``) and ``bi_<party>``
  one token per pair of neighbouring characters, so any substring of a name is a phrase: of
  characters for a one-character query, of pairs for longer ones (pairs are far rarer, which
  makes a full name several times faster to find). "Starts with" is the phrase anchored with
  ``^``. A document fills the two columns of its party type only, so the person/org filter of
  a name search is a column filter: ANDing with a tag that 90% of documents carry would walk
  that tag's whole doclist.
- ``tags`` holds one token per exact criterion: the name's length and first characters ("exact
  name" is then "starts with" plus that tag), party type, court and area (ids into ``places``,
  with the party type appended), card key, card display and case number (in forms that keep
  equality exact). Identifiers live in FTS5 rather than in b-tree indexes because FTS5
  writes sorted segments, while an index on random hashes dirties a page per document that
  every commit rewrites to the WAL.
- Courts and areas are matched against ``places`` (a few thousand distinct names); the place
  ids found become ``tags`` tokens ORed together.
- Relevance is three tiers (exact name, starts with, the rest); a tier is only counted when a
  page starts beyond it. Totals without any filter come from counters kept in ``stats``.
- ``upsert`` inserts in chunks; while FTS5 indexes one chunk (a single statement, without the
  GIL) a worker thread prepares the next, and WAL checkpoints run in a thread of their own,
  so a bulk load uses both cores.
- No full ID number is ever stored: documents carry the masked form and a keyed hash only, and
  ``upsert`` refuses a person document whose display form is a full ID number.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from search_index.normalize import name_tokens, normalize_place
from search_index.types import API_FORMAT, IndexDoc, PartyType, SearchPage, SearchQuery, Sort

__all__ = ["SqliteFtsIndex"]

log = logging.getLogger(__name__)

# 2: docs.api and the meta table. 3: the API JSON is the only body (no positional body).
SCHEMA_VERSION = 3

# rid = day << _PK_BITS | pk: 2^40 rows, and days up to year 9999 fit below 2^63.
SMALL_RESULT = 100  # name queries with at most this many matches are ranked in Python
CANDIDATES = 100  # most documents a name's rare pairs may find to be checked in Python
PAIR_SAMPLE = 1000  # pairs in at least this many documents are never looked up alone
PAIR_CACHE = 200_000  # pair document counts kept (a few MB)
_PK_BITS = 40
_PK_MASK = (1 << _PK_BITS) - 1
_RID_MIN = -(1 << 63)
_RID_MAX = (1 << 63) - 1

_PARTIES = tuple(PartyType)
_PARTY_LETTER = {PartyType.PERSON: "p", PartyType.ORG: "o"}
_PARTY_BY_VALUE: dict[str, PartyType] = {str(party): party for party in _PARTIES}
_NAME_COLUMNS = [f"{kind}_{party}" for party in _PARTIES for kind in ("name", "bi")]
_FTS_COLUMNS = [*_NAME_COLUMNS, "tags"]

# A person's identifier in full (17 digits and a check character) must never be stored.
_FULL_ID_RE = re.compile(r"[0-9]{17}[0-9Xx]")
_LOWER_HEX_RE = re.compile(r"[0-9a-f]+")
_UPPER_ALNUM_RE = re.compile(r"[0-9A-Z]+")
_MASKED_ID_RE = re.compile(r"([0-9]{10})\*{4}([0-9]{3}[0-9X])")
_CASE_CODE_RE = re.compile(r"\(([0-9]{4})\)([^\W_]+)")  # canonical: (2019)京0105执12345号

_COURT, _AREA = "court", "area"
_ITER_CHUNK = 5000
_CHUNK = 1000  # documents per insert statement in upsert
_WAL_LIMIT = 64 << 20  # bytes
_SPLIT_OVER = 16  # place tags in one OR beyond which counts go tag by tag

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS docs (
    pk INTEGER PRIMARY KEY,  -- allocated in ascending order: the table only grows at its end
    rid INTEGER NOT NULL,    -- FTS rowid: publish_date.toordinal() << {_PK_BITS} | pk
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
# What IndexDoc.from_api needs beside the JSON (see _doc).
_DOC_BODY = "api, seq, name_norm, tags"
_INSERT_DOC = (
    f"INSERT INTO docs ({', '.join(_DOC_COLUMNS)}) VALUES ({', '.join('?' * len(_DOC_COLUMNS))})"
)
# One statement per chunk: no per-row binding, and the GIL is released throughout.
_INSERT_FTS = (
    f"INSERT INTO docs_fts (rowid, {', '.join(_FTS_COLUMNS)})"
    f" SELECT rid, {', '.join(_FTS_COLUMNS)} FROM docs WHERE pk BETWEEN ? AND ? ORDER BY pk"
)
# External content: FTS5 forgets a row only when told the exact text it indexed.
_DELETE_FTS = (
    f"INSERT INTO docs_fts (docs_fts, rowid, {', '.join(_FTS_COLUMNS)})"
    " VALUES ('delete',?,?,?,?,?,?)"
)
_SELECT_OLD = (
    f"SELECT pk, party_type, rid, {', '.join(_FTS_COLUMNS)} FROM docs"
    " WHERE id IN (SELECT value FROM json_each(?))"
)
_ADD_COUNT = "UPDATE stats SET value = value + ? WHERE key = ?"


class SqliteFtsIndex:
    """IndexBackend on an SQLite file of its own. Thread-safe: each call borrows a connection
    from a small pool; writes are serialized, and WAL lets reads proceed during a write."""

    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._pool: list[sqlite3.Connection] = []
        self._all: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False
        # (kind, text) -> places.id; ids never change once committed, so this never goes stale
        self._places: dict[tuple[str, str], int] = {}
        self._pair_counts: dict[str, int] = {}  # pair -> documents holding it, up to PAIR_SAMPLE
        self._preparer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-fts-prepare")
        self._checkpointer = _Checkpointer(self._open)
        _discard_if_outdated(self.path)
        with self._connection() as conn:
            self.fresh = _create_schema(conn)

    # Connections

    def _open(self) -> sqlite3.Connection:
        # check_same_thread=False: pooled connections move between threads, but one is never
        # used by two at once. isolation_level=None: transactions are explicit.
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA synchronous=NORMAL")
        # Removed entries must not linger in free pages of the file.
        conn.execute("PRAGMA secure_delete=ON")
        # Reads go through one shared mmap of the file rather than a large page cache per
        # connection: a web server may hold dozens of pooled connections.
        conn.execute("PRAGMA cache_size=-16384")  # KiB
        conn.execute("PRAGMA mmap_size=2147418112")  # this build's maximum, ~2 GiB
        # Checkpoints run in the background (_Checkpointer), not inside a writer's COMMIT.
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute(f"PRAGMA journal_size_limit={_WAL_LIMIT}")
        return conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._pool_lock:
            if self._closed:
                raise RuntimeError("index is closed")
            conn = self._pool.pop() if self._pool else None
        if conn is None:
            conn = self._open()
            with self._pool_lock:
                self._all.append(conn)
        try:
            yield conn
        finally:
            with self._pool_lock:
                if not self._closed:
                    self._pool.append(conn)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # The lock keeps this process's writers from spinning on SQLITE_BUSY; IMMEDIATE takes
        # the file's write lock up front, so a read is never upgraded mid-transaction.
        with self._write_lock, self._connection() as conn:
            if self._wal_size() > _WAL_LIMIT:
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
        try:
            return os.stat(f"{self.path}-wal").st_size
        except FileNotFoundError:
            return 0

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        # One snapshot for the several statements of a search, so counts and pages agree.
        with self._connection() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def close(self) -> None:
        self._preparer.shutdown()
        self._checkpointer.stop()
        with self._pool_lock:
            self._closed = True
            conns, self._all, self._pool = self._all, [], []
        for conn in conns:
            conn.close()

    # Writes

    def upsert(self, docs: Sequence[IndexDoc]) -> None:
        latest = {doc.id: doc for doc in docs}  # a batch may repeat an id: the last one wins
        if not latest:
            return
        # By date, then pk: rids ascend, and FTS5 starts a new segment whenever they go down.
        ordered = sorted(latest.values(), key=lambda doc: doc.publish_date)
        chunks = [ordered[i : i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]
        prepared = _prepare_all(chunks[0])
        with self._write() as conn:
            places = self._places
            pk = conn.execute("SELECT max(pk) FROM docs").fetchone()[0] or 0
            added = Counter(doc.party_type for doc in ordered)
            added.subtract(_remove(conn, list(latest)))
            for following in [*chunks[1:], None]:
                places = _with_places(conn, prepared, places)
                rows = [_doc_row(p, n, places) for n, p in enumerate(prepared, start=pk + 1)]
                conn.executemany(_INSERT_DOC, rows)
                # The FTS insert is one long statement that releases the GIL: the next chunk
                # is prepared meanwhile, on the other core. (Not during executemany, which
                # needs the GIL for every row.)
                future = None
                if following is not None:
                    future = self._preparer.submit(_prepare_all, following)
                conn.execute(_INSERT_FTS, (pk + 1, pk + len(rows)))
                pk += len(rows)
                prepared = future.result() if future else []
            _add_counts(conn, added)
        self._places = places  # only now are new place ids committed

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            with self._write() as conn:
                removed = _remove(conn, list(ids))
                _add_counts(conn, Counter({party: -n for party, n in removed.items()}))

    def clear(self) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO docs_fts (docs_fts) VALUES ('delete-all')")
            conn.execute("DELETE FROM docs")
            conn.execute("UPDATE stats SET value = 0")

    def optimize(self) -> None:
        """Merge the FTS5 segments into one: after a full rebuild (name searches get about
        twice as fast), and to purge the index entries of deleted documents, which FTS5 in
        SQLite 3.40 only marks as deleted until segments merge."""
        with self._write() as conn:
            conn.execute("INSERT INTO docs_fts (docs_fts) VALUES ('optimize')")

    # Reads

    def present(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        with self._connection() as conn:
            cur = conn.execute(
                "SELECT id FROM docs WHERE id IN (SELECT value FROM json_each(?))",
                (_json_list(ids),),
            )
            return {row[0] for row in cur}

    def get(self, entry_id: str) -> IndexDoc | None:
        with self._connection() as conn:
            row = conn.execute(f"SELECT {_DOC_BODY} FROM docs WHERE id = ?", (entry_id,)).fetchone()
        return _doc(row) if row else None

    def iter_seqs(self) -> Iterator[tuple[str, int]]:
        # Keyset chunks on briefly borrowed connections: a half-consumed generator holds
        # neither a connection nor a read snapshot.
        after = ""
        while True:
            with self._connection() as conn:
                chunk = conn.execute(
                    "SELECT id, seq FROM docs WHERE id > ? ORDER BY id LIMIT ?",
                    (after, _ITER_CHUNK),
                ).fetchall()
            yield from chunk
            if len(chunk) < _ITER_CHUNK:
                return
            after = chunk[-1][0]

    def count(self) -> int:
        with self._connection() as conn:
            return _count(conn, _PARTIES)

    def healthy(self) -> bool:
        try:
            with self._connection() as conn:
                conn.execute("SELECT rowid FROM docs_fts WHERE docs_fts MATCH 'x' LIMIT 1")
        except (sqlite3.Error, RuntimeError):
            return False
        return True

    def search(self, query: SearchQuery) -> SearchPage:
        offset, limit = max(query.offset, 0), max(query.per_page, 0)
        with self._read() as conn:
            plan = _plan(conn, query)
            if plan is None:
                return self._result(query, 0, [])
            found = self._by_rare_pairs(conn, plan, query, offset, limit)
            if found is None:
                total = plan.total.count(conn)
                found = self._small_result(conn, plan, query, total, offset, limit)
            if found is None:
                rids = _page(conn, plan.tiers, offset, limit) if offset < total else []
                found = total, rids
            total, rids = found
            return self._result(query, total, _bodies(conn, rids))

    def _result(self, query: SearchQuery, total: int, rows: list[_Body]) -> SearchPage:
        api = [row[0] for row in rows]
        return SearchPage(total, _LazyDocs(rows), query.page, query.per_page, api_items=api)

    def _by_rare_pairs(
        self, conn: sqlite3.Connection, plan: _Plan, query: SearchQuery, offset: int, limit: int
    ) -> tuple[int, list[int]] | None:
        """A name of several characters is looked up by its rarest character pairs only and
        the few candidates checked here. FTS5 steps through the doclist of every token of a
        phrase, and a company name has pairs (有限, 公司) in a quarter of all documents:
        the full phrase took a millisecond, the rare pairs some tens of microseconds.
        None: no pair rare enough, or too many candidates."""
        if plan.name is None or len(plan.name) < 2:
            return None
        pairs = self._rare_pairs(conn, _pairs(plan.name))
        if not pairs:
            return None
        columns = "{" + " ".join(f"bi_{party}" for party in plan.parties) + "}"
        match = _all_of(
            [f"{columns} : ({' AND '.join(_phrase([p]) for p in pairs)})", *plan.filters]
        )
        sql, params = _Source(match, plan.lo, plan.hi)._sql("docs_fts.rowid")
        rids = [row[0] for row in conn.execute(f"{sql} LIMIT ?", [*params, CANDIDATES + 1])]
        if len(rids) > CANDIDATES:
            return None
        names = " || ".join(f"name_{party}" for party in _PARTIES)
        cur = conn.execute(
            f"SELECT rid, id, {names} FROM docs WHERE pk IN (SELECT value FROM json_each(?))",
            (_json_list([rid & _PK_MASK for rid in rids]),),
        )
        ranked = _rank(cur, " ".join(plan.name), query)
        return len(ranked), ranked[offset : offset + limit]

    def _rare_pairs(self, conn: sqlite3.Connection, pairs: list[str]) -> list[str]:
        """Up to three of ``pairs`` with the fewest documents, among those in fewer than
        ``PAIR_SAMPLE``; none when that would read every pair's doclist anyway and could
        find too many candidates (a common person's name: the phrase is as cheap, and the
        tiered path follows without a wasted pass). The counts are estimates kept for the
        life of the index object: they only choose the lookup, a stale one costs time."""
        counts = self._pair_counts
        distinct = set(pairs)
        # Not ``distinct - counts.keys()``: that walks every key of the cache (up to
        # PAIR_CACHE of them, milliseconds) to subtract a handful.
        for pair in [p for p in distinct if p not in counts]:
            if len(counts) >= PAIR_CACHE:
                counts.clear()
            counts[pair] = _count_up_to(conn, pair, PAIR_SAMPLE)
        rare = sorted((counts[p], p) for p in distinct if counts[p] < PAIR_SAMPLE)
        if not rare or (len(rare) == len(distinct) and rare[0][0] > CANDIDATES):
            return []
        return [p for _, p in rare[:3]]

    def _small_result(
        self,
        conn: sqlite3.Connection,
        plan: _Plan,
        query: SearchQuery,
        total: int,
        offset: int,
        limit: int,
    ) -> tuple[int, list[int]] | None:
        """A name query that matches few documents is answered from one more MATCH: the
        matches are sorted into the relevance tiers here, instead of counting and paging each
        tier in SQL (every FTS5 pass over a common name costs a fraction of a millisecond).
        None: too many matches, or no tiers to sort."""
        if len(plan.tiers) < 2 or plan.name is None or total > SMALL_RESULT:
            return None
        # The document's own name tokens (space-separated; the other party's column is empty).
        names = " || ".join(f"d.name_{party}" for party in _PARTIES)
        sql, params = plan.total._sql(f"docs_fts.rowid, d.id, {names}", with_ids=True)
        rows = conn.execute(f"{sql} LIMIT ?", [*params, SMALL_RESULT + 1]).fetchall()
        ranked = _rank(rows, " ".join(plan.name), query)
        return len(ranked), ranked[offset : offset + limit]


# Schema


def _discard_if_outdated(path: Path) -> None:
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
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _create_schema(conn: sqlite3.Connection) -> bool:
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
        conn.executemany("INSERT OR IGNORE INTO stats VALUES (?, 0)", [(str(p),) for p in _PARTIES])
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('api_format', ?)", (API_FORMAT,))
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return version == 0


# Writes


class _Prepared(NamedTuple):
    """A document ready for its docs row, but for its pk and place ids."""

    day: int  # publish_date.toordinal()
    id: str
    seq: int
    party: PartyType
    name: str  # FTS text
    bi: str  # FTS text
    tags: str  # FTS text, without the place tags
    api: bytes
    name_norm: str | None  # None: the same as the name
    court: str
    area: str


def _prepare(doc: IndexDoc) -> _Prepared:
    party = _PARTY_BY_VALUE.get(doc.party_type) or PartyType(doc.party_type)  # or ValueError
    if party is PartyType.PERSON and _FULL_ID_RE.fullmatch(doc.card_display or ""):
        # The caller's bug, but this index is public: refuse rather than publish an ID number.
        raise ValueError(f"document {doc.id} carries a full ID number; mask it before indexing")
    chars = _doc_name_tokens(doc)
    tags = [_exact_tag(chars), _party_tag(party)]
    if doc.card_key:
        tags.append(_card_key_tag(doc.card_key))
    if doc.card_display:
        tags.append(_card_display_tag(doc.card_display))
        if not doc.card_key:
            tags.append(_masked_only_tag(doc.card_display))
    if doc.case_code:
        tags.append(_case_code_tag(doc.case_code))
    return _Prepared(  # positional: a bulk load builds a million of these
        doc.publish_date.toordinal(),
        doc.id,
        doc.seq,
        party,
        " ".join(chars),
        " ".join(_pairs(chars)),
        " ".join(tags),
        orjson.dumps(doc.to_api(), option=orjson.OPT_NON_STR_KEYS),
        None if doc.name_norm == doc.name else doc.name_norm,
        doc.court_name or "",
        doc.area_name or "",
    )


def _with_places(
    conn: sqlite3.Connection, docs: Iterable[_Prepared], places: dict[tuple[str, str], int]
) -> dict[tuple[str, str], int]:
    """``places`` ((kind, text) -> id) with the courts and areas of ``docs`` added."""
    wanted = {(_COURT, d.court) for d in docs} | {(_AREA, d.area) for d in docs}
    missing = [key for key in wanted if key not in places]
    if not missing:
        return places
    conn.executemany(
        "INSERT OR IGNORE INTO places (kind, text, norm) VALUES (?,?,?)",
        [(kind, text, _place_norm(text)) for kind, text in missing],
    )
    places = dict(places)
    for pid, kind, text in conn.execute("SELECT id, kind, text FROM places"):
        places[(kind, text)] = pid
    return places


def _prepare_all(docs: Sequence[IndexDoc]) -> list[_Prepared]:
    return [_prepare(doc) for doc in docs]


def _doc_row(p: _Prepared, pk: int, places: dict[tuple[str, str], int]) -> tuple[Any, ...]:
    """The docs row, columns as in ``_DOC_COLUMNS``."""
    names = (p.name, p.bi, "", "") if p.party is PartyType.PERSON else ("", "", p.name, p.bi)
    court = _place_tag(places[(_COURT, p.court)], p.party)
    area = _place_tag(places[(_AREA, p.area)], p.party)
    tags = f"{p.tags} {court} {area}"
    party = str(p.party)
    return (pk, p.day << _PK_BITS | pk, p.id, p.seq, party, *names, tags, p.api, p.name_norm)


def _doc_name_tokens(doc: IndexDoc) -> list[str]:
    """``name_tokens(doc.name)``: the letters and digits of ``doc.name_norm``, which is
    ``normalize_name(doc.name)`` already. Skipping the second OpenCC pass saves a quarter of
    the Python time of a bulk load (test_index_sqlite checks the two agree)."""
    if not doc.name_norm:
        return name_tokens(doc.name)
    return [ch for ch in doc.name_norm if ch.isalnum()]


def _pairs(chars: Sequence[str]) -> list[str]:
    return [a + b for a, b in pairwise(chars)]


def _remove(conn: sqlite3.Connection, ids: list[str]) -> Counter[str]:
    """Delete the documents of ``ids`` that exist; returns how many per party type."""
    old = conn.execute(_SELECT_OLD, (_json_list(ids),)).fetchall()
    if old:
        conn.executemany(_DELETE_FTS, [row[2:] for row in old])
        conn.executemany("DELETE FROM docs WHERE pk = ?", [(row[0],) for row in old])
    return Counter(row[1] for row in old)


def _add_counts(conn: sqlite3.Connection, delta: Counter[str]) -> None:
    conn.executemany(_ADD_COUNT, [(n, str(party)) for party, n in delta.items() if n])


def _count(conn: sqlite3.Connection, parties: Iterable[str]) -> int:
    keys = _json_list([str(p) for p in parties])
    sql = "SELECT sum(value) FROM stats WHERE key IN (SELECT value FROM json_each(?))"
    return conn.execute(sql, (keys,)).fetchone()[0] or 0


def _place_norm(text: str) -> str:
    return "".join(name_tokens(normalize_place(text)))


# Tag tokens. unicode61 keeps a run of ASCII letters and digits as one token and folds case,
# so every token is lower-case alphanumeric, with a distinct first letter per kind of tag.


def _exact_tag(chars: Sequence[str]) -> str:
    """Length and first two characters. A name that starts with the query (the ``^`` phrase)
    and is as long is the query; the characters keep each doclist short. The token is
    unambiguous: the number of characters after the length follows from the length."""
    return f"x{len(chars)}{''.join(chars[:2])}"


def _party_tag(party: PartyType) -> str:
    return "t" + _PARTY_LETTER[party]


def _place_tag(place_id: int, party: PartyType) -> str:
    # With the party type: "persons in Beijing" is then one short doclist, not the
    # intersection of Beijing with the tag that most documents carry.
    return f"p{place_id}{_PARTY_LETTER[party]}"


def _card_key_tag(card_key: str) -> str:
    # Keyed hashes are lower-case hex already; anything else is hex-encoded so that equality
    # stays exact (no case folding, no punctuation splitting).
    if _LOWER_HEX_RE.fullmatch(card_key):
        return "k" + card_key
    return "j" + card_key.encode().hex()


def _card_key_of(tags: str) -> str | None:
    """The card key a document's ``tags`` text holds (the inverse of ``_card_key_tag``): it
    is stored there anyway, and nowhere else."""
    for tag in tags.split():
        if tag[0] == "k":
            return tag[1:]
        if tag[0] == "j":
            return bytes.fromhex(tag[1:]).decode()
    return None


# Identifier tokens are unique per document, so their length counts: the usual shapes keep
# their characters, anything else is hex-encoded (under another first letter) to stay exact.


def _card_display_tag(card_display: str) -> str:
    if masked := _MASKED_ID_RE.fullmatch(card_display):
        return "m" + masked[1] + masked[2]  # the stars are always the same four
    if _UPPER_ALNUM_RE.fullmatch(card_display):
        return "d" + card_display
    return "h" + card_display.encode().hex()


def _masked_only_tag(card_display: str) -> str:
    """The display tag once more, on entries published with a masked identifier only: what a
    full identifier's masked form may match (an entry with the full one on file matches by
    its key alone, so two people sharing a mask are not mixed up)."""
    return "u" + _card_display_tag(card_display)


def _case_code_tag(case_code: str) -> str:
    canonical = _CASE_CODE_RE.fullmatch(case_code)
    if canonical and case_code == case_code.upper():  # upper: no two differ only by case
        return "n" + canonical[1] + canonical[2]
    return "c" + case_code.encode().hex()


# Queries


@dataclass(frozen=True, slots=True)
class _Source:
    """One stream of matches in rid order: an FTS5 expression and an inclusive rid range.
    ``counted`` names the party types whose stats counter equals the unbounded count."""

    match: str
    lo: int = _RID_MIN
    hi: int = _RID_MAX
    counted: tuple[PartyType, ...] = ()
    split: tuple[str, ...] = ()  # disjoint expressions whose union is ``match``, for counting

    def within(self, lo: int, hi: int) -> _Source:
        return replace(self, lo=max(self.lo, lo), hi=min(self.hi, hi))

    def _sql(self, columns: str, with_ids: bool = False) -> tuple[str, list[Any]]:
        """SELECT ``columns`` over the matches; ``with_ids`` joins the docs row as ``d``."""
        join = f" JOIN docs d ON d.pk = (docs_fts.rowid & {_PK_MASK})" if with_ids else ""
        sql = (
            f"SELECT {columns} FROM docs_fts{join}"
            " WHERE docs_fts MATCH ? AND docs_fts.rowid BETWEEN ? AND ?"
        )
        return sql, [self.match, self.lo, self.hi]

    def count(self, conn: sqlite3.Connection) -> int:
        if self.lo > self.hi:
            return 0
        if self.counted and (self.lo, self.hi) == (_RID_MIN, _RID_MAX):
            return _count(conn, self.counted)
        if self.split:
            return sum(replace(self, match=part, split=()).count(conn) for part in self.split)
        sql, params = self._sql("count(*)")
        return conn.execute(sql, params).fetchone()[0]

    def rid_at(self, conn: sqlite3.Connection, offset: int) -> int | None:
        """The rid at ``offset`` in newest-first rid order."""
        if self.lo > self.hi:
            return None
        sql, params = self._sql("docs_fts.rowid")
        sql += " ORDER BY docs_fts.rowid DESC LIMIT 1 OFFSET ?"
        row = conn.execute(sql, [*params, offset]).fetchone()
        return row[0] if row else None

    def by_id(self, conn: sqlite3.Connection, limit: int, offset: int) -> list[int]:
        """rids ordered by id; used within one day, where the id breaks the date tie."""
        if self.lo > self.hi:
            return []
        sql, params = self._sql("docs_fts.rowid", with_ids=True)
        cur = conn.execute(f"{sql} ORDER BY d.id LIMIT ? OFFSET ?", [*params, limit, offset])
        return [row[0] for row in cur]


@dataclass(frozen=True, slots=True)
class _Plan:
    total: _Source  # every match, for the exact count
    tiers: list[_Source]  # disjoint, in relevance order, together the same as ``total``
    name: list[str] | None = None  # the name's tokens
    parties: tuple[PartyType, ...] = _PARTIES
    filters: tuple[str, ...] = ()  # FTS5 expressions of everything but the name
    lo: int = _RID_MIN
    hi: int = _RID_MAX


def _plan(conn: sqlite3.Connection, query: SearchQuery) -> _Plan | None:
    """The sources of a query; None when some criterion matches nothing."""
    parties = (PartyType(query.party_type),) if query.party_type else _PARTIES
    found = _filters(conn, query, parties)
    if found is None:
        return None
    alternatives, places = found
    filters = [_any_tag(tags) for tags in alternatives]
    # Counting through an OR of hundreds of place tags costs a comparison per tag and match;
    # a document has one court and one area, so the count is the sum of per-tag counts.
    widest = max(range(places), key=lambda i: len(alternatives[i]), default=None)
    if widest is not None and len(alternatives[widest]) <= _SPLIT_OVER:
        widest = None
    lo, hi = _date_bounds(query)

    def source(*exprs: str) -> _Source:
        parts = [*exprs, *filters]
        if not parts:  # no criteria at all: every document
            return _Source(_any_tag([_party_tag(p) for p in parties]), lo, hi, counted=parties)
        split: tuple[str, ...] = ()
        if widest is not None:
            split = tuple(
                _all_of([*exprs, *filters[:widest], _any_tag([tag]), *filters[widest + 1 :]])
                for tag in alternatives[widest]
            )
        return _Source(_all_of(parts), lo, hi, split=split)

    if not query.name:
        if query.party_type and not filters:  # only the party type: say it with a tag
            only = _Source(_any_tag([_party_tag(parties[0])]), lo, hi, counted=parties)
            return _Plan(only, [only])
        everything = source()
        return _Plan(everything, [everything])
    tokens = name_tokens(query.name)
    if not tokens:
        return None  # only punctuation: no name contains that
    named: dict[str, Any] = {
        "name": tokens,
        "parties": parties,
        "filters": tuple(filters),
        "lo": lo,
        "hi": hi,
    }
    kind, units = ("name", tokens) if len(tokens) == 1 else ("bi", _pairs(tokens))
    columns = "{" + " ".join(f"{kind}_{party}" for party in parties) + "}"
    contains = f"{columns} : {_phrase(units)}"
    starts = f"{columns} : ^ {_phrase(units)}"
    exact = f"tags : {_phrase([_exact_tag(tokens)])}"
    if query.name_exact:
        only = source(f"({starts}) AND ({exact})")
        return _Plan(only, [only], **named)
    if query.sort is Sort.PUBLISH_DATE:
        everything = source(contains)
        return _Plan(everything, [everything], **named)
    tiers = [
        source(f"({starts}) AND ({exact})"),
        source(f"({starts}) NOT ({exact})"),
        source(f"({contains}) NOT ({starts})"),
    ]
    return _Plan(source(contains), tiers, **named)


def _all_of(exprs: Sequence[str]) -> str:
    return " AND ".join(f"({expr})" for expr in exprs)


def _any_tag(tags: Sequence[str]) -> str:
    return "tags : (" + " OR ".join(_phrase([tag]) for tag in tags) + ")"


def _filters(
    conn: sqlite3.Connection, query: SearchQuery, parties: tuple[PartyType, ...]
) -> tuple[list[list[str]], int] | None:
    """Everything but the name, as lists of ``tags`` tokens (any one of a list, all lists),
    and how many of the first lists are places; None when one of them cannot match. The party
    type is left to the name columns or the place tags when either is there."""
    alternatives: list[list[str]] = []
    for kind, text in ((_COURT, query.court), (_AREA, query.region)):
        if text:
            ids = _places_containing(conn, kind, text)
            if ids is not None:  # None: every place matches, no restriction
                alternatives.append([_place_tag(i, p) for i in ids for p in parties])
    places = len(alternatives)
    card: list[str] = []
    if query.card_key:
        card.append(_card_key_tag(query.card_key))
    if query.card_display:
        card.append(_card_display_tag(query.card_display))
    if query.card_masked:
        card.append(_masked_only_tag(query.card_masked))
    if card:
        alternatives.append(card)  # both given: either one identifies the party
    if query.case_code:
        alternatives.append([_case_code_tag(query.case_code)])
    if query.party_type and alternatives and not query.name and not places:
        alternatives.append([_party_tag(parties[0])])  # with identifiers: a short AND
    if any(not tags for tags in alternatives):
        return None
    return alternatives, places


def _places_containing(conn: sqlite3.Connection, kind: str, text: str) -> list[int] | None:
    """Ids of the places whose name contains ``text`` (empty: none); None when all do."""
    needle = _place_norm(text)
    if not needle:
        return []  # only punctuation: no place contains that
    rows = conn.execute(
        "SELECT id, instr(norm, ?) > 0 FROM places WHERE kind = ?", (needle, kind)
    ).fetchall()
    ids = [pid for pid, hit in rows if hit]
    return None if ids and len(ids) == len(rows) else ids


def _date_bounds(query: SearchQuery) -> tuple[int, int]:
    lo, hi = _RID_MIN, _RID_MAX
    if query.published_from:
        lo = query.published_from.toordinal() << _PK_BITS
    if query.published_to:
        hi = (query.published_to.toordinal() << _PK_BITS) | _PK_MASK
    return lo, hi


def _phrase(tokens: Sequence[str]) -> str:
    """An FTS5 phrase of the tokens, each quoted so that no query syntax survives."""
    return " + ".join('"' + token.replace('"', '""') + '"' for token in tokens)


def _page(conn: sqlite3.Connection, tiers: list[_Source], offset: int, limit: int) -> list[int]:
    """rids of the page: tiers one after another, each newest first with ties by id."""
    rids: list[int] = []
    for tier in tiers:
        if len(rids) >= limit:
            break
        taken = _take(conn, tier, offset, limit - len(rids))
        if taken is None:
            offset -= tier.count(conn)  # the page starts beyond this tier
            continue
        rids += taken
        offset = 0
    return rids


def _take(conn: sqlite3.Connection, src: _Source, offset: int, limit: int) -> list[int] | None:
    """``limit`` rids of ``src`` from ``offset`` in (publish date desc, id) order; None when
    ``offset`` lies beyond the last match.

    Rid order is date order, so only the order inside a day needs ids: the days where the page
    starts and ends are sorted by id in SQL, the days in between come whole in rid order."""
    rids: list[int] = []
    upper = src.hi
    if offset:
        first = src.rid_at(conn, offset)
        if first is None:
            return None
        day = first >> _PK_BITS
        newer = src.within((day + 1) << _PK_BITS, _RID_MAX).count(conn)
        rids += _day(src, day).by_id(conn, limit, offset - newer)
        upper = (day << _PK_BITS) - 1
    if len(rids) < limit:
        rids += _newest(conn, src.within(_RID_MIN, upper), limit - len(rids))
    return rids


def _newest(conn: sqlite3.Connection, src: _Source, limit: int) -> list[int]:
    """The first ``limit`` rids of ``src`` in (publish date desc, id) order, from one pass
    newest first that reads on until the day of the last one is complete (a second pass to
    sort that day by id cost a third of a common name's search)."""
    if src.lo > src.hi:
        return []
    sql, params = src._sql("docs_fts.rowid, d.id", with_ids=True)
    cur = conn.execute(f"{sql} ORDER BY docs_fts.rowid DESC", params)
    rows: list[tuple[int, str]] = []
    try:
        for row in cur:
            if len(rows) >= limit and row[0] >> _PK_BITS != rows[limit - 1][0] >> _PK_BITS:
                break
            rows.append(row)
    finally:
        cur.close()
    rows.sort(key=lambda row: (-(row[0] >> _PK_BITS), row[1]))
    return [row[0] for row in rows[:limit]]


def _day(src: _Source, day: int) -> _Source:
    return src.within(day << _PK_BITS, (day << _PK_BITS) | _PK_MASK)


# (api, seq, name_norm, tags): a document as stored, columns as in _DOC_BODY.
_Body = tuple[bytes, int, str | None, str]


def _bodies(conn: sqlite3.Connection, rids: list[int]) -> list[_Body]:
    """The stored body of each of ``rids``, in that order."""
    if not rids:
        return []
    cur = conn.execute(
        f"SELECT pk, {_DOC_BODY} FROM docs WHERE pk IN (SELECT value FROM json_each(?))",
        (_json_list([rid & _PK_MASK for rid in rids]),),
    )
    rows = {row[0]: row[1:] for row in cur}
    return [rows[rid & _PK_MASK] for rid in rids]


def _rank(rows: Iterable[tuple[int, str, str]], wanted: str, query: SearchQuery) -> list[int]:
    """rids of the (rid, id, name tokens) rows whose name contains ``wanted`` (tokens joined
    by spaces, like the rows'), in the order of ``query``: relevance tier (exact name,
    starts with, the rest), then newest first, then by id."""
    relevance = query.sort is Sort.RELEVANCE or query.name_exact
    keys = []
    for rid, entry_id, chars in rows:
        if chars == wanted:
            tier = 0
        elif query.name_exact or f" {wanted} " not in f" {chars} ":
            continue
        else:
            tier = 1 if chars.startswith(wanted + " ") else 2
        keys.append((tier if relevance else 0, -(rid >> _PK_BITS), entry_id, rid))
    keys.sort()
    return [key[3] for key in keys]


def _count_up_to(conn: sqlite3.Connection, pair: str, most: int) -> int:
    """Documents whose name holds ``pair``, counted up to ``most``."""
    columns = "{" + " ".join(f"bi_{party}" for party in _PARTIES) + "}"
    sql = "SELECT count(*) FROM (SELECT 1 FROM docs_fts WHERE docs_fts MATCH ? LIMIT ?)"
    return conn.execute(sql, (f"{columns} : {_phrase([pair])}", most)).fetchone()[0]


class _LazyDocs(Sequence[IndexDoc]):
    """The documents of a page, decoded when first asked for: the API and the HTML page
    need their stored JSON only."""

    def __init__(self, bodies: list[_Body]) -> None:
        self._bodies = bodies
        self._docs: list[IndexDoc] | None = None

    def _all(self) -> list[IndexDoc]:
        if self._docs is None:
            self._docs = [_doc(body) for body in self._bodies]
        return self._docs

    def __len__(self) -> int:
        return len(self._bodies)

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        return self._all()[index]

    def __iter__(self) -> Iterator[IndexDoc]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        return list(self) == other if isinstance(other, Sequence) else NotImplemented


# Encoding


def _doc(body: _Body) -> IndexDoc:
    api, seq, name_norm, tags = body
    item = orjson.loads(api)
    return IndexDoc.from_api(
        item,
        seq=seq,
        name_norm=item["iname"] if name_norm is None else name_norm,
        card_key=_card_key_of(tags),
    )


def _json_list(values: Sequence[Any]) -> str:
    return orjson.dumps(list(values)).decode()


# Checkpoints


class _Checkpointer:
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
