"""Periods of the routing file ("3 working days", "15 days") and when they end.

Deadlines are counted like removals (core/workdays.py): a period starts on the China
Standard Time date of the event and ends at 23:59:59.999999 CST of its last day; the start
day never counts. Working days come from the shared WorkCalendar (chinesecalendar plus the
override file, weekends only for years it does not know). A calendar-day period whose last
day is a day off runs to the next working day, as periods do in civil procedure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from core.workdays import CST, WorkCalendar

_PERIOD = re.compile(r"^\s*(\d{1,3})\s+(working\s+)?days?\s*$")


@dataclass(frozen=True, slots=True)
class Period:
    days: int
    working: bool

    @classmethod
    def parse(cls, text: object) -> Period:
        """``"3 working days"`` or ``"15 days"``; ValueError with the accepted forms."""
        match = _PERIOD.match(text) if isinstance(text, str) else None
        if match is None or int(match.group(1)) < 1:
            raise ValueError(f"{text!r} is not a period: write e.g. '3 working days' or '15 days'")
        return cls(int(match.group(1)), match.group(2) is not None)

    def __str__(self) -> str:
        unit = "working day" if self.working else "day"
        return f"{self.days} {unit}{'' if self.days == 1 else 's'}"

    def chinese(self) -> str:
        return f"{self.days}个工作日" if self.working else f"{self.days}日"


def due_at(start: datetime, period: Period, calendar: WorkCalendar) -> datetime:
    """The end of ``period`` counted from ``start`` (an aware datetime)."""
    if start.tzinfo is None:
        raise ValueError("due_at needs an aware datetime")
    day = start.astimezone(CST).date()
    if period.working:
        last = calendar.add_working_days(day, period.days)
    else:
        last = day + timedelta(days=period.days)
        while not calendar.is_workday(last):
            last += timedelta(days=1)
    return datetime.combine(last, time.max, tzinfo=CST)
