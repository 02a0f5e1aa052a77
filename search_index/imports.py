"""How fresh the list is, for the back office: the last import, and the imports of the last
day hour by hour (from the batches table, one row per import of a file or API batch).

Hours are Beijing hours, oldest first, the current one last (``HOURS`` of them, empty hours
included), so a chart of them always has the same bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from search_index.dates import CST
from search_index.tables import batches

HOURS = 24


@dataclass(frozen=True, slots=True)
class LastImport:
    finished_at: datetime
    source: str
    lines: int


@dataclass(frozen=True, slots=True)
class ImportHour:
    start: datetime  # Beijing time, on the hour
    imports: int
    lines: int


@dataclass(frozen=True, slots=True)
class ImportActivity:
    last: LastImport | None  # None: nothing was ever imported
    hours: list[ImportHour]  # HOURS of them, oldest first, ending with the current hour
    index_lag: int  # changes in the store the index has not applied yet
    now: datetime


def last_import(conn: Connection) -> LastImport | None:
    row = conn.execute(
        select(batches.c.finished_at, batches.c.source, batches.c.lines)
        .where(batches.c.finished_at.is_not(None))
        .order_by(batches.c.finished_at.desc())
        .limit(1)
    ).first()
    return LastImport(row.finished_at, row.source, row.lines) if row is not None else None


def imports_by_hour(conn: Connection, now: datetime) -> list[ImportHour]:
    """The imports finished in each of the last HOURS Beijing hours, up to ``now``."""
    current = now.astimezone(CST).replace(minute=0, second=0, microsecond=0)
    first = current - timedelta(hours=HOURS - 1)
    counts = {first + timedelta(hours=n): [0, 0] for n in range(HOURS)}
    rows = conn.execute(
        select(batches.c.finished_at, batches.c.lines).where(
            batches.c.finished_at >= first, batches.c.finished_at <= now
        )
    )
    for finished_at, lines in rows:
        hour = finished_at.astimezone(CST).replace(minute=0, second=0, microsecond=0)
        if hour in counts:
            counts[hour][0] += 1
            counts[hour][1] += lines or 0
    return [ImportHour(start, n, lines) for start, (n, lines) in counts.items()]
