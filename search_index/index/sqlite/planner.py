"""Query plans: a search as FTS5 match expressions over rid ranges.

A plan has the source of every match (for the exact count) and its relevance tiers (exact
name, starts with, the rest), disjoint and in order. Courts and areas become the ids of the
places whose name contains the query's, ORed as ``tags`` tokens; a criterion that no place
or token can match makes no plan at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from search_index.index.sqlite.schema import (
    AREA,
    COURT,
    PARTIES,
    PK_BITS,
    PK_MASK,
    RID_MAX,
    RID_MIN,
    stats_count,
)
from search_index.index.sqlite.tokens import (
    card_display_tag,
    card_key_tag,
    case_code_tag,
    exact_tag,
    masked_only_tag,
    name_pairs,
    party_tag,
    place_tag,
    representative_tag,
)
from search_index.types import PartyType, SearchQuery, Sort

_SPLIT_OVER = 16  # place tags in one OR beyond which counts go tag by tag


@dataclass(frozen=True, slots=True)
class Source:
    """One stream of matches in rid order: an FTS5 expression and an inclusive rid range.
    ``counted`` names the party types whose stats counter equals the unbounded count."""

    match: str
    lo: int = RID_MIN
    hi: int = RID_MAX
    counted: tuple[PartyType, ...] = ()
    split: tuple[str, ...] = ()  # disjoint expressions whose union is ``match``, for counting

    def within(self, lo: int, hi: int) -> Source:
        return replace(self, lo=max(self.lo, lo), hi=min(self.hi, hi))

    def sql(self, columns: str, with_ids: bool = False) -> tuple[str, list[Any]]:
        """SELECT ``columns`` over the matches; ``with_ids`` joins the docs row as ``d``."""
        join = f" JOIN docs d ON d.pk = (docs_fts.rowid & {PK_MASK})" if with_ids else ""
        sql = (
            f"SELECT {columns} FROM docs_fts{join}"
            " WHERE docs_fts MATCH ? AND docs_fts.rowid BETWEEN ? AND ?"
        )
        return sql, [self.match, self.lo, self.hi]

    def count(self, conn: sqlite3.Connection) -> int:
        if self.lo > self.hi:
            return 0
        if self.counted and (self.lo, self.hi) == (RID_MIN, RID_MAX):
            return stats_count(conn, self.counted)
        if self.split:
            return sum(replace(self, match=part, split=()).count(conn) for part in self.split)
        sql, params = self.sql("count(*)")
        return conn.execute(sql, params).fetchone()[0]

    def rid_at(self, conn: sqlite3.Connection, offset: int) -> int | None:
        """The rid at ``offset`` in newest-first rid order."""
        if self.lo > self.hi:
            return None
        sql, params = self.sql("docs_fts.rowid")
        sql += " ORDER BY docs_fts.rowid DESC LIMIT 1 OFFSET ?"
        row = conn.execute(sql, [*params, offset]).fetchone()
        return row[0] if row else None

    def by_id(self, conn: sqlite3.Connection, limit: int, offset: int) -> list[int]:
        """rids ordered by id; used within one day, where the id breaks the date tie."""
        if self.lo > self.hi:
            return []
        sql, params = self.sql("docs_fts.rowid", with_ids=True)
        cur = conn.execute(f"{sql} ORDER BY d.id LIMIT ? OFFSET ?", [*params, limit, offset])
        return [row[0] for row in cur]


@dataclass(frozen=True, slots=True)
class Plan:
    total: Source  # every match, for the exact count
    tiers: list[Source]  # disjoint, in relevance order, together the same as ``total``
    name: tuple[str, ...] | None = None  # the name's tokens
    parties: tuple[PartyType, ...] = PARTIES
    filters: tuple[str, ...] = ()  # FTS5 expressions of everything but the name
    lo: int = RID_MIN
    hi: int = RID_MAX


def plan_query(conn: sqlite3.Connection, query: SearchQuery) -> Plan | None:
    """The sources of a query; None when some criterion matches nothing."""
    parties = (PartyType(query.party_type),) if query.party_type else PARTIES
    found = _filters(conn, query, parties)
    if found is None:
        return None
    alternatives, places = found
    filters = [any_tag(tags) for tags in alternatives]
    # Counting through an OR of hundreds of place tags costs a comparison per tag and match;
    # a document has one court and one area, so the count is the sum of per-tag counts.
    widest = max(range(places), key=lambda i: len(alternatives[i]), default=None)
    if widest is not None and len(alternatives[widest]) <= _SPLIT_OVER:
        widest = None
    lo, hi = _date_bounds(query)

    def source(*exprs: str) -> Source:
        parts = [*exprs, *filters]
        if not parts:  # no criteria at all: every document
            return Source(any_tag([party_tag(p) for p in parties]), lo, hi, counted=parties)
        split: tuple[str, ...] = ()
        if widest is not None:
            split = tuple(
                all_of([*exprs, *filters[:widest], any_tag([tag]), *filters[widest + 1 :]])
                for tag in alternatives[widest]
            )
        return Source(all_of(parts), lo, hi, split=split)

    tokens = query.name_tokens
    if tokens is None:
        if query.party_type and not filters:  # only the party type: say it with a tag
            only = Source(any_tag([party_tag(parties[0])]), lo, hi, counted=parties)
            return Plan(only, [only])
        everything = source()
        return Plan(everything, [everything])
    if not tokens:
        return None  # only punctuation: no name contains that
    named: dict[str, Any] = {
        "name": tokens,
        "parties": parties,
        "filters": tuple(filters),
        "lo": lo,
        "hi": hi,
    }
    kind, units = ("name", tokens) if len(tokens) == 1 else ("bi", name_pairs(tokens))
    columns = "{" + " ".join(f"{kind}_{party}" for party in parties) + "}"
    contains = f"{columns} : {phrase(units)}"
    starts = f"{columns} : ^ {phrase(units)}"
    exact = f"tags : {phrase([exact_tag(tokens)])}"
    if query.name_exact:
        only = source(f"({starts}) AND ({exact})")
        return Plan(only, [only], **named)
    if query.sort is Sort.PUBLISH_DATE:
        everything = source(contains)
        return Plan(everything, [everything], **named)
    tiers = [
        source(f"({starts}) AND ({exact})"),
        source(f"({starts}) NOT ({exact})"),
        source(f"({contains}) NOT ({starts})"),
    ]
    return Plan(source(contains), tiers, **named)


def all_of(exprs: Sequence[str]) -> str:
    return " AND ".join(f"({expr})" for expr in exprs)


def any_tag(tags: Sequence[str]) -> str:
    return "tags : (" + " OR ".join(phrase([tag]) for tag in tags) + ")"


def _filters(
    conn: sqlite3.Connection, query: SearchQuery, parties: tuple[PartyType, ...]
) -> tuple[list[list[str]], int] | None:
    """Everything but the name, as lists of ``tags`` tokens (any one of a list, all lists),
    and how many of the first lists are places; None when one of them cannot match. The party
    type is left to the name columns or the place tags when either is there."""
    alternatives: list[list[str]] = []
    for kind, text in ((COURT, query.court), (AREA, query.region)):
        if text is not None:
            ids = _places_containing(conn, kind, text)
            if ids is not None:  # None: every place matches, no restriction
                alternatives.append([place_tag(i, p) for i in ids for p in parties])
    places = len(alternatives)
    card: list[str] = []
    if query.card_key:
        card.append(card_key_tag(query.card_key))
    if query.card_display:
        card.append(card_display_tag(query.card_display))
    if query.card_masked:
        card.append(masked_only_tag(query.card_masked))
    if card:
        alternatives.append(card)  # both given: either one identifies the party
    if query.case_code:
        alternatives.append([case_code_tag(query.case_code)])
    if query.representative is not None:  # "": no letter or digit, no representative has it
        key = query.representative
        alternatives.append([representative_tag(key)] if key else [])
    if query.party_type and alternatives and query.name_tokens is None and not places:
        alternatives.append([party_tag(parties[0])])  # with identifiers: a short AND
    if any(not tags for tags in alternatives):
        return None
    return alternatives, places


def _places_containing(conn: sqlite3.Connection, kind: str, needle: str) -> list[int] | None:
    """Ids of the places whose normalized name contains ``needle`` (the query's, normalized
    already; empty: none); None when all do."""
    if not needle:
        return []  # only punctuation: no place contains that
    rows = conn.execute(
        "SELECT id, instr(norm, ?) > 0 FROM places WHERE kind = ?", (needle, kind)
    ).fetchall()
    ids = [pid for pid, hit in rows if hit]
    return None if ids and len(ids) == len(rows) else ids


def _date_bounds(query: SearchQuery) -> tuple[int, int]:
    lo, hi = RID_MIN, RID_MAX
    if query.published_from:
        lo = query.published_from.toordinal() << PK_BITS
    if query.published_to:
        hi = (query.published_to.toordinal() << PK_BITS) | PK_MASK
    return lo, hi


def phrase(tokens: Sequence[str]) -> str:
    """An FTS5 phrase of the tokens, each quoted so that no query syntax survives."""
    return " + ".join('"' + token.replace('"', '""') + '"' for token in tokens)


def count_up_to(conn: sqlite3.Connection, pair: str, most: int) -> int:
    """Documents whose name holds ``pair``, counted up to ``most``."""
    columns = "{" + " ".join(f"bi_{party}" for party in PARTIES) + "}"
    sql = "SELECT count(*) FROM (SELECT 1 FROM docs_fts WHERE docs_fts MATCH ? LIMIT ?)"
    return conn.execute(sql, (f"{columns} : {phrase([pair])}", most)).fetchone()[0]
