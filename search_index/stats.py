"""The public numbers (/stats): how big the list is and how fast removals take effect here.

Latency is counted as in the compliance report, from when we received a removal to when the
index was confirmed not to serve the entry; each removal is also held against its own legal
deadline (three working days after it took effect), so the page can say how much of that
time the slowest one used.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, func, or_, select

from search_index.entries import servable_clause
from search_index.removals import LEGAL_WORKING_DAYS
from search_index.tables import entries, removals

WINDOW_DAYS = 30


@dataclass(slots=True, frozen=True)
class PublicNumbers:
    generated_at: datetime
    listed: int  # entries the public can find today
    window_days: int
    removed: int  # removals that took effect here within the window
    on_time: int
    late: int  # reached us in time, took effect here after the deadline: our lateness
    arrived_late: int  # reached us already past the deadline: the sender's lateness
    pending: int  # received, not yet confirmed gone (any age)
    overdue: int  # of those, past their deadline
    median_latency_seconds: float | None
    max_latency_seconds: float | None
    # The smallest (deadline - removed_at) among removals that reached us in time; negative
    # when one of them was late.
    min_margin_seconds: float | None
    deadline_working_days: int = LEGAL_WORKING_DAYS


def public_numbers(conn: Connection, today: date, now: datetime) -> PublicNumbers:
    listed = conn.execute(select(func.count()).select_from(entries).where(servable_clause(today)))
    since = now - timedelta(days=WINDOW_DAYS)
    rows = conn.execute(
        select(removals.c.received_at, removals.c.removed_at, removals.c.deadline).where(
            removals.c.superseded_at.is_(None),
            or_(removals.c.removed_at >= since, removals.c.removed_at.is_(None)),
        )
    ).all()
    latencies: list[float] = []
    margins: list[float] = []
    pending = overdue = arrived_late = 0
    for received_at, removed_at, deadline in rows:
        if removed_at is None:
            pending += 1
            overdue += now > deadline
            continue
        latencies.append((removed_at - received_at).total_seconds())
        if received_at > deadline:
            arrived_late += 1
        else:
            margins.append((deadline - removed_at).total_seconds())
    late = sum(margin < 0 for margin in margins)
    return PublicNumbers(
        generated_at=now,
        listed=listed.scalar_one(),
        window_days=WINDOW_DAYS,
        removed=len(latencies),
        on_time=len(margins) - late,
        late=late,
        arrived_late=arrived_late,
        pending=pending,
        overdue=overdue,
        median_latency_seconds=statistics.median(latencies) if latencies else None,
        max_latency_seconds=max(latencies) if latencies else None,
        min_margin_seconds=min(margins) if margins else None,
    )
