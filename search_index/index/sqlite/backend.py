"""``SqliteFtsIndex``: the embedded index backend, on the parts of this package.

Writes go in chunks: while FTS5 indexes one (a single statement, without the GIL) a worker
thread prepares the next. A search plans its query (``planner``), then answers it the
cheapest way it can: a name of several characters by its rarest character pairs and a check
of the few candidates in Python; a name with few matches from one MATCH sorted in Python;
anything else tier by tier in SQL (``paging``). ``SMALL_RESULT``, ``CANDIDATES`` and
``PAIR_SAMPLE`` bound the first two.

A rebuild fills a new file beside the live one (``begin_rebuild``: the live file's name plus
a generation stamp) and swaps it in by pointing the live path, then a symbolic link, at it
(``swap_in``: one atomic rename). The files are never renamed themselves: SQLite names the
``-wal`` and ``-shm`` files after the database file, and a connection still open on the old
file in another process must not share them with the new one. Every process's pool notices
the new target before its next query (``connection.ConnectionPool.notice_swap``).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from search_index.index.sqlite.connection import CACHE_KIB, ConnectionPool
from search_index.index.sqlite.documents import (
    Body,
    LazyDocs,
    api_items,
    bodies,
    decode,
    doc_row,
    prepare_all,
    remove_docs,
    with_places,
)
from search_index.index.sqlite.paging import page_rids, rank
from search_index.index.sqlite.planner import (
    Plan,
    Source,
    all_of,
    any_tag,
    count_up_to,
    phrase,
    plan_query,
)
from search_index.index.sqlite.schema import (
    DOC_BODY,
    INSERT_DOC,
    INSERT_FTS,
    PARTIES,
    PK_MASK,
    add_counts,
    create_schema,
    discard_if_outdated,
    json_list,
    stats_count,
)
from search_index.index.sqlite.tokens import name_pairs, representative_tag
from search_index.types import IndexDoc, SearchPage, SearchQuery

__all__ = ["SqliteFtsIndex"]

log = logging.getLogger(__name__)

SMALL_RESULT = 100  # name queries with at most this many matches are ranked in Python
CANDIDATES = 100  # most documents a name's rare pairs may find to be checked in Python
PAIR_SAMPLE = 1000  # pairs in at least this many documents are never looked up alone
PAIR_CACHE = 200_000  # pair document counts kept (a few MB)
_ITER_CHUNK = 5000
_CHUNK = 1000  # documents per insert statement in upsert
_GENERATION = r"\.\d{14}-[0-9a-f]{6}"  # what begin_rebuild appends to the live file's name
_SIDE_FILES = ("", "-wal", "-shm", "-journal")


class SqliteFtsIndex:
    """IndexBackend on an SQLite file of its own. Thread-safe: each call borrows a connection
    from a small pool; writes are serialized, and WAL lets reads proceed during a write."""

    name = "sqlite"

    def __init__(self, path: Path, *, cache_mib: int | None = None) -> None:
        """``cache_mib``: each connection's page cache, for the process that fills the
        index beside a bulk import (``connection.CACHE_KIB`` otherwise)."""
        self.path = Path(path)
        cache_kib = CACHE_KIB if cache_mib is None else cache_mib * 1024
        self._pool = ConnectionPool(self.path, on_swap=self._forget, cache_kib=cache_kib)
        # (kind, text) -> places.id; ids never change once committed, so this never goes stale
        self._places: dict[tuple[str, str], int] = {}
        self._pair_counts: dict[str, int] = {}  # pair -> documents holding it, up to PAIR_SAMPLE
        self._preparer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-fts-prepare")
        discard_if_outdated(self.path)
        with self._pool.connection() as conn:
            self.fresh = create_schema(conn)

    def close(self) -> None:
        self._preparer.shutdown()
        self._pool.close()

    def _forget(self) -> None:
        """Another file is in place: place ids and pair counts were the old file's."""
        self._places = {}
        self._pair_counts = {}

    # Rebuilds

    def begin_rebuild(self) -> SqliteFtsIndex:
        """A new, empty index file beside this one (left by no earlier rebuild)."""
        self._remove_stale_generations()
        stamp = f"{datetime.now():%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
        return SqliteFtsIndex(self.path.with_name(f"{self.path.name}.{stamp}"))

    def swap_in(self, built: SqliteFtsIndex) -> None:
        """Serve ``built`` from now on, atomically, in every process; the old file goes."""
        built.close()  # the last connection checkpoints the WAL: the file stands alone
        if not built.path.exists() or built.path.parent != self.path.parent:
            raise RuntimeError(f"{built.path} is not a finished index beside {self.path}")
        old = Path(os.path.realpath(self.path))
        link = self.path.with_name(f".{self.path.name}.swap-{secrets.token_hex(4)}")
        os.symlink(built.path.name, link)  # relative: the data directory may move
        os.replace(link, self.path)
        _sync_directory(self.path.parent)
        self._pool.notice_swap()
        log.info("swapped in the rebuilt index %s", built.path.name)
        if old == built.path:
            return
        # The old file is unlinked (replaced, or no longer linked to); connections still
        # open on it in other processes read on until they notice. Its side files are named
        # after it, and no other file: removing them touches no live index.
        for suffix in _SIDE_FILES[1:] if old == self.path else _SIDE_FILES:
            Path(f"{old}{suffix}").unlink(missing_ok=True)

    def abandon_rebuild(self, built: SqliteFtsIndex) -> None:
        built.close()
        if built.path != Path(os.path.realpath(self.path)):
            for suffix in _SIDE_FILES:
                Path(f"{built.path}{suffix}").unlink(missing_ok=True)

    def _remove_stale_generations(self) -> None:
        """Files of rebuilds that died before their swap, or old files a crash left behind
        after one (a rebuild runs under its lease, so none of them is being built)."""
        live = Path(os.path.realpath(self.path))
        pattern = re.compile(re.escape(self.path.name) + _GENERATION + "(-wal|-shm|-journal)?")
        for candidate in self.path.parent.iterdir():
            found = pattern.fullmatch(candidate.name)
            if found and candidate.name.removesuffix(found[1] or "") != live.name:
                log.warning("removing %s, left by an unfinished index rebuild", candidate)
                candidate.unlink(missing_ok=True)

    # Writes

    def upsert(self, docs: Sequence[IndexDoc]) -> None:
        latest = {doc.id: doc for doc in docs}  # a batch may repeat an id: the last one wins
        if not latest:
            return
        # By date, then pk: rids ascend, and FTS5 starts a new segment whenever they go down.
        ordered = sorted(latest.values(), key=lambda doc: doc.publish_date)
        chunks = [ordered[i : i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]
        prepared = prepare_all(chunks[0])
        with self._pool.write() as conn:
            places = self._places
            pk = conn.execute("SELECT max(pk) FROM docs").fetchone()[0] or 0
            added = Counter(doc.party_type for doc in ordered)
            added.subtract(remove_docs(conn, list(latest)))
            for following in [*chunks[1:], None]:
                places = with_places(conn, prepared, places)
                rows = [doc_row(p, n, places) for n, p in enumerate(prepared, start=pk + 1)]
                conn.executemany(INSERT_DOC, rows)
                # The FTS insert is one long statement that releases the GIL: the next chunk
                # is prepared meanwhile, on the other core. (Not during executemany, which
                # needs the GIL for every row.)
                future = None
                if following is not None:
                    future = self._preparer.submit(prepare_all, following)
                conn.execute(INSERT_FTS, (pk + 1, pk + len(rows)))
                pk += len(rows)
                prepared = future.result() if future else []
            add_counts(conn, added)
        self._places = places  # only now are new place ids committed

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            with self._pool.write() as conn:
                removed = remove_docs(conn, list(ids))
                add_counts(conn, Counter({party: -n for party, n in removed.items()}))

    def clear(self) -> None:
        with self._pool.write() as conn:
            conn.execute("INSERT INTO docs_fts (docs_fts) VALUES ('delete-all')")
            conn.execute("DELETE FROM docs")
            conn.execute("UPDATE stats SET value = 0")

    def optimize(self) -> None:
        """Merge the FTS5 segments into one: after a full rebuild (name searches get about
        twice as fast), and to purge the index entries of deleted documents, which FTS5 in
        SQLite 3.40 only marks as deleted until segments merge."""
        with self._pool.write() as conn:
            conn.execute("INSERT INTO docs_fts (docs_fts) VALUES ('optimize')")

    # Reads

    def present(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        with self._pool.connection() as conn:
            cur = conn.execute(
                "SELECT id FROM docs WHERE id IN (SELECT value FROM json_each(?))",
                (json_list(ids),),
            )
            return {row[0] for row in cur}

    def get(self, entry_id: str) -> IndexDoc | None:
        with self._pool.connection() as conn:
            row = conn.execute(f"SELECT {DOC_BODY} FROM docs WHERE id = ?", (entry_id,)).fetchone()
        return decode(row) if row else None

    def represented_by(self, names: Sequence[str], limit: int) -> dict[str, list[dict[str, Any]]]:
        # One exact tag per name: a short doclist walked newest first, a few dozen
        # microseconds each, so a page of a hundred names costs a few milliseconds.
        found: dict[str, list[dict[str, Any]]] = {}
        with self._pool.read() as conn:
            for name in dict.fromkeys(n for n in names if n):
                cur = conn.execute(
                    "SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
                    (any_tag([representative_tag(name)]), max(limit, 0)),
                )
                rids = [row[0] for row in cur]
                if rids:
                    found[name] = api_items(conn, rids)
        return found

    def iter_seqs(self) -> Iterator[tuple[str, int]]:
        # Keyset chunks on briefly borrowed connections: a half-consumed generator holds
        # neither a connection nor a read snapshot.
        after = ""
        while True:
            with self._pool.connection() as conn:
                chunk = conn.execute(
                    "SELECT id, seq FROM docs WHERE id > ? ORDER BY id LIMIT ?",
                    (after, _ITER_CHUNK),
                ).fetchall()
            yield from chunk
            if len(chunk) < _ITER_CHUNK:
                return
            after = chunk[-1][0]

    def count(self) -> int:
        with self._pool.connection() as conn:
            return stats_count(conn, PARTIES)

    def healthy(self) -> bool:
        try:
            with self._pool.connection() as conn:
                conn.execute("SELECT rowid FROM docs_fts WHERE docs_fts MATCH 'x' LIMIT 1")
        except (sqlite3.Error, RuntimeError):
            return False
        return True

    def search(self, query: SearchQuery) -> SearchPage:
        offset, limit = max(query.offset, 0), max(query.per_page, 0)
        with self._pool.read() as conn:
            plan = plan_query(conn, query)
            if plan is None:
                return self._result(query, 0, [])
            found = self._by_rare_pairs(conn, plan, query, offset, limit)
            if found is None:
                total = plan.total.count(conn)
                found = self._small_result(conn, plan, query, total, offset, limit)
            if found is None:
                rids = page_rids(conn, plan.tiers, offset, limit) if offset < total else []
                found = total, rids
            total, rids = found
            return self._result(query, total, bodies(conn, rids))

    def _result(self, query: SearchQuery, total: int, rows: list[Body]) -> SearchPage:
        api = [row[0] for row in rows]
        return SearchPage(total, LazyDocs(rows), query.page, query.per_page, api_items=api)

    def _by_rare_pairs(
        self, conn: sqlite3.Connection, plan: Plan, query: SearchQuery, offset: int, limit: int
    ) -> tuple[int, list[int]] | None:
        """A name of several characters is looked up by its rarest character pairs only and
        the few candidates checked here. FTS5 steps through the doclist of every token of a
        phrase, and a company name has pairs (有限, 公司) in a quarter of all documents:
        the full phrase took a millisecond, the rare pairs some tens of microseconds.
        None: no pair rare enough, or too many candidates."""
        if plan.name is None or len(plan.name) < 2:
            return None
        pairs = self._rare_pairs(conn, name_pairs(plan.name))
        if not pairs:
            return None
        columns = "{" + " ".join(f"bi_{party}" for party in plan.parties) + "}"
        match = all_of([f"{columns} : ({' AND '.join(phrase([p]) for p in pairs)})", *plan.filters])
        sql, params = Source(match, plan.lo, plan.hi).sql("docs_fts.rowid")
        rids = [row[0] for row in conn.execute(f"{sql} LIMIT ?", [*params, CANDIDATES + 1])]
        if len(rids) > CANDIDATES:
            return None
        names = " || ".join(f"name_{party}" for party in PARTIES)
        cur = conn.execute(
            f"SELECT rid, id, {names} FROM docs WHERE pk IN (SELECT value FROM json_each(?))",
            (json_list([rid & PK_MASK for rid in rids]),),
        )
        ranked = rank(cur, " ".join(plan.name), query)
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
            counts[pair] = count_up_to(conn, pair, PAIR_SAMPLE)
        rare = sorted((counts[p], p) for p in distinct if counts[p] < PAIR_SAMPLE)
        if not rare or (len(rare) == len(distinct) and rare[0][0] > CANDIDATES):
            return []
        return [p for _, p in rare[:3]]

    def _small_result(
        self,
        conn: sqlite3.Connection,
        plan: Plan,
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
        names = " || ".join(f"d.name_{party}" for party in PARTIES)
        sql, params = plan.total.sql(f"docs_fts.rowid, d.id, {names}", with_ids=True)
        rows = conn.execute(f"{sql} LIMIT ?", [*params, SMALL_RESULT + 1]).fetchall()
        ranked = rank(rows, " ".join(plan.name), query)
        return len(ranked), ranked[offset : offset + limit]


def _sync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
