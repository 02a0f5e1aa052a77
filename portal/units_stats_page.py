"""/stats/units: the public accountability table of the units that handle complaints and
reports: per unit, what it received, what it answered on time, what it let run late, its
median time to reply and how often it was reported to its supervisor; and counts per report
area and complaint type.

Numbers only: no ticket's text, submitter, entry or number is ever read into the page. The
counts come from the deadline rows (a unit keeps its rows after a transfer, so passing a
ticket on late stays on its record) and, per category, from the tickets' categories.

Like /stats, the numbers are cached for a minute per date range; sorting is done on the
cached rows, by links (no JavaScript), and an unknown ``sort`` is ignored.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from anyio import to_thread
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casework.service import CaseService
from portal.render import render
from search_index.dates import CST
from shixin.tables import ticket_deadlines, tickets

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


@dataclass(frozen=True, slots=True)
class UnitRow:
    code: str
    name: str
    received: int  # tickets that arrived at the unit (submitted or transferred to it)
    accepted_on_time: int  # acceptance deadlines met in time (accept, transfer or decline)
    accepted_late: int
    replied_on_time: int
    replied_late: int
    open_overdue: int  # deadlines past due and still open now
    escalated: int  # deadlines flagged overdue and reported to the supervisor
    median_reply: timedelta | None  # arrival at the unit to its reply
    median_reply_workdays: float | None  # the same in working days (China's calendar)


@dataclass(frozen=True, slots=True)
class UnitNumbers:
    start: date
    end: date  # inclusive, China time
    rows: list[UnitRow]
    areas: list[tuple[str, int]]  # report area name, tickets
    complaint_types: list[tuple[str, int]]  # complaint type name, tickets
    generated_at: datetime


def unit_numbers(cases: CaseService, start: date, end: date) -> UnitNumbers:
    now = cases.now()
    since = datetime.combine(start, datetime.min.time(), tzinfo=CST)
    until = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=CST)
    with cases.store.read() as conn:
        deadlines = (
            conn.execute(
                select(ticket_deadlines)
                .where(ticket_deadlines.c.started_at >= since)
                .where(ticket_deadlines.c.started_at < until)
                .order_by(ticket_deadlines.c.id)
            )
            .mappings()
            .all()
        )
        categories = conn.execute(
            select(tickets.c.kind, tickets.c.category, func.count())
            .where(tickets.c.received_at >= since)
            .where(tickets.c.received_at < until)
            .group_by(tickets.c.kind, tickets.c.category)
        ).all()
    by_unit: dict[str, list[Any]] = defaultdict(list)
    for d in deadlines:
        by_unit[d["unit_code"]].append(d)
    rows = [_unit_row(cases, code, items, now) for code, items in by_unit.items()]
    areas: Counter[str] = Counter()
    types: Counter[str] = Counter()
    for kind, code, count in categories:
        category = cases.routing.category(code)
        if kind == "report":
            area = category.area if category else None
            areas[cases.routing.areas.get(area, area or "其他") if area else "其他"] += count
        else:
            types[category.name if category else code] += count
    return UnitNumbers(
        start,
        end,
        sorted(rows, key=lambda r: r.code),
        sorted(areas.items(), key=lambda kv: (-kv[1], kv[0])),
        sorted(types.items(), key=lambda kv: (-kv[1], kv[0])),
        now,
    )


def _unit_row(cases: CaseService, code: str, items: list[Any], now: datetime) -> UnitRow:
    arrived: dict[int, datetime] = {}
    durations: list[timedelta] = []
    workdays: list[int] = []
    accepted_on_time = accepted_late = replied_on_time = replied_late = 0
    open_overdue = escalated = 0
    for d in items:
        if d["kind"] == "accept":
            arrived.setdefault(d["ticket_id"], d["started_at"])
            if d["met_at"] is not None:
                if d["met_at"] <= d["due_at"]:
                    accepted_on_time += 1
                else:
                    accepted_late += 1
        if d["kind"] == "reply" and d["met_at"] is not None:
            if d["met_at"] <= d["due_at"]:
                replied_on_time += 1
            else:
                replied_late += 1
            start = arrived.get(d["ticket_id"], d["started_at"])
            durations.append(d["met_at"] - start)
            workdays.append(
                cases.calendar.working_days_between(
                    start.astimezone(CST).date(), d["met_at"].astimezone(CST).date()
                )
            )
        if d["met_at"] is None and d["cancelled_at"] is None and now > d["due_at"]:
            open_overdue += 1
        if d["overdue_at"] is not None:
            escalated += 1
    unit = cases.routing.unit(code)
    return UnitRow(
        code,
        unit.name if unit else code.removeprefix("court:"),
        sum(1 for d in items if d["kind"] == "accept"),
        accepted_on_time,
        accepted_late,
        replied_on_time,
        replied_late,
        open_overdue,
        escalated,
        statistics.median(durations) if durations else None,
        statistics.median(workdays) if workdays else None,
    )


def sorted_rows(rows: list[UnitRow], sort: str) -> list[UnitRow]:
    if sort == "name":
        return sorted(rows, key=lambda r: r.name)
    value = {
        "received": lambda r: r.received,
        "accepted": lambda r: r.accepted_on_time,
        "replied": lambda r: r.replied_on_time,
        "late": lambda r: r.replied_late,
        "overdue": lambda r: r.open_overdue,
        "median": lambda r: r.median_reply if r.median_reply is not None else timedelta(-1),
        "escalated": lambda r: r.escalated,
    }[sort]
    by_name = sorted(rows, key=lambda r: r.name)  # ties keep the order of names
    return sorted(by_name, key=value, reverse=True)


def reply_time(row: UnitRow) -> str:
    """The median time to reply: in working days from one working day on, else in hours."""
    if row.median_reply is None or row.median_reply_workdays is None:
        return "—"
    if row.median_reply_workdays >= 1:
        return f"{row.median_reply_workdays:g} 个工作日"
    hours = row.median_reply.total_seconds() / 3600
    return "不到 1 小时" if hours < 1 else f"{hours:.0f} 小时"


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
