"""Matching queries against the public list, each match saying how it matched.

Three kinds, strongest first, each entry reported once under its strongest:

- ``identifier``: the entry's identifier is the query's, compared exactly (full numbers by
  their keyed hash, as the search compares them), never by similarity;
- ``name``: the entry's name equals the query's once both are normalized (script, width,
  spaces and punctuation do not count);
- ``partial``: the entry's name contains the query's.

A masked number stands for everyone sharing the mask (another birthday in the same year).
So when the comparison could only be made masked (the court published the entry masked, or
the query is masked), the entry counts as an ``identifier`` match only if its name is also
exactly the query's, and the match says ``masked_identifier``; otherwise the name alone
decides. An entry whose identifier differs is still reported when its name matches: the
caller sees from the kind that only the name did.

Everything goes through ``ListService.search``, so the index backends, the normalization
and the rule that only public entries are ever served are the search's own: a removed or
never-public entry cannot be matched. A query costs one name search, plus one identifier
search when an identifier is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from screening.queries import MatchQuery
from search_index.normalize import name_tokens
from search_index.service import ListService
from search_index.types import IndexDoc

MAX_MATCHES = 20  # matches reported per query; `more` says when there were others


class MatchKind(StrEnum):
    IDENTIFIER = "identifier"
    NAME = "name"
    PARTIAL = "partial"


_STRENGTH = {MatchKind.IDENTIFIER: 0, MatchKind.NAME: 1, MatchKind.PARTIAL: 2}


@dataclass(frozen=True, slots=True)
class Match:
    kind: MatchKind
    entry: IndexDoc
    masked_identifier: bool = False  # identifier compared masked only, the name equal too

    def to_api(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "maskedIdentifier": self.masked_identifier,
            "entry": self.entry.to_api(),
        }


@dataclass(slots=True)
class MatchResult:
    query: MatchQuery
    matches: list[Match] = field(default_factory=list)
    more: bool = False  # more entries matched by name than are reported

    @property
    def best(self) -> MatchKind | None:
        return self.matches[0].kind if self.matches else None

    def to_api(self) -> dict[str, Any]:
        return {
            "ref": self.query.shown_ref,
            "name": self.query.shown_name,
            "cardNum": self.query.shown_card,
            "best": self.best.value if self.best else None,
            "matches": [m.to_api() for m in self.matches],
            "more": self.more,
        }


def match_many(lists: ListService, queries: Iterable[MatchQuery]) -> list[MatchResult]:
    """The result of each query, in the queries' order."""
    return [match_one(lists, query) for query in queries]


def match_one(lists: ListService, query: MatchQuery) -> MatchResult:
    found: dict[str, Match] = {}
    if query.card_hash:  # a stored full ID number: its hash, as the search hashes one
        by_card = list(lists.search_card_key(query.card_hash, query.card_masked, MAX_MATCHES).items)
    elif query.card:
        by_card = _search(lists, cardNum=query.card)
    else:
        by_card = []
    for doc in by_card:
        match = _by_identifier(query, doc)
        if match is not None:
            found[doc.id] = match
    params = {"q": query.name}
    if query.party:  # an ID number names a person, a code an organization
        params["partyType"] = query.party.value
    page = lists.search({**params, "perPage": str(MAX_MATCHES)})
    for doc in page.items:
        if doc.id not in found:
            found[doc.id] = Match(_name_kind(query, doc), doc)
    ranked = sorted(found.values(), key=lambda m: _STRENGTH[m.kind])  # stable: search order
    more = len(ranked) > MAX_MATCHES or page.total > len(page.items)
    return MatchResult(query, ranked[:MAX_MATCHES], more)


def _search(lists: ListService, **params: str) -> list[IndexDoc]:
    return list(lists.search({**params, "perPage": str(MAX_MATCHES)}).items)


def _by_identifier(query: MatchQuery, doc: IndexDoc) -> Match | None:
    """How an entry the identifier search found matches. Only an entry with the full
    identifier on file (its keyed hash, ``card_key``) can be matched by a full query's hash;
    anything else was found by a masked form and needs the exact name as well."""
    if doc.card_key is not None and not query.masked_card:
        return Match(MatchKind.IDENTIFIER, doc)
    if _name_kind(query, doc) is MatchKind.NAME:
        return Match(MatchKind.IDENTIFIER, doc, masked_identifier=True)
    return None


def _name_kind(query: MatchQuery, doc: IndexDoc) -> MatchKind:
    """``name`` when the normalized names are equal, else ``partial`` (the search found the
    query's name inside the entry's)."""
    same = "".join(name_tokens(doc.name_norm)) == query.name_key
    return MatchKind.NAME if same else MatchKind.PARTIAL
