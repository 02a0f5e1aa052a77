"""Documents on their way into the ``docs`` table and out of it.

In: ``prepare_all`` turns index documents into rows but for their pk and place ids (the part
a worker thread does while FTS5 indexes the previous chunk), ``with_places`` allocates the
place ids and ``doc_row`` completes the row. A person document whose display form is a full
ID number is refused. Out: ``bodies`` reads the stored JSON of a page, and ``LazyDocs``
decodes it into documents only when asked.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import orjson

from search_index.index.sqlite.schema import (
    AREA,
    COURT,
    DELETE_FTS,
    DOC_BODY,
    PARTIES,
    PK_BITS,
    PK_MASK,
    SELECT_OLD,
    json_list,
)
from search_index.index.sqlite.tokens import (
    card_display_tag,
    card_key_of,
    card_key_tag,
    case_code_tag,
    doc_name_tokens,
    exact_tag,
    masked_only_tag,
    name_pairs,
    party_tag,
    place_tag,
    representative_tag,
)
from search_index.normalize import name_key, place_key
from search_index.types import IndexDoc, PartyType

_PARTY_BY_VALUE: dict[str, PartyType] = {str(party): party for party in PARTIES}
# A person's identifier in full (17 digits and a check character) must never be stored.
_FULL_ID_RE = re.compile(r"[0-9]{17}[0-9Xx]")

# (api, seq, name_norm, tags): a document as stored, columns as in DOC_BODY.
Body = tuple[bytes, int, str | None, str]


class Prepared(NamedTuple):
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


def _prepare(doc: IndexDoc) -> Prepared:
    party = _PARTY_BY_VALUE.get(doc.party_type) or PartyType(doc.party_type)  # or ValueError
    if party is PartyType.PERSON and _FULL_ID_RE.fullmatch(doc.card_display or ""):
        # The caller's bug, but this index is public: refuse rather than publish an ID number.
        raise ValueError(f"document {doc.id} carries a full ID number; mask it before indexing")
    chars = doc_name_tokens(doc)
    tags = [exact_tag(chars), party_tag(party)]
    if doc.card_key:
        tags.append(card_key_tag(doc.card_key))
    if doc.card_display:
        tags.append(card_display_tag(doc.card_display))
        if not doc.card_key:
            tags.append(masked_only_tag(doc.card_display))
    if doc.case_code:
        tags.append(case_code_tag(doc.case_code))
    representative = doc.fields.get("businessEntity")
    if party is PartyType.ORG and isinstance(representative, str) and name_key(representative):
        tags.append(representative_tag(name_key(representative)))
    return Prepared(  # positional: a bulk load builds a million of these
        doc.publish_date.toordinal(),
        doc.id,
        doc.seq,
        party,
        " ".join(chars),
        " ".join(name_pairs(chars)),
        " ".join(tags),
        orjson.dumps(doc.to_api(), option=orjson.OPT_NON_STR_KEYS),
        None if doc.name_norm == doc.name else doc.name_norm,
        doc.court_name or "",
        doc.area_name or "",
    )


def with_places(
    conn: sqlite3.Connection, docs: Iterable[Prepared], places: dict[tuple[str, str], int]
) -> dict[tuple[str, str], int]:
    """``places`` ((kind, text) -> id) with the courts and areas of ``docs`` added."""
    wanted = {(COURT, d.court) for d in docs} | {(AREA, d.area) for d in docs}
    missing = [key for key in wanted if key not in places]
    if not missing:
        return places
    conn.executemany(
        "INSERT OR IGNORE INTO places (kind, text, norm) VALUES (?,?,?)",
        [(kind, text, place_key(text)) for kind, text in missing],
    )
    places = dict(places)
    for pid, kind, text in conn.execute("SELECT id, kind, text FROM places"):
        places[(kind, text)] = pid
    return places


def prepare_all(docs: Sequence[IndexDoc]) -> list[Prepared]:
    return [_prepare(doc) for doc in docs]


def doc_row(p: Prepared, pk: int, places: dict[tuple[str, str], int]) -> tuple[Any, ...]:
    """The docs row, columns as in ``schema.INSERT_DOC``."""
    names = (p.name, p.bi, "", "") if p.party is PartyType.PERSON else ("", "", p.name, p.bi)
    court = place_tag(places[(COURT, p.court)], p.party)
    area = place_tag(places[(AREA, p.area)], p.party)
    tags = f"{p.tags} {court} {area}"
    party = str(p.party)
    return (pk, p.day << PK_BITS | pk, p.id, p.seq, party, *names, tags, p.api, p.name_norm)


def remove_docs(conn: sqlite3.Connection, ids: list[str]) -> Counter[str]:
    """Delete the documents of ``ids`` that exist; returns how many per party type."""
    old = conn.execute(SELECT_OLD, (json_list(ids),)).fetchall()
    if old:
        conn.executemany(DELETE_FTS, [row[2:] for row in old])
        conn.executemany("DELETE FROM docs WHERE pk = ?", [(row[0],) for row in old])
    return Counter(row[1] for row in old)


def bodies(conn: sqlite3.Connection, rids: list[int]) -> list[Body]:
    """The stored body of each of ``rids``, in that order."""
    rows = {row[0]: row[1:] for row in _by_rid(conn, DOC_BODY, rids)}
    return [rows[rid & PK_MASK] for rid in rids]


def api_items(conn: sqlite3.Connection, rids: list[int]) -> list[dict[str, Any]]:
    """The public JSON of each of ``rids``, in that order: the stored column alone, for
    callers that show a few fields and need no document."""
    rows = dict(_by_rid(conn, "api", rids))
    return [orjson.loads(rows[rid & PK_MASK]) for rid in rids]


def _by_rid(conn: sqlite3.Connection, columns: str, rids: list[int]) -> list[tuple[Any, ...]]:
    """(pk, *columns) of the docs of ``rids``, in no particular order."""
    if not rids:
        return []
    return conn.execute(
        f"SELECT pk, {columns} FROM docs WHERE pk IN (SELECT value FROM json_each(?))",
        (json_list([rid & PK_MASK for rid in rids]),),
    ).fetchall()


class LazyDocs(Sequence[IndexDoc]):
    """The documents of a page, decoded when first asked for: the API and the HTML page
    need their stored JSON only."""

    def __init__(self, bodies: list[Body]) -> None:
        self._bodies = bodies
        self._docs: list[IndexDoc] | None = None

    def _all(self) -> list[IndexDoc]:
        if self._docs is None:
            self._docs = [decode(body) for body in self._bodies]
        return self._docs

    def __len__(self) -> int:
        return len(self._bodies)

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        return self._all()[index]

    def __iter__(self) -> Iterator[IndexDoc]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        return list(self) == other if isinstance(other, Sequence) else NotImplemented


def decode(body: Body) -> IndexDoc:
    api, seq, name_norm, tags = body
    item = orjson.loads(api)
    return IndexDoc.from_api(
        item,
        seq=seq,
        name_norm=item["iname"] if name_norm is None else name_norm,
        card_key=card_key_of(tags),
    )
