"""Dates and instants as the list writes them, read into China Standard Time.

The national platform and the data sets copied from it mix ``20190709`` (regDate),
``2019年07月13日`` (publishDate), ISO dates and ISO datetimes, sometimes with full-width digits.
Legal deadlines count Chinese calendar days, so every instant is read in UTC+8. China has had no
daylight saving time since 1991, so a fixed offset is exact and needs no tzdata.

publishDate and regDate repeat across hundreds of thousands of lines of an import, so date
parsing is cached by input string.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

from search_index.normalize import fold_width

__all__ = [
    "CST",
    "DateParseError",
    "now_cst",
    "parse_date",
    "parse_instant",
    "to_iso",
    "today_cst",
]

CST = timezone(timedelta(hours=8), "CST")

_DATE_PATTERNS = (
    re.compile(r"(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"),
    re.compile(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})"),
    re.compile(r"(?P<y>[0-9]{4})年(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})日?"),
)
# Characters a date-only form never contains: their presence means "try a datetime".
_TIME_MARKERS = frozenset("T:")
_WHITESPACE_RE = re.compile(r"\s+")


class DateParseError(ValueError):
    """A date or instant in none of the accepted forms, or an impossible calendar date."""

    code = "bad_date"

    def __init__(self, value: object) -> None:
        self.value = value
        self.message = (
            f"无法识别的日期：{str(value)!r}，请使用 2019-07-13、20190709 或 2019年07月13日"
        )
        super().__init__(self.message)


def now_cst() -> datetime:
    return datetime.now(CST)


def today_cst() -> date:
    return now_cst().date()


def to_iso(dt: datetime) -> str:
    """ISO 8601 in CST with offset, to the second. A naive datetime is taken to be CST
    already, the same rule parse_instant applies."""
    return _as_cst(dt).isoformat(timespec="seconds")


def parse_date(text: str | int) -> date:
    """A calendar date from any of the list's forms; an ISO datetime gives its date in CST."""
    # bool is an int, and True would otherwise read as a (bad) date instead of a type error.
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise DateParseError(text)
    return _parse_date_text(str(text))


def parse_instant(text: str) -> datetime:
    """A timezone-aware instant in CST: ISO datetimes keep their offset (converted), naive
    ones are CST, and a bare date means 00:00 CST that day."""
    if not isinstance(text, str):
        raise DateParseError(text)
    cleaned = _clean(text)
    day = _match_date(cleaned)
    if day is not None:
        return datetime.combine(day, time(), CST)
    return _as_cst(_parse_datetime(cleaned, text))


@lru_cache(maxsize=16384)
def _parse_date_text(text: str) -> date:
    cleaned = _clean(text)
    day = _match_date(cleaned)
    if day is not None:
        return day
    if _TIME_MARKERS.isdisjoint(cleaned):
        raise DateParseError(text)
    return _as_cst(_parse_datetime(cleaned, text)).date()


def _clean(text: str) -> str:
    """Fold full-width digits and drop whitespace around the text; inside it, runs of
    whitespace become one space so "2019-07-13  08:00" still reads as a datetime."""
    return _WHITESPACE_RE.sub(" ", fold_width(text).strip())


def _match_date(cleaned: str) -> date | None:
    """The date of a date-only form; None when no form matches or the date is impossible."""
    # Spaces inside a date-only form ("2019年 7月 13日") carry no meaning.
    compact = cleaned.replace(" ", "")
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(compact)
        if match is not None:
            return _make_date(int(match["y"]), int(match["m"]), int(match["d"]))
    return None


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _parse_datetime(cleaned: str, original: str) -> datetime:
    try:
        return datetime.fromisoformat(cleaned)
    except ValueError:
        raise DateParseError(original) from None


def _as_cst(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        return dt.replace(tzinfo=CST)
    return dt.astimezone(CST)
