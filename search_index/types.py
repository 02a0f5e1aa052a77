"""Domain types of the list: entry states, index documents, queries, and the index interface.

This module imports nothing from the rest of the package; everything else builds on it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Protocol


class Status(StrEnum):
    UNPUBLISHED = "unpublished"  # events arrived for an id that no publish has reached yet
    PUBLISHED = "published"
    CORRECTED = "corrected"  # still public, with a correction history
    SHIELDED = "shielded"
    DELETED = "deleted"
    REVOKED = "revoked"  # wrongful listing
    EXPIRED = "expired"  # listing period over
    NEVER_PUBLIC = "never_public"  # 依法不宜公开


PUBLIC_STATUSES = frozenset({Status.PUBLISHED, Status.CORRECTED})
REMOVED_STATUSES = frozenset({Status.SHIELDED, Status.DELETED, Status.REVOKED, Status.EXPIRED})


class PartyType(StrEnum):
    PERSON = "person"
    ORG = "org"


# The disclosed case fields kept verbatim under the national platform's names (DOMAIN.md).
CASE_FIELDS: tuple[str, ...] = (
    "sexy",
    "age",
    "businessEntity",
    "gistId",
    "gistUnit",
    "duty",
    "performance",
    "performedPart",
    "unperformPart",
    "disruptTypeName",
)

PARTY_TYPE_NAMES = {PartyType.PERSON: "自然人", PartyType.ORG: "法人或其他组织"}

# The version of ``IndexDoc.to_api``'s output (and of ``IndexDoc.from_api``, its inverse).
# Backends may store each document's API JSON when it is indexed; bump this whenever
# ``to_api`` changes, so that they stop serving JSON of the old shape (the embedded index
# discards a file of another format and is refilled from the store).
API_FORMAT = 1


_ORG_CODE_LENGTH = 9


def public_card(card_display: str | None) -> str | None:
    """An identifier as pages and the API show it: an organization code (kept as its nine
    characters) in its standard form ``XXXXXXXX-X`` (GB 11714-1997), anything else as kept."""
    if card_display and len(card_display) == _ORG_CODE_LENGTH and "*" not in card_display:
        return f"{card_display[:8]}-{card_display[8]}"
    return card_display


def stored_card(public: str | None) -> str | None:
    """The inverse of ``public_card``."""
    if public is not None and len(public) == _ORG_CODE_LENGTH + 1 and public[8] == "-":
        return public[:8] + public[9]
    return public


@dataclass(slots=True)
class IndexDoc:
    """What the public index holds for one disclosable entry. Never a full ID number:
    ``card_display`` is the masked ID (persons) or the credit code (organizations) and
    ``card_key`` a keyed hash of the full identifier for exact matching."""

    id: str
    seq: int  # the store's change sequence number this document reflects
    status: str
    party_type: str
    name: str  # as published
    name_norm: str  # normalize.normalize_name(name)
    case_code: str  # canonical case number
    court_name: str
    area_name: str
    publish_date: date
    reg_date: date | None = None
    valid_until: date | None = None
    severity: str | None = None
    card_display: str | None = None
    card_key: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # CASE_FIELDS present on the entry

    def to_api(self) -> dict[str, Any]:
        """The public JSON shape: ingest field names plus id, status and validUntil."""
        item: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "caseCode": self.case_code,
            "iname": self.name,
            "cardNum": public_card(self.card_display),
            "courtName": self.court_name,
            "areaName": self.area_name,
            "partyTypeName": PARTY_TYPE_NAMES[PartyType(self.party_type)],
            "partyType": self.party_type,
            "regDate": self.reg_date.isoformat() if self.reg_date else None,
            "publishDate": self.publish_date.isoformat(),
            "validUntil": self.valid_until.isoformat() if self.valid_until else None,
            "severity": self.severity,
        }
        for name in CASE_FIELDS:
            item[name] = self.fields.get(name)
        return item

    @classmethod
    def from_api(
        cls, item: dict[str, Any], *, seq: int, name_norm: str, card_key: str | None
    ) -> IndexDoc:
        """The document whose ``to_api()`` is ``item`` (of this API_FORMAT), given the fields
        the public shape leaves out. Case fields that are null were absent."""
        reg_date, valid_until = item["regDate"], item["validUntil"]
        return cls(
            id=item["id"],
            seq=seq,
            status=item["status"],
            party_type=item["partyType"],
            name=item["iname"],
            name_norm=name_norm,
            case_code=item["caseCode"],
            court_name=item["courtName"],
            area_name=item["areaName"],
            publish_date=date.fromisoformat(item["publishDate"]),
            reg_date=date.fromisoformat(reg_date) if reg_date else None,
            valid_until=date.fromisoformat(valid_until) if valid_until else None,
            severity=item["severity"],
            card_display=stored_card(item["cardNum"]),
            card_key=card_key,
            fields={name: item[name] for name in CASE_FIELDS if item.get(name) is not None},
        )


class Sort(StrEnum):
    RELEVANCE = "relevance"
    PUBLISH_DATE = "publish_date"


@dataclass(slots=True)
class SearchQuery:
    """A normalized query (see ``search_index.query.build_query``, which normalizes once).
    Backends receive only normalized values and use them as given: the name as its
    ``normalize.name_tokens``, courts and areas as the letters and digits of
    ``normalize.normalize_place``, identifiers already hashed or canonical."""

    # The name's letters and digits, one token per character. None: no name asked for; empty:
    # a name without a letter or digit, which no entry has.
    name_tokens: tuple[str, ...] | None = None
    name_exact: bool = False
    card_key: str | None = None  # keyed hash of a full ID number / credit code / org code
    card_display: str | None = None  # masked ID number or code, matched exactly
    # How the full identifier asked for looks masked: matches entries published masked only
    # (an entry with a full identifier on file matches by card_key alone).
    card_masked: str | None = None
    case_code: str | None = None  # canonical case number
    # An organization's legal representative (businessEntity) as ``normalize.name_key``,
    # matched exactly. None: any; "": a name without a letter or digit, which none is.
    representative: str | None = None
    # A place's letters and digits, normalized and joined, matched as a contiguous part of the
    # court's (the area's) name. None: any; "": a place without a letter or digit, which none is.
    court: str | None = None
    region: str | None = None
    party_type: PartyType | None = None
    published_from: date | None = None
    published_to: date | None = None
    sort: Sort = Sort.RELEVANCE
    page: int = 1
    per_page: int = 20

    @property
    def name(self) -> str | None:
        """The name's tokens joined: what an exact name equals. None without a name."""
        return None if self.name_tokens is None else "".join(self.name_tokens)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(slots=True)
class SearchPage:
    total: int
    items: Sequence[IndexDoc]
    page: int
    per_page: int
    # ``orjson.dumps(doc.to_api())`` of each item, when the backend stored it at indexing
    # time: the API then joins bytes instead of building and encoding a dict per item.
    api_items: Sequence[bytes] | None = None


class IndexBackend(Protocol):
    """The public search index. Calls are synchronous; async callers run them in a thread.

    The index holds exactly the entries that are public; the store is the source of truth
    and ``search_index.sync`` keeps the two in step."""

    name: str
    # Whether this index was created empty when opened (a new or discarded file): the sync
    # must then start again from the store's first change.
    fresh: bool

    def upsert(self, docs: Sequence[IndexDoc]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def present(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` the index still serves (the proof a removal took effect)."""
        ...

    def get(self, entry_id: str) -> IndexDoc | None: ...

    def represented_by(self, names: Sequence[str], limit: int) -> dict[str, list[dict[str, Any]]]:
        """For each of ``names`` (``normalize.name_key`` forms), up to ``limit`` organizations
        whose legal representative has exactly that name, newest first, each as its public
        JSON (``IndexDoc.to_api``); names without one are left out. One round trip for all
        of them: a results page asks for each person on it, and shows a few fields of each
        organization, so a backend that stores the JSON hands it over without building
        documents."""
        ...

    def search(self, query: SearchQuery) -> SearchPage: ...

    def iter_seqs(self) -> Iterator[tuple[str, int]]:
        """Every (id, seq) in the index, ordered by id (for reconciliation)."""
        ...

    def count(self) -> int: ...

    def clear(self) -> None: ...

    def begin_rebuild(self) -> IndexBackend:
        """A new, empty index of the same kind beside this one, to fill while this one goes
        on serving (``search_index.sync.Syncer.rebuild``)."""
        ...

    def swap_in(self, built: IndexBackend) -> None:
        """Serve ``built`` (from ``begin_rebuild``, filled) in place of this index's contents,
        atomically: a search sees the old contents or the new, never a mix. The old
        contents are dropped; ``built`` is not used again."""
        ...

    def abandon_rebuild(self, built: IndexBackend) -> None:
        """Drop an index from ``begin_rebuild`` that will not be swapped in."""
        ...

    def healthy(self) -> bool: ...

    def close(self) -> None: ...
