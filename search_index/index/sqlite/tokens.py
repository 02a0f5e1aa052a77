"""The FTS5 tokens a document is indexed under: one per character of its name and one per
pair of neighbouring characters (the ``name_<party>`` and ``bi_<party>`` columns), and one
``tags`` token per exact criterion (``exact_tag`` and the other ``*_tag`` functions).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

from search_index.normalize import name_tokens
from search_index.types import IndexDoc, PartyType

_PARTY_LETTER = {PartyType.PERSON: "p", PartyType.ORG: "o"}
_LOWER_HEX_RE = re.compile(r"[0-9a-f]+")
_UPPER_ALNUM_RE = re.compile(r"[0-9A-Z]+")
_MASKED_ID_RE = re.compile(r"([0-9]{10})\*{4}([0-9]{3}[0-9X])")
_CASE_CODE_RE = re.compile(r"\(([0-9]{4})\)([^\W_]+)")  # canonical: (2019)京0105执12345号


def doc_name_tokens(doc: IndexDoc) -> list[str]:
    """``name_tokens(doc.name)``: the letters and digits of ``doc.name_norm``, which is
    ``normalize_name(doc.name)`` already. Skipping the second OpenCC pass saves a quarter of
    the Python time of a bulk load (test_index_sqlite checks the two agree)."""
    if not doc.name_norm:
        return name_tokens(doc.name)
    return [ch for ch in doc.name_norm if ch.isalnum()]


def name_pairs(chars: Sequence[str]) -> list[str]:
    return [a + b for a, b in pairwise(chars)]


# Tag tokens. unicode61 keeps a run of ASCII letters and digits as one token and folds case,
# so every token is lower-case alphanumeric, with a distinct first letter per kind of tag.


def exact_tag(chars: Sequence[str]) -> str:
    """Length and first two characters. A name that starts with the query (the ``^`` phrase)
    and is as long is the query; the characters keep each doclist short. The token is
    unambiguous: the number of characters after the length follows from the length."""
    return f"x{len(chars)}{''.join(chars[:2])}"


def party_tag(party: PartyType) -> str:
    return "t" + _PARTY_LETTER[party]


def place_tag(place_id: int, party: PartyType) -> str:
    # With the party type: "persons in Beijing" is then one short doclist, not the
    # intersection of Beijing with the tag that most documents carry.
    return f"p{place_id}{_PARTY_LETTER[party]}"


def card_key_tag(card_key: str) -> str:
    # Keyed hashes are lower-case hex already; anything else is hex-encoded so that equality
    # stays exact (no case folding, no punctuation splitting).
    if _LOWER_HEX_RE.fullmatch(card_key):
        return "k" + card_key
    return "j" + card_key.encode().hex()


def card_key_of(tags: str) -> str | None:
    """The card key a document's ``tags`` text holds (the inverse of ``card_key_tag``): it
    is stored there anyway, and nowhere else."""
    for tag in tags.split():
        if tag[0] == "k":
            return tag[1:]
        if tag[0] == "j":
            return bytes.fromhex(tag[1:]).decode()
    return None


# Identifier tokens are unique per document, so their length counts: the usual shapes keep
# their characters, anything else is hex-encoded (under another first letter) to stay exact.


def card_display_tag(card_display: str) -> str:
    if masked := _MASKED_ID_RE.fullmatch(card_display):
        return "m" + masked[1] + masked[2]  # the stars are always the same four
    if _UPPER_ALNUM_RE.fullmatch(card_display):
        return "d" + card_display
    return "h" + card_display.encode().hex()


def masked_only_tag(card_display: str) -> str:
    """The display tag once more, on entries published with a masked identifier only: what a
    full identifier's masked form may match (an entry with the full one on file matches by
    its key alone, so two people sharing a mask are not mixed up)."""
    return "u" + card_display_tag(card_display)


def representative_tag(name_key: str) -> str:
    """An organization's legal representative, by name (``normalize.name_key``): hex-encoded,
    so that the name stays one exact token (unicode61 would split it at any non-letter)."""
    return "r" + name_key.encode().hex()


def case_code_tag(case_code: str) -> str:
    canonical = _CASE_CODE_RE.fullmatch(case_code)
    if canonical and case_code == case_code.upper():  # upper: no two differ only by case
        return "n" + canonical[1] + canonical[2]
    return "c" + case_code.encode().hex()
