"""China Standard Time, the one time zone of the list's legal deadlines.

China has had no daylight saving time since 1991, so a fixed UTC+8 offset is exact and needs
no tzdata. Every module that needs Beijing time takes it from here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

__all__ = ["CST", "now_cst", "today_cst"]

CST = timezone(timedelta(hours=8), "CST")


def now_cst() -> datetime:
    return datetime.now(CST)


def today_cst() -> date:
    return now_cst().date()
