"""Calendar quarters in Beijing time, and when each one's report is published.

Courts publish the list each quarter, within 30 days of its end (seed 004 二、(三)). Our
report waits for one thing: every removal that took effect in the quarter must have reached
its legal deadline (three working days), so that each one is settled as on time or late
before the numbers are frozen. That is at most a week or so into the next quarter, well
inside the 30 days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core.china_time import CST
from core.workdays import WorkCalendar
from search_index.removals import LEGAL_WORKING_DAYS

_KEY = re.compile(r"^(\d{4})Q([1-4])$")


class QuarterError(ValueError):
    """Not a quarter such as 2026Q3."""


@dataclass(slots=True, frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1–4

    @classmethod
    def parse(cls, key: str) -> Quarter:
        match = _KEY.match(key)
        if match is None:
            raise QuarterError(key)
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, moment: datetime) -> Quarter:
        local = moment.astimezone(CST)
        return cls(local.year, (local.month - 1) // 3 + 1)

    @property
    def key(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), CST)

    @property
    def end(self) -> datetime:
        """The start of the next quarter: a quarter is ``start <= t < end``."""
        return self.next().start

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + self.number // 4, self.number % 4 + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - (self.number == 1), (self.number - 2) % 4 + 1)

    def publish_at(self, calendar: WorkCalendar) -> datetime:
        """When the report is published: the day after the last deadline of a removal that
        took effect in the quarter (one effective on its last day)."""
        deadline = calendar.removal_deadline(
            self.end - timedelta(microseconds=1), LEGAL_WORKING_DAYS
        )
        return datetime.combine(deadline.date() + timedelta(days=1), time(0), CST)

    def label(self, lang: str = "zh") -> str:
        if lang == "en":
            return f"Q{self.number} {self.year}"
        return f"{self.year}年第{'一二三四'[self.number - 1]}季度"


def quarters_between(first: Quarter, last: Quarter) -> list[Quarter]:
    """``first`` through ``last``, in order (empty when ``last`` comes first)."""
    out: list[Quarter] = []
    quarter = first
    while quarter <= last:
        out.append(quarter)
        quarter = quarter.next()
    return out
