"""Quarterly reports, published once a quarter's removal deadlines have all passed and
frozen then: late data about a published quarter no longer moves its numbers, and the report
says when it was frozen.

Publishing is automatic: the portal's background loop calls ``freeze_due``, and reading the
reports does too, so a report is there from its publication time even between rounds. "Now"
is the injected clock, never the wall clock read somewhere below.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from core.db import Store
from core.workdays import WorkCalendar
from search_index import quarterly
from search_index.quarterly import COUNT_KEYS, Counts, Place
from search_index.quarters import Quarter, QuarterError, quarters_between
from search_index.tables import events, quarterly_reports

__all__ = ["QuarterError", "QuarterReport", "QuarterlyReports", "ReportNotPublished"]


class ReportNotPublished(LookupError):
    """A quarter whose report is not out yet (not over, or its deadlines still running)."""

    def __init__(self, quarter: Quarter, publish_at: datetime) -> None:
        super().__init__(quarter.key)
        self.quarter = quarter
        self.publish_at = publish_at


@dataclass(slots=True, frozen=True)
class QuarterReport:
    quarter: Quarter
    frozen_at: datetime
    rows: tuple[tuple[Place, Counts], ...]  # per court and region, sorted

    @property
    def total(self) -> Counts:
        return _summed(self.rows)

    @property
    def by_court(self) -> list[tuple[str, Counts]]:
        return _grouped(self.rows, lambda place: place.court)

    @property
    def by_region(self) -> list[tuple[str, Counts]]:
        return _grouped(self.rows, lambda place: place.region)


class QuarterlyReports:
    def __init__(
        self,
        store: Store,
        calendar: WorkCalendar,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.calendar = calendar
        self.clock = clock  # when a quarter counts as published (tests inject one)
        # Readers need not look for due quarters again before the next publication time:
        # looking scans the journal for its earliest event. (The background round does not
        # skip: it also freezes quarters that data sent late for long-past ones opens up.)
        self._settled_until: datetime | None = None
        # One freeze at a time in this worker: the replay takes a while (about 4 s per 50,000
        # entries on SQLite), and readers arriving meanwhile wait for it, not repeat it.
        self._freezing = threading.Lock()

    def freeze_due(self) -> list[Quarter]:
        """Freeze every published quarter not frozen yet; returns them. The numbers are
        counted outside the write lock (a replay of the journal), then stored unless
        another worker stored them first."""
        with self._freezing:
            return self._freeze_due(self.clock())

    def _freeze_due(self, now: datetime) -> list[Quarter]:
        with self.store.read() as conn:
            frozen = _frozen(conn)
            due = [q for q in self._published_quarters(conn, now) if q not in frozen]
            if not due:
                return []
            tables = quarterly.compute(conn, due, now, self.calendar)
        with self.store.write() as conn:
            done = _frozen(conn)
            rows = [_stored_row(q, now, tables[q]) for q in due if q not in done]
            if rows:
                conn.execute(quarterly_reports.insert(), rows)
        return [q for q in due if q not in done]

    def published(self) -> list[QuarterReport]:
        """Every published report, newest first."""
        self._freeze_for_readers()
        with self.store.read() as conn:
            rows = conn.execute(
                select(quarterly_reports).order_by(quarterly_reports.c.quarter.desc())
            ).mappings()
            return [_report(row) for row in rows]

    def report(self, key: str) -> QuarterReport:
        """The report of quarter ``key`` (e.g. 2026Q3): QuarterError for a malformed key,
        ReportNotPublished for a quarter not published yet."""
        quarter = Quarter.parse(key)
        self._freeze_for_readers()
        with self.store.read() as conn:
            row = (
                conn.execute(
                    select(quarterly_reports).where(quarterly_reports.c.quarter == quarter.key)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise ReportNotPublished(quarter, quarter.publish_at(self.calendar))
        return _report(row)

    def _freeze_for_readers(self) -> None:
        now = self.clock()
        if self._settled_until is not None and now < self._settled_until:
            return
        self.freeze_due()
        self._settled_until = self.next_publication(now)[1]

    def next_publication(self, now: datetime | None = None) -> tuple[Quarter, datetime]:
        """The next quarter to be published and when."""
        now = now or self.clock()
        quarter = Quarter.of(now)
        previous = quarter.previous()
        if previous.publish_at(self.calendar) > now:
            quarter = previous
        return quarter, quarter.publish_at(self.calendar)

    def _published_quarters(self, conn: Connection, now: datetime) -> list[Quarter]:
        """From the quarter of the earliest event to the last one published by ``now``."""
        earliest = conn.execute(
            select(func.min(events.c.effective_at)).where(events.c.applied_at.is_not(None))
        ).scalar()
        if earliest is None:
            return []
        last, _ = self.next_publication(now)
        return quarters_between(Quarter.of(earliest), last.previous())


def _frozen(conn: Connection) -> set[Quarter]:
    keys = conn.execute(select(quarterly_reports.c.quarter)).scalars()
    return {Quarter.parse(key) for key in keys}


def _stored_row(quarter: Quarter, now: datetime, table: quarterly.Table) -> dict[str, Any]:
    rows = [
        {"court": place.court, "region": place.region, **counts.as_dict()}
        for place, counts in sorted(table.items(), key=lambda item: (item[0].court, item[0].region))
    ]
    return {"quarter": quarter.key, "frozen_at": now, "rows": rows}


def _report(row: Any) -> QuarterReport:
    rows = tuple(
        (Place(item["court"], item["region"]), Counts(**{k: item.get(k, 0) for k in COUNT_KEYS}))
        for item in row["rows"]
    )
    return QuarterReport(Quarter.parse(row["quarter"]), row["frozen_at"], rows)


def _summed(rows: Any) -> Counts:
    total = Counts()
    for _place, counts in rows:
        total.add(counts)
    return total


def _grouped(
    rows: tuple[tuple[Place, Counts], ...], key: Callable[[Place], str]
) -> list[tuple[str, Counts]]:
    groups: dict[str, Counts] = {}
    for place, counts in rows:
        groups.setdefault(key(place), Counts()).add(counts)
    return sorted(groups.items())
