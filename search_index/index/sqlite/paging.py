"""One page of a plan's matches, in (publish date desc, id) order.

Rid order is date order, so a page walks FTS5 matches newest first and stops after one
page; only the days where a page starts and ends are sorted by id. ``rank`` orders a few
candidates in Python instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from search_index.index.sqlite.planner import Source
from search_index.index.sqlite.schema import PK_BITS, PK_MASK, RID_MAX, RID_MIN
from search_index.types import SearchQuery, Sort


def page_rids(conn: sqlite3.Connection, tiers: list[Source], offset: int, limit: int) -> list[int]:
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


def _take(conn: sqlite3.Connection, src: Source, offset: int, limit: int) -> list[int] | None:
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
        day = first >> PK_BITS
        newer = src.within((day + 1) << PK_BITS, RID_MAX).count(conn)
        rids += _day(src, day).by_id(conn, limit, offset - newer)
        upper = (day << PK_BITS) - 1
    if len(rids) < limit:
        rids += _newest(conn, src.within(RID_MIN, upper), limit - len(rids))
    return rids


def _newest(conn: sqlite3.Connection, src: Source, limit: int) -> list[int]:
    """The first ``limit`` rids of ``src`` in (publish date desc, id) order, from one pass
    newest first that reads on until the day of the last one is complete (a second pass to
    sort that day by id cost a third of a common name's search)."""
    if src.lo > src.hi:
        return []
    sql, params = src.sql("docs_fts.rowid, d.id", with_ids=True)
    cur = conn.execute(f"{sql} ORDER BY docs_fts.rowid DESC", params)
    rows: list[tuple[int, str]] = []
    try:
        for row in cur:
            if len(rows) >= limit and row[0] >> PK_BITS != rows[limit - 1][0] >> PK_BITS:
                break
            rows.append(row)
    finally:
        cur.close()
    rows.sort(key=lambda row: (-(row[0] >> PK_BITS), row[1]))
    return [row[0] for row in rows[:limit]]


def _day(src: Source, day: int) -> Source:
    return src.within(day << PK_BITS, (day << PK_BITS) | PK_MASK)


def rank(rows: Iterable[tuple[int, str, str]], wanted: str, query: SearchQuery) -> list[int]:
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
        keys.append((tier if relevance else 0, -(rid >> PK_BITS), entry_id, rid))
    keys.sort()
    return [key[3] for key in keys]
