"""The numbers of the public accountability table (/stats/units) for a range of days.

Per unit: what it received, what it answered on time, what it let run late, its median time
to reply and how often it was reported to its supervisor (casework/stats.py); and the
tickets per report area and complaint type. Numbers only: no ticket's text, submitter,
entry or number is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from casework.service import CaseService
from casework.stats import UnitStats, accountability, category_counts, day_bounds


@dataclass(frozen=True, slots=True)
class UnitNumbers:
    start: date
    end: date  # inclusive, China time
    rows: list[UnitStats]  # by unit code
    areas: list[tuple[str, int]]  # report area name, tickets
    complaint_types: list[tuple[str, int]]  # complaint type name, tickets
    generated_at: datetime


def unit_numbers(cases: CaseService, start: date, end: date) -> UnitNumbers:
    """The numbers for the days start..end (China time), as of the CaseService's now."""
    now = cases.now()
    since, until = day_bounds(start, end)
    routing = cases.routing

    def name(code: str) -> str:
        unit = routing.unit(code)
        return unit.name if unit else code

    with cases.store.read() as conn:
        rows = accountability(conn, now, since, name, until=until, calendar=cases.calendar)
        counts = category_counts(conn, routing, since, until)
    return UnitNumbers(start, end, rows, counts.areas, counts.complaint_types, now)
