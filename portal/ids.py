"""Integer ids in addresses: what a database row id may be, checked before any query.

A row id is an INTEGER in SQLite and a ``bigint`` in PostgreSQL: 1 to 2^63 − 1. Starlette's
``{x:int}`` takes any string of digits, so ``/unit/tickets/9223372036854775808`` reached the
store and failed there with an ``OverflowError`` (a 500). Paths use ``{x:id}`` instead (this
module registers it): a convertor whose pattern matches only 1 to 2^63 − 1, written without
leading zeros, so anything else is not a route at all and gets the ordinary 404. Query
parameters that carry an id go through :func:`parse_id`, the same pattern in a function.
"""

from __future__ import annotations

import re

from starlette.convertors import Convertor, register_url_convertor

MAX_ID = 2**63 - 1  # SQLite's INTEGER and PostgreSQL's bigint


def _up_to(limit: int) -> str:
    """A regular expression for the decimal numbers 1..``limit``, without leading zeros."""
    digits = str(limit)
    n = len(digits)
    shorter = f"[1-9][0-9]{{0,{n - 2}}}" if n > 1 else ""
    same_length = []  # n digits: a prefix of limit, then a smaller digit, then any digits
    for i, digit in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            rest = f"[0-9]{{{n - 1 - i}}}" if i < n - 1 else ""
            same_length.append(f"{digits[:i]}[{low}-{int(digit) - 1}]{rest}")
    same_length.append(digits)
    return "|".join(p for p in (shorter, *same_length) if p)


ID_PATTERN = f"(?:{_up_to(MAX_ID)})"
_ID = re.compile(ID_PATTERN)


def parse_id(text: str | None) -> int | None:
    """The id ``text`` spells (1..2^63 − 1, ASCII digits, no leading zero), or None."""
    if text is None or not _ID.fullmatch(text):
        return None
    return int(text)


class IdConvertor(Convertor[int]):
    """``{name:id}`` in a route's path: a row id, or no match (a 404)."""

    regex = ID_PATTERN

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        value = int(value)
        assert 1 <= value <= MAX_ID, "not a row id"
        return str(value)


register_url_convertor("id", IdConvertor())
