"""Dates and instants as the list writes them, read into China Standard Time.

The national platform and the data sets copied from it mix ``20190709`` (regDate),
``2019年07月13日`` (publishDate), ISO dates and ISO datetimes, sometimes with full-width digits.
Legal deadlines count Chinese calendar days, so every instant is read in UTC+8. China has had no
daylight saving time since 1991, so a fixed offset is exact and needs no tzdata.

publishDate and regDate repeat across hundreds of thousands of lines of an import, so date
parsing is cached by input string.

Bounds. A date the list could not carry (``0001-01-01``, ``9999-12-31``, a year typed as 2109)
is refused with ``DateOutOfRange``, a ``DateParseError`` with its own Chinese message, so the
line is rejected and its neighbours are not (such a date used to overflow far downstream and
fail the whole batch). Nothing on the list lies before ``EARLIEST`` (the list began in 2013;
cases older than 1990 are not enforced on it). Instants (``effectiveAt``) and publish or filing
dates lie at most ``MAX_LEAD`` after now: a batch prepared a few days ahead, a clock a little
fast. A listing period's end (``validUntil``) lies ahead by nature; callers pass
``latest=latest_period_end()`` for it (``PERIOD_END_YEARS``). The bounds are checked after the
cache, since "now" moves.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from core.china_time import CST, now_cst, today_cst
from search_index.normalize import fold_width

__all__ = [
    "CST",
    "EARLIEST",
    "MAX_LEAD",
    "PERIOD_END_YEARS",
    "DateOutOfRange",
    "DateParseError",
    "latest_date",
    "latest_period_end",
    "now_cst",
    "parse_date",
    "parse_instant",
    "to_iso",
    "today_cst",
]


EARLIEST = date(1990, 1, 1)  # no date on the list lies before it
MAX_LEAD = timedelta(days=30)  # how far after now an instant or a publish date may lie
PERIOD_END_YEARS = 100  # how many years ahead a listing period's end may lie

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

    def __init__(self, value: object, message: str | None = None) -> None:
        self.value = value
        self.message = message or (
            f"无法识别的日期：{str(value)!r}，请使用 2019-07-13、20190709 或 2019年07月13日"
        )
        super().__init__(self.message)


class DateOutOfRange(DateParseError):
    """A real calendar date, but one the list cannot carry: before ``EARLIEST`` or after the
    caller's latest date (a typo in the year, or a placeholder such as 9999-12-31)."""

    code = "date_out_of_range"

    def __init__(self, value: object, *, too_early: bool, bound: date) -> None:
        side = "早于" if too_early else "晚于"
        super().__init__(
            value, f"日期超出合理范围：{str(value)!r} {side} {bound.isoformat()}，请核对年份"
        )
        self.too_early = too_early
        self.bound = bound


def to_iso(dt: datetime) -> str:
    """ISO 8601 in CST with offset, to the second. A naive datetime is taken to be CST
    already, the same rule parse_instant applies."""
    return _as_cst(dt).isoformat(timespec="seconds")


def latest_date() -> date:
    """The latest publish date, filing date or day of an instant we accept today."""
    return (now_cst() + MAX_LEAD).date()


def latest_period_end() -> date:
    """The latest listing period end (validUntil) we accept today: the last day of the year
    ``PERIOD_END_YEARS`` ahead (test data and "no fixed period" senders write 2099-12-31)."""
    return date(today_cst().year + PERIOD_END_YEARS, 12, 31)


def parse_date(text: str | int, *, earliest: date = EARLIEST, latest: date | None = None) -> date:
    """A calendar date from any of the list's forms; an ISO datetime gives its date in CST.
    ``DateOutOfRange`` outside ``earliest`` .. ``latest`` (default ``latest_date()``)."""
    # bool is an int, and True would otherwise read as a (bad) date instead of a type error.
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise DateParseError(text)
    day = _parse_date_text(str(text))
    _check_bounds(text, day, earliest, latest)
    return day


def parse_instant(text: str, *, latest: date | None = None) -> datetime:
    """A timezone-aware instant in CST: ISO datetimes keep their offset (converted), naive
    ones are CST, and a bare date means 00:00 CST that day. ``DateOutOfRange`` when its CST
    day lies before ``EARLIEST`` or after ``latest`` (default ``latest_date()``)."""
    if not isinstance(text, str):
        raise DateParseError(text)
    cleaned = _clean(text)
    day = _match_date(cleaned)
    if day is not None:
        instant = datetime.combine(day, time(), CST)
    else:
        instant = _to_cst(_parse_datetime(cleaned, text), text)
    _check_bounds(text, instant.date(), EARLIEST, latest)
    return instant


def _check_bounds(value: object, day: date, earliest: date, latest: date | None) -> None:
    if day < earliest:
        raise DateOutOfRange(value, too_early=True, bound=earliest)
    if latest is None:
        latest = latest_date()
    if day > latest:
        raise DateOutOfRange(value, too_early=False, bound=latest)


@lru_cache(maxsize=16384)
def _parse_date_text(text: str) -> date:
    cleaned = _clean(text)
    day = _match_date(cleaned)
    if day is not None:
        return day
    if _TIME_MARKERS.isdisjoint(cleaned):
        raise DateParseError(text)
    return _to_cst(_parse_datetime(cleaned, text), text).date()


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


def _to_cst(dt: datetime, original: str) -> datetime:
    """``_as_cst`` for parsed input: a time at the very edge of the calendar (9999-12-31T23:59
    at UTC-12) has no CST form, and is out of range rather than a crash."""
    try:
        return _as_cst(dt)
    except OverflowError:
        too_early = dt.year < 5000
        raise DateOutOfRange(
            original, too_early=too_early, bound=EARLIEST if too_early else latest_date()
        ) from None


def _as_cst(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        return dt.replace(tzinfo=CST)
    return dt.astimezone(CST)
