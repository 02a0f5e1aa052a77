"""/stats/units: the public accountability table of the units that handle complaints and
reports: per unit, what it received, what it answered on time, what it let run late, its
median time to reply and how often it was reported to its supervisor; and counts per report
area and complaint type.

Numbers only: no ticket's text, submitter, entry or number is ever read into the page. The
numbers are computed by casework/unit_numbers.py (over casework/stats.py, the same as
CaseService.accountability); this module picks the date range, caches and sorts them, and
presents them.

Like /stats, the numbers are cached for a minute per date range; sorting is done on the
cached rows, by links (no JavaScript), and an unknown ``sort`` is ignored.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casework.service import CaseService
from casework.stats import UnitStats
from casework.unit_numbers import UnitNumbers, unit_numbers
from portal.i18n import translate
from portal.render import render
from search_index.dates import CST

CACHE_SECONDS = 60.0
CACHE_RANGES = 32  # distinct date ranges kept at once
DEFAULT_DAYS = 365
EARLIEST = date(2000, 1, 1)

# sort key → (column heading, whether larger first)
SORTS: dict[str, tuple[str, bool]] = {
    "name": ("单位", False),
    "received": ("收到事项", True),
    "accepted": ("按期受理", True),
    "replied": ("按期答复", True),
    "late": ("逾期答复", True),
    "overdue": ("当前超期未办", True),
    "median": ("答复用时中位数", True),
    "escalated": ("超期通报", True),
}
DEFAULT_SORT = "overdue"


def sorted_rows(rows: list[UnitStats], sort: str) -> list[UnitStats]:
    if sort == "name":
        return sorted(rows, key=lambda r: r.unit_name)
    value = {
        "received": lambda r: r.received,
        "accepted": lambda r: r.accepted_on_time,
        "replied": lambda r: r.replied_on_time,
        "late": lambda r: r.replied_late,
        "overdue": lambda r: r.open_overdue,
        "median": lambda r: r.median_reply if r.median_reply is not None else timedelta(-1),
        "escalated": lambda r: r.escalated,
    }[sort]
    by_name = sorted(rows, key=lambda r: r.unit_name)  # ties keep the order of names
    return sorted(by_name, key=value, reverse=True)


def reply_time(row: UnitStats, lang: str = "zh") -> str:
    """The median time to reply: in working days from one working day on, else in hours."""
    if row.median_reply is None or row.median_reply_workdays is None:
        return "—"
    if row.median_reply_workdays >= 1:
        return translate(lang, "{days} 个工作日").format(days=f"{row.median_reply_workdays:g}")
    hours = row.median_reply.total_seconds() / 3600
    if hours < 1:
        return translate(lang, "不到 1 小时")
    return translate(lang, "{hours} 小时").format(hours=f"{hours:.0f}")


def _date(raw: str | None) -> date | None:
    if not raw or len(raw) != 10:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        return None
    return value if value >= EARLIEST else None


def date_range(request: Request, today: date) -> tuple[date, date, bool]:
    """(start, end, chosen): the asked range when both ends are valid dates in order and
    not in the future, else the last 365 days."""
    start = _date(request.query_params.get("from"))
    end = _date(request.query_params.get("to"))
    if start and end and start <= end <= today:
        return start, end, True
    return today - timedelta(days=DEFAULT_DAYS - 1), today, False


async def units_stats(request: Request) -> Response:
    cases: CaseService = request.app.state.cases
    today = cases.now().astimezone(CST).date()
    start, end, chosen = date_range(request, today)
    sort = request.query_params.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        sort = DEFAULT_SORT
    numbers = await _numbers(request, cases, start, end)
    keep = {"from": start.isoformat(), "to": end.isoformat()} if chosen else {}
    context = {
        "n": numbers,
        "rows": sorted_rows(numbers.rows, sort),
        "sort": sort,
        "sorts": SORTS,
        "keep": keep,
        "chosen": chosen,
        "days": DEFAULT_DAYS,
        "reply_time": reply_time,
    }
    return render(request, "stats_units.html", context)


async def _numbers(request: Request, cases: CaseService, start: date, end: date) -> UnitNumbers:
    state = request.app.state
    cache: dict[tuple[date, date], tuple[float, UnitNumbers]] | None = getattr(
        state, "unit_numbers", None
    )
    if cache is None:
        cache = state.unit_numbers = {}
    hit = cache.get((start, end))
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    numbers = await to_thread.run_sync(unit_numbers, cases, start, end)
    if len(cache) >= CACHE_RANGES:
        cache.clear()
    cache[(start, end)] = (time.monotonic(), numbers)
    return numbers


routes = [Route("/stats/units", units_stats, methods=["GET"])]
