"""Text normalization for matching names, places and case numbers.

The same person or company reaches us written in many ways: traditional or simplified
characters, full-width letters typed on a Chinese IME, brackets and middle dots from half a
dozen code blocks, stray spaces. Index and query both go through these functions, so a citizen
typing "張　偉" finds the entry published as "张伟".

Everything here runs once per field on 1,000,000-line imports, so the tables are built once at
import time and the OpenCC converter is created once, on first use.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import opencc

__all__ = [
    "CaseCodeError",
    "fold_width",
    "is_case_code",
    "name_key",
    "name_tokens",
    "normalize_case_code",
    "normalize_name",
    "normalize_place",
    "place_key",
    "to_simplified",
]

# Full-width forms U+FF01..U+FF5E are the ASCII range U+0021..U+007E shifted by 0xFEE0; the
# ideographic space is the full-width counterpart of the ASCII space.
_FULL_WIDTH_OFFSET = 0xFEE0
_WIDTH_TABLE: dict[int, str] = {cp: chr(cp - _FULL_WIDTH_OFFSET) for cp in range(0xFF01, 0xFF5F)}
_WIDTH_TABLE[0x3000] = " "

# （ ( 【 〔 [ 〖 ﹝ ﹙ and their closing partners; ［ ］ reach "[" "]" through width folding.
_OPENING_BRACKETS = "\uff08(\u3010\u3014[\u3016\ufe5d\ufe59"
_CLOSING_BRACKETS = "\uff09)\u3011\u3015]\u3017\ufe5e\ufe5a"

# Separators in transliterated names (阿不都·热合曼). Copied text carries whichever of these the
# source's font or IME produced; U+0387 is even canonically equal to U+00B7.
_MIDDLE_DOTS = "\u00b7\u0387\u2022\u2027\u2219\u22c5\u25cf\u30fb\uff65\u16eb\u2e31"

# Every str.isspace() character lies below U+3001; the zero-width ones are not "space" to
# Python but are just as invisible in a pasted name, so they go too.
_WHITESPACE = [cp for cp in range(0x3001) if chr(cp).isspace()]
_ZERO_WIDTH = [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]


def _build_name_table() -> dict[int, str | None]:
    """One translate table doing width folding, bracket and dot unification and whitespace
    removal in a single pass over the string."""
    unify: dict[int, str | None] = {}
    unify.update({ord(ch): "(" for ch in _OPENING_BRACKETS})
    unify.update({ord(ch): ")" for ch in _CLOSING_BRACKETS})
    unify.update({ord(ch): "·" for ch in _MIDDLE_DOTS})
    unify.update(dict.fromkeys(_WHITESPACE + _ZERO_WIDTH))
    # Compose: a full-width character first folds, then its folded form is unified.
    table = {cp: unify.get(ord(ch), ch) for cp, ch in _WIDTH_TABLE.items()}
    table.update(unify)
    return table


_NAME_TABLE = _build_name_table()

# Year in brackets, then court/type/serial letters and digits, then 号. The "has a letter and
# ends in a digit" part is checked in Python: a single regex for it backtracks quadratically on
# long hostile query strings.
_CASE_CODE_RE = re.compile(r"\([0-9]{4}\)(?P<body>[^\W_]+)号(?:之[一二三四五六七八九十]+)?")
# A case split off another keeps its number with a sub-number: （2019）京0105执123号之一.
_SUB_NUMBER_RE = re.compile(r"号之[一二三四五六七八九十]+$")
_ASCII_DIGITS = frozenset("0123456789")
_CASE_CODE_SUFFIX = "号"
# Before 2016 some courts wrote the year without brackets: 2015年丰执字第08996号.
_YEAR_PREFIX_RE = re.compile(r"([0-9]{4})年")
_CASE_CODE_MESSAGE = "案号格式不正确，应形如（2019）京0105执12345号或（2014）并执字第00085号"


class CaseCodeError(ValueError):
    """A case number that cannot be brought into canonical form."""

    code = "bad_case_code"

    def __init__(self, value: str) -> None:
        super().__init__(_CASE_CODE_MESSAGE)
        self.value = value
        self.message = _CASE_CODE_MESSAGE


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional Chinese to simplified (OpenCC ``t2s``)."""
    return _converter().convert(text)


def fold_width(text: str) -> str:
    """Full-width ASCII letters, digits, punctuation and the ideographic space to half-width.

    CJK characters are left alone (unlike NFKC, which would also rewrite e.g. ㈱ or ⑴)."""
    return text.translate(_WIDTH_TABLE)


@lru_cache(maxsize=4096)
def normalize_name(text: str) -> str:
    """The matching form of a person or organization name.

    Cached because an import asks for the same name twice in a row (the stored form, then
    the tokens) and organizations recur across their cases."""
    # Whitespace goes before the t2s conversion on purpose: OpenCC converts by phrase, and
    # "乾 隆" would otherwise come out as "干 隆".
    return to_simplified(text.translate(_NAME_TABLE)).upper()


def name_tokens(text: str) -> list[str]:
    """The letters and digits of the normalized name, one token per character.

    ``str.isalnum`` is exactly "Unicode category L* or N*" and much faster than asking
    ``unicodedata.category`` per character."""
    return [ch for ch in normalize_name(text) if ch.isalnum()]


def name_key(text: str) -> str:
    """The name's tokens joined: what an exact name equals (``SearchQuery.name``), and what
    an organization's legal representative is looked up by."""
    return "".join(name_tokens(text))


@lru_cache(maxsize=8192)
def normalize_place(text: str) -> str:
    """Matching form of a court or area name; a few thousand distinct values repeat across
    every import, hence the cache."""
    return normalize_name(text)


def place_key(text: str) -> str:
    """The letters and digits of a court or area name, normalized: what a place is indexed
    under and what a place filter is matched against (every backend, and the query)."""
    return "".join(name_tokens(normalize_place(text)))


def normalize_case_code(text: str) -> str:
    """Canonical case number, e.g. ``(2019)京0105执12345号``; the older styles keep their
    words and zeros (``(2014)并执字第00085号``), and a year written ``2015年`` is put in
    brackets, so each is found however the year is written.

    Raises CaseCodeError when the text is not a case number after normalizing."""
    name = normalize_name(text)
    if year := _YEAR_PREFIX_RE.match(name):
        name = f"({year[1]}){name[year.end() :]}"
    if _SUB_NUMBER_RE.search(name):
        canonical = name
    else:
        canonical = name.rstrip(_CASE_CODE_SUFFIX) + _CASE_CODE_SUFFIX
    if not _is_canonical_case_code(canonical):
        raise CaseCodeError(text)
    return canonical


def _is_canonical_case_code(code: str) -> bool:
    match = _CASE_CODE_RE.fullmatch(code)
    if match is None:
        return False
    body = match["body"]
    # "(2019)12345号" names no court and no case type, so it is no case number.
    return body[-1] in _ASCII_DIGITS and not body.isdigit()


def is_case_code(text: object) -> bool:
    """Whether ``text`` normalizes to a case number; never raises."""
    if not isinstance(text, str):
        return False
    try:
        normalize_case_code(text)
    except (CaseCodeError, UnicodeError):
        return False
    return True
