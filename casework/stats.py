"""Per-unit accountability from the deadline rows: what each unit received, how much it
accepted and answered on time or late, how many clocks it let run out, how often it was
reported to its supervisor, and its median time to reply; and tickets per report area and
complaint type. The one place these numbers are computed: CaseService.accountability and
the public /stats/units page (portal/units_stats_page.py) both read them from here.

A unit keeps its rows after a transfer, so passing a ticket on does not clear its record.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from casework.routing import Routing
from casework.tables import ticket_deadlines, tickets
from core.workdays import CST, WorkCalendar


@dataclass(frozen=True, slots=True)
class UnitStats:
    unit_code: str
    unit_name: str
    received: int  # tickets that arrived at the unit (submitted or transferred to it)
    replied: int  # replies given (a decline with reasons counts)
    replied_on_time: int
    overdue: int  # deadlines of any kind missed, answered late or still open
    open_overdue: int  # of which still open now
    median_reply: timedelta | None  # arrival at the unit to its reply
    accepted_on_time: int = 0  # acceptance deadlines met in time (accept, transfer, decline)
    accepted_late: int = 0
    replied_late: int = 0
    escalated: int = 0  # deadlines flagged overdue and reported to the supervisor
    median_reply_workdays: float | None = None  # the same in working days (with a calendar)


@dataclass(frozen=True, slots=True)
class CategoryCounts:
    areas: list[tuple[str, int]]  # report area name, tickets; most first
    complaint_types: list[tuple[str, int]]  # complaint type name, tickets; most first


def accountability(
    conn: Connection,
    now: datetime,
    since: datetime | None,
    unit_name: Callable[[str], str],
    *,
    until: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> list[UnitStats]:
    """Per unit, by code, for the deadlines started in [since, until)."""
    query = select(ticket_deadlines).order_by(ticket_deadlines.c.id)
    if since is not None:
        query = query.where(ticket_deadlines.c.started_at >= since)
    if until is not None:
        query = query.where(ticket_deadlines.c.started_at < until)
    by_unit: dict[str, list[Any]] = defaultdict(list)
    for r in conn.execute(query).mappings():
        by_unit[r["unit_code"]].append(r)
    return [
        _unit(code, unit_name(code), items, now, calendar)
        for code, items in sorted(by_unit.items())
    ]


def _unit(
    code: str, name: str, items: list[Any], now: datetime, calendar: WorkCalendar | None
) -> UnitStats:
    arrived: dict[int, datetime] = {}
    durations: list[timedelta] = []
    workdays: list[int] = []
    n: Counter[str] = Counter()
    for d in items:
        met, due = d["met_at"], d["due_at"]
        if d["kind"] == "accept":
            arrived.setdefault(d["ticket_id"], d["started_at"])
            if met is not None:
                n["accepted_on_time" if met <= due else "accepted_late"] += 1
        if d["kind"] == "reply" and met is not None:
            n["replied_on_time" if met <= due else "replied_late"] += 1
            start = arrived.get(d["ticket_id"], d["started_at"])
            durations.append(met - start)
            if calendar is not None:
                workdays.append(
                    calendar.working_days_between(
                        start.astimezone(CST).date(), met.astimezone(CST).date()
                    )
                )
        ended = met or d["cancelled_at"]
        if (ended or now) > due:
            n["overdue"] += 1
            n["open_overdue"] += ended is None
        n["escalated"] += d["overdue_at"] is not None
    return UnitStats(
        code,
        name,
        received=sum(1 for d in items if d["kind"] == "accept"),
        replied=n["replied_on_time"] + n["replied_late"],
        replied_on_time=n["replied_on_time"],
        overdue=n["overdue"],
        open_overdue=n["open_overdue"],
        median_reply=statistics.median(durations) if durations else None,
        accepted_on_time=n["accepted_on_time"],
        accepted_late=n["accepted_late"],
        replied_late=n["replied_late"],
        escalated=n["escalated"],
        median_reply_workdays=statistics.median(workdays) if workdays else None,
    )


def category_counts(
    conn: Connection, routing: Routing, since: datetime, until: datetime
) -> CategoryCounts:
    """Tickets received in [since, until) per report area and per complaint type."""
    rows = conn.execute(
        select(tickets.c.kind, tickets.c.category, func.count())
        .where(tickets.c.received_at >= since, tickets.c.received_at < until)
        .group_by(tickets.c.kind, tickets.c.category)
    ).all()
    areas: Counter[str] = Counter()
    types: Counter[str] = Counter()
    for kind, code, count in rows:
        category = routing.category(code)
        if kind == "report":
            area = category.area if category else None
            areas[routing.areas.get(area, area) if area else "其他"] += count
        else:
            types[category.name if category else code] += count
    return CategoryCounts(_most_first(areas), _most_first(types))


def _most_first(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in China time."""
    since = datetime.combine(start, datetime.min.time(), tzinfo=CST)
    return since, datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=CST)
