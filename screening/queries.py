"""One screening query, read and checked: a name, an optional identifier, a client reference.

The name and identifier are normalized the way the search normalizes them
(``search_index.normalize``, ``search_index.identifiers``), so a query written in traditional
characters or full-width digits means what the same search would. A full ID number lives
only in the query object for the length of a request: what a result echoes is its masked
form, and the reference is echoed with anything shaped like an ID number masked (clients
put row contents there, and answers get logged).
"""

from __future__ import annotations

from dataclasses import dataclass

from search_index.events import mask_full_ids
from search_index.identifiers import (
    MASKED_KINDS,
    IdentifierError,
    IdentifierKind,
    classify_identifier,
    display_form,
)
from search_index.normalize import name_tokens
from search_index.types import PartyType, public_card

MAX_QUERIES = 100  # queries in one request
MAX_NAME = 200  # characters of a name or an identifier, as the search takes them
MAX_REF = 100  # characters of a client reference
# Queries matched in a batch that cost the server about what one search through the API
# does (benchmarks/RESULTS.md, 2026-12-02: a name in a batch costs about a quarter): what
# the API charges a batch against the rate limit.
QUERIES_PER_SEARCH = 4
# A request body of MAX_QUERIES queries with the longest texts, in UTF-8, fits in this.
MAX_BODY_BYTES = 256 * 1024

# The party an identifier names, when it names one: a masked number of digits only may be a
# person's or an organization's, so it restricts nothing.
_PARTY_OF = {
    IdentifierKind.ID_NUMBER: PartyType.PERSON,
    IdentifierKind.CREDIT_CODE: PartyType.ORG,
    IdentifierKind.ORG_CODE: PartyType.ORG,
}


class QueryInputError(ValueError):
    """A query that cannot be matched: which ``field``, a machine ``code``, a Chinese
    ``message``. Identifier problems carry the identifier's own code (bad_id_checksum, …)."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class MatchQuery:
    name: str  # as given, trimmed
    name_key: str  # its normalized letters and digits: what an exactly equal name has
    card: str | None = None  # the identifier, normalized (a full ID number: never kept)
    card_kind: IdentifierKind | None = None
    ref: str | None = None
    # A full ID number kept only as its keyed hash and masked form (a stored screening row,
    # screening/jobs.py): matched through the hash, as the search matches the number.
    card_hash: str | None = None
    card_masked: str | None = None

    @property
    def shown_card(self) -> str | None:
        """The identifier as an answer may show it: an ID number masked, a code as public."""
        if self.card_hash is not None:
            return self.card_masked
        if self.card is None or self.card_kind is None:
            return None
        return public_card(display_form(self.card_kind, self.card))

    @property
    def shown_name(self) -> str:
        return mask_full_ids(self.name)

    @property
    def shown_ref(self) -> str | None:
        return None if self.ref is None else mask_full_ids(self.ref)

    @property
    def masked_card(self) -> bool:
        """Whether the identifier is itself masked: it can then only be compared masked."""
        return self.card_hash is None and self.card_kind in MASKED_KINDS

    @property
    def party(self) -> PartyType | None:
        return _PARTY_OF.get(self.card_kind) if self.card_kind else None


def read_query(name: str, card: str | None = None, ref: str | None = None) -> MatchQuery:
    """The query, or ``QueryInputError`` naming the field: a name without a letter or digit,
    a text too long, an identifier that is not one (check character, birth date, shape)."""
    if len(name) > MAX_NAME:
        raise QueryInputError("name", "too_long", f"姓名或名称过长（最多 {MAX_NAME} 字）")
    name = name.strip()
    if not name:
        raise QueryInputError("name", "no_name", "姓名或名称不能为空")
    key = "".join(name_tokens(name))
    if not key:
        raise QueryInputError("name", "no_letters", "姓名或名称中没有可检索的文字或数字")
    if ref is not None and len(ref) > MAX_REF:
        raise QueryInputError("ref", "too_long", f"ref 过长（最多 {MAX_REF} 字）")
    kind, normalized = _identifier(card)
    return MatchQuery(name, key, normalized, kind, ref)


def _identifier(card: str | None) -> tuple[IdentifierKind | None, str | None]:
    if card is None or not card.strip():  # blank: no identifier given
        return None, None
    if len(card) > MAX_NAME:
        raise QueryInputError("cardNum", "too_long", f"证件号码过长（最多 {MAX_NAME} 字）")
    try:
        return classify_identifier(card)
    except IdentifierError as exc:
        raise QueryInputError("cardNum", exc.code, exc.message) from exc
