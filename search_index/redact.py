"""Full resident ID numbers written into free text, masked before anything keeps the text.

``cardNum`` is classified, hashed and masked by the parser. But a clerk also types ID numbers
into ``duty`` ("被执行人张三（身份证号110105198001011238）支付……"), ``gistId``,
``businessEntity``, a shield's ``reason``, a correction's fields. ``redact_record`` masks
them in every other field of an incoming record, before the parser reads it, so neither the
journal nor the index nor any page ever holds them. The record is changed in place: whatever
else still holds it (the echo of a rejected line) sees only the masked text.

The rules, chosen so that a real ID number is never missed and other numbers are left alone:

- 18 characters (17 digits and a digit or ``X``/``x``, half- or full-width) that form a valid
  resident ID number (ISO 7064 MOD 11-2 check character, a birth date between 1900 and today,
  a region code that is not all zeros) are masked exactly as ``cardNum`` is:
  ``3423011964****3224`` (birth month and day hidden, ``x`` written ``X``).
- 15 digits (the old ID numbers, issued until 2004: region, YYMMDD birth date, serial) are
  masked as the first 8 + ``****`` + the last 3 (``34230164****322``) when they read as one:
  the first two digits are a mainland province code (11–65), and the YYMMDD is a real date
  of the 1900s. A random 15-digit number passes that by chance about once in 90, so two
  more rules keep money out: a 15-digit run written as an amount (``￥`` or ``¥`` before it,
  ``元`` after it, or a decimal point and digits on either side) or named as an account
  (``账号``, ``帐号``, ``账户``, ``帐户`` or ``卡号`` within the six characters before it) is
  left alone.
- Either must stand on its own: a run glued to further digits or Latin letters on either side
  (a 19-digit bank card, ``NO110105198001011238A``) is part of something else and is left as
  it is. Chinese characters, spaces and punctuation around it are fine.

``cardNum`` is left to the parser, and the entry ``id`` too: an id that is an ID number is
refused outright (ids are public in every address), see ``contains_id_number``, and masked
with ``mask_entry_id`` for the echo of the refused line.

Speed: this runs over every text field of every line of an import (about 2 µs a line): a
field shorter than 15 characters costs a length test, a longer one a search for a run of 15
digits, and only a field with such a run is looked at further.
"""

from __future__ import annotations

import re
from typing import Any

from search_index.identifiers import is_valid_id_number, mask_id_number
from search_index.normalize import fold_width

__all__ = ["contains_id_number", "mask_entry_id", "redact_record", "redact_text"]

# Fields the parser reads itself: cardNum is classified and masked there, an id that holds an
# ID number is refused there. A correction's nested fields keep only cardNum.
KEEP_TOP = frozenset({"cardNum", "id"})
KEEP_NESTED = frozenset({"cardNum"})

_DIGIT = "0-9\uff10-\uff19"  # half- and full-width digits
_GLUE = _DIGIT + "A-Za-z\uff21-\uff3a\uff41-\uff5a"  # what a run must not touch
_MIN_RUN = 15
_LONG_RUN = re.compile(f"[{_DIGIT}]{{{_MIN_RUN}}}")
_long_run = _LONG_RUN.search
_CANDIDATE = re.compile(
    f"(?<![{_GLUE}])"
    f"(?:(?P<full>[{_DIGIT}]{{17}}[{_DIGIT}Xx\uff38\uff58])"
    f"|(?<![{_DIGIT}][.\uff0e])(?P<old>[{_DIGIT}]{{15}})(?![.\uff0e][{_DIGIT}]))"
    f"(?![{_GLUE}])"
)
# In an entry id (ASCII only) letters around the number do not make it anything else.
_ID_CANDIDATE = re.compile(r"(?<![0-9])(?:(?P<full>[0-9]{17}[0-9Xx])|(?P<old>[0-9]{15}))(?![0-9])")

# GB/T 2260 province-level codes of the mainland, where 15-digit numbers were issued.
_PROVINCES = frozenset(
    str(code)
    for first, last in ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65))
    for code in range(first, last + 1)
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_AMOUNT_BEFORE = frozenset("￥¥")
_AMOUNT_AFTER = frozenset("元")
_ACCOUNT_WORDS = ("账号", "帐号", "账户", "帐户", "卡号")
_ACCOUNT_WINDOW = 6  # characters before the run searched for an account word
_BIG_INT = 10**14  # an int below this has fewer than 15 digits


def redact_text(text: str) -> str:
    """``text`` with every ID number in it masked (see the module's rules)."""
    if _LONG_RUN.search(text) is None:  # nearly every field: no long run of digits at all
        return text
    return _CANDIDATE.sub(_masked, text)


def redact_record(record: dict[str, Any]) -> None:
    """Mask ID numbers in every string (and long integer) of ``record``, in place, nested
    dicts and lists included, except ``cardNum`` and the top-level ``id``."""
    _redact_dict(record, KEEP_TOP)


def contains_id_number(text: str) -> bool:
    """Whether ``text`` (an entry id) is or holds a valid ID number, 18 or 15 digits long;
    letters around it do not count as a separator here."""
    return mask_entry_id(text) != text


def mask_entry_id(text: str) -> str:
    """``text`` (an entry id) with every ID number in it masked, letters around it or not:
    for the echo of a line refused for its id."""
    if _long_run(text) is None:
        return text
    return _ID_CANDIDATE.sub(_masked_in_id, text)


def _redact_dict(record: dict[str, Any], keep: frozenset[str]) -> None:
    for key, value in record.items():
        if type(value) is str:  # the common case, inlined: this runs ~20 times a line
            if len(value) < _MIN_RUN or key in keep or _long_run(value) is None:
                continue  # most fields are too short to hold an ID number at all
            record[key] = _CANDIDATE.sub(_masked, value)
        elif key not in keep:
            redacted = _redact_value(value)
            if redacted is not value:
                record[key] = redacted


def _redact_value(value: Any) -> Any:
    """The value with its ID numbers masked; the same object when there were none."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        _redact_dict(value, KEEP_NESTED)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = _redact_value(item)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _BIG_INT:
        # An ID number sent as a JSON number is read as text by the parser: mask it as text.
        text = str(value)
        redacted = redact_text(text)
        return value if redacted == text else redacted
    return value


def _masked(match: re.Match[str]) -> str:
    run = match.group()
    if match.lastgroup == "full":
        return mask_id_number(run) if is_valid_id_number(run) else run
    text = match.string
    if _reads_as_old_id(fold_width(run)) and not _money(text, match.start(), match.end()):
        return _mask_old(fold_width(run))
    return run


def _masked_in_id(match: re.Match[str]) -> str:
    run = match.group()
    if match.lastgroup == "full":
        return mask_id_number(run) if is_valid_id_number(run) else run
    return _mask_old(run) if _reads_as_old_id(run) else run


def _reads_as_old_id(digits: str) -> bool:
    """A 15-digit number with a mainland province code and a real 19YYMMDD birth date."""
    if digits[:2] not in _PROVINCES:
        return False
    month, day = int(digits[8:10]), int(digits[10:12])
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        return False
    year = 1900 + int(digits[6:8])
    return not (month == 2 and day == 29 and not _leap(year))


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _money(text: str, start: int, end: int) -> bool:
    """Whether the run at ``text[start:end]`` is written as an amount or named an account."""
    if start and text[start - 1] in _AMOUNT_BEFORE:
        return True
    if end < len(text) and text[end] in _AMOUNT_AFTER:
        return True
    before = text[max(0, start - _ACCOUNT_WINDOW) : start]
    return any(word in before for word in _ACCOUNT_WORDS)


def _mask_old(digits: str) -> str:
    # Region and birth year stay, as with the 18-digit form; month and day go.
    return digits[:8] + "****" + digits[12:]
