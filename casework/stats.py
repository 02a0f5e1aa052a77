"""Per-unit accountability from the deadline rows: what each unit received, how many it
answered on time, how many clocks it let run out, and its median time to reply.

A unit keeps its rows after a transfer, so passing a ticket on does not clear its record.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from shixin.tables import ticket_deadlines


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


def accountability(
    conn: Connection,
    now: datetime,
    since: datetime | None,
    unit_name: Callable[[str], str],
) -> list[UnitStats]:
    query = select(ticket_deadlines).order_by(ticket_deadlines.c.id)
    if since is not None:
        query = query.where(ticket_deadlines.c.started_at >= since)
    rows = conn.execute(query).mappings().all()
    by_unit: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_unit[r["unit_code"]].append(dict(r))
    result = []
    for code, items in sorted(by_unit.items()):
        arrived: dict[int, datetime] = {}
        durations: list[timedelta] = []
        replied = on_time = overdue = open_overdue = 0
        for d in items:
            if d["kind"] == "accept":
                arrived.setdefault(d["ticket_id"], d["started_at"])
            if d["kind"] == "reply" and d["met_at"] is not None:
                replied += 1
                on_time += d["met_at"] <= d["due_at"]
                start = arrived.get(d["ticket_id"], d["started_at"])
                durations.append(d["met_at"] - start)
            ended = d["met_at"] or d["cancelled_at"]
            if (ended or now) > d["due_at"]:
                overdue += 1
                open_overdue += ended is None
        result.append(
            UnitStats(
                code,
                unit_name(code),
                sum(1 for d in items if d["kind"] == "accept"),
                replied,
                on_time,
                overdue,
                open_overdue,
                statistics.median(durations) if durations else None,
            )
        )
    return result
