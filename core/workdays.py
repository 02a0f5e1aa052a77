"""China's working-day calendar, for legal deadlines (e.g. removal within 3 working days).

Working days are Monday to Friday, minus public holidays, plus the make-up weekend days (调休)
that the State Council announces each year. Sources, in order of precedence:

1. the override table: the packaged ``calendar_overrides.json`` and, on top of it, an operator
   file (``SHIXIN_HOLIDAYS_FILE``); a year there wins even over chinesecalendar, so an operator
   can fix a mistake without waiting for a release;
2. chinesecalendar, for the years it ships data for;
3. weekends only, with a warning. This errs on the strict side: a holiday counted as a working
   day only brings a deadline earlier, never later.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import chinese_calendar

from core.china_time import CST

log = logging.getLogger(__name__)


PACKAGED_OVERRIDES = Path(__file__).with_name("calendar_overrides.json")
_YEAR_KEYS = frozenset({"holidays", "workdays", "source"})
_SATURDAY = 5


class CalendarConfigError(ValueError):
    """An override file is unreadable or contradicts itself."""


class Coverage(StrEnum):
    OFFICIAL = "official"
    OVERRIDE = "override"
    WEEKENDS_ONLY = "weekends_only"


@dataclass(frozen=True)
class YearOverride:
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str
    origin: Path


def _is_weekend(d: date) -> bool:
    return d.weekday() >= _SATURDAY


def _parse_date(raw: object, year: int, where: str) -> date:
    if not isinstance(raw, str):
        raise CalendarConfigError(f"{where}: expected a 'YYYY-MM-DD' string, got {raw!r}")
    try:
        d = date.fromisoformat(raw)
    except ValueError as exc:
        raise CalendarConfigError(f"{where}: {raw!r} is not a valid YYYY-MM-DD date") from exc
    if d.year != year:
        raise CalendarConfigError(f"{where}: {raw!r} is not in year {year}")
    return d


def _parse_dates(entry: dict[str, Any], key: str, year: int, where: str) -> frozenset[date]:
    raw = entry.get(key, [])
    if not isinstance(raw, list):
        raise CalendarConfigError(f"{where}.{key}: expected a list of dates, got {raw!r}")
    return frozenset(_parse_date(item, year, f"{where}.{key}") for item in raw)


def _parse_year(key: str, entry: object, origin: Path) -> tuple[int, YearOverride]:
    where = f"{origin}: year {key!r}"
    if not (len(key) == 4 and key.isdigit()):
        raise CalendarConfigError(f'{origin}: {key!r} is not a year (expected e.g. "2027")')
    if not isinstance(entry, dict):
        raise CalendarConfigError(f"{where}: expected an object, got {entry!r}")
    # Unknown keys are most likely typos ("holiday"), which would silently drop a whole list.
    unknown = sorted(set(entry) - _YEAR_KEYS)
    if unknown:
        raise CalendarConfigError(
            f"{where}: unknown key(s) {unknown}; allowed: {sorted(_YEAR_KEYS)}"
        )
    year = int(key)
    holidays = _parse_dates(entry, "holidays", year, where)
    workdays = _parse_dates(entry, "workdays", year, where)
    both = sorted(d.isoformat() for d in holidays & workdays)
    if both:
        raise CalendarConfigError(f"{where}: {both} listed both as holidays and as workdays")
    weekdays = sorted(d.isoformat() for d in workdays if not _is_weekend(d))
    if weekdays:
        raise CalendarConfigError(
            f"{where}: make-up workdays must fall on a Saturday or Sunday, got {weekdays}"
        )
    source = entry.get("source", "")
    if not isinstance(source, str):
        raise CalendarConfigError(f"{where}.source: expected a string, got {source!r}")
    return year, YearOverride(holidays, workdays, source, origin)


def load_overrides(path: Path) -> dict[int, YearOverride]:
    """Read and validate one override file; raise CalendarConfigError naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CalendarConfigError(f"{path}: cannot read holiday override file: {exc}") from exc
    except ValueError as exc:
        raise CalendarConfigError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CalendarConfigError(f"{path}: expected a JSON object keyed by year")
    return dict(_parse_year(k, v, path) for k, v in data.items() if k != "_comment")


def _official_is_workday(d: date) -> bool | None:
    """chinesecalendar's answer, or None when it has no data for the year."""
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        return None


class WorkCalendar:
    """Working days in mainland China, with per-date caching."""

    def __init__(self, overrides_path: Path | None = None) -> None:
        self._overrides = load_overrides(PACKAGED_OVERRIDES)
        if overrides_path is not None:
            self._overrides.update(load_overrides(Path(overrides_path)))
        self._cache: dict[date, bool] = {}
        self._warned_years: set[int] = set()

    def coverage(self, year: int) -> Coverage:
        if year in self._overrides:
            return Coverage.OVERRIDE
        if _official_is_workday(date(year, 1, 1)) is not None:
            return Coverage.OFFICIAL
        return Coverage.WEEKENDS_ONLY

    def is_workday(self, d: date) -> bool:
        # A datetime's calendar date depends on its time zone; make callers choose (CST).
        if isinstance(d, datetime):
            raise TypeError("is_workday takes a date; convert datetimes to CST first")
        cached = self._cache.get(d)
        if cached is None:
            cached = self._cache[d] = self._compute(d)
        return cached

    def _compute(self, d: date) -> bool:
        override = self._overrides.get(d.year)
        if override is not None:
            if d in override.workdays:
                return True
            return d not in override.holidays and not _is_weekend(d)
        official = _official_is_workday(d)
        if official is not None:
            return official
        self._warn_weekends_only(d.year)
        return not _is_weekend(d)

    def _warn_weekends_only(self, year: int) -> None:
        if year in self._warned_years:
            return
        self._warned_years.add(year)
        log.warning(
            "No holiday data for %d: working-day deadlines in %d are computed on weekends only "
            "(public holidays and make-up workdays are ignored). Add the State Council's %d "
            "holiday schedule to a JSON override file named by SHIXIN_HOLIDAYS_FILE (format: "
            "see core/calendar_overrides.json).",
            year,
            year,
            year,
        )

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day strictly after ``start`` (``start`` itself never counts)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        d = start
        remaining = n
        while remaining:
            d += timedelta(days=1)
            if self.is_workday(d):
                remaining -= 1
        return d

    def removal_deadline(self, effective_at: datetime, working_days: int = 3) -> datetime:
        """End (23:59:59.999999 CST) of the ``working_days``-th working day after the CST date
        of ``effective_at``; a naive datetime is taken to be CST already."""
        if effective_at.tzinfo is None:
            local = effective_at.replace(tzinfo=CST)
        else:
            local = effective_at.astimezone(CST)
        last_day = self.add_working_days(local.date(), working_days)
        return datetime.combine(last_day, time.max, tzinfo=CST)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end."""
        days = (end - start).days
        return sum(self.is_workday(start + timedelta(days=i)) for i in range(1, days + 1))


@functools.cache
def default_calendar(overrides_path: Path | None = None) -> WorkCalendar:
    """A shared calendar per override file, so the per-date cache is reused across calls."""
    return WorkCalendar(overrides_path)
