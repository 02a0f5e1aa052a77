"""Working-day calendar tests, on the real 2026 schedule.

2026 facts (国务院办公厅关于2026年部分节假日安排的通知, 2025-11-04, as shipped by chinesecalendar):
Spring Festival 02-15..02-23 off, make-up Saturdays 02-14 and 02-28; Mid-autumn 09-25..09-27 off;
National Day 10-01..10-07 off, make-up Sunday 09-20 and Saturday 10-10.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from core.workdays import (
    CST,
    PACKAGED_OVERRIDES,
    CalendarConfigError,
    Coverage,
    WorkCalendar,
    default_calendar,
)

LOGGER = "core.workdays"


def end_of(d: date) -> datetime:
    return datetime.combine(d, time.max, tzinfo=CST)


def write_overrides(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def fallback_warnings(caplog: pytest.LogCaptureFixture, year: int) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == LOGGER and r.levelno == logging.WARNING and f"{year}" in r.getMessage()
    ]


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar()


@pytest.fixture
def needs_2027_uncovered() -> None:
    # These tests are about the fallback; a newer chinesecalendar shipping 2027 would void them.
    if WorkCalendar().coverage(2027) is not Coverage.WEEKENDS_ONLY:
        pytest.skip("2027 now has holiday data; the weekends-only fallback is covered by 2040")


OVERRIDE_2027 = {
    "_comment": "test data, not the real 2027 schedule",
    "2027": {
        "holidays": ["2027-01-01"],
        "workdays": ["2027-01-10"],
        "source": "test",
    },
}


# --- the real 2026 schedule -----------------------------------------------------------------


def test_2026_is_official_and_matches_chinesecalendar(cal: WorkCalendar) -> None:
    assert cal.coverage(2026) is Coverage.OFFICIAL
    d = date(2026, 1, 1)
    while d.year == 2026:
        assert cal.is_workday(d) == chinese_calendar.is_workday(d), d
        d += timedelta(days=1)


def test_national_day_golden_week(cal: WorkCalendar) -> None:
    for day in range(1, 8):
        assert not cal.is_workday(date(2026, 10, day))
    assert cal.is_workday(date(2026, 10, 8))
    assert cal.is_workday(date(2026, 10, 10))  # make-up Saturday
    assert not cal.is_workday(date(2026, 10, 11))
    # 10-08 Thu, 10-09 Fri, then the make-up Saturday 10-10 is the third working day.
    assert cal.removal_deadline(datetime(2026, 9, 30, 10, tzinfo=CST)) == end_of(date(2026, 10, 10))


def test_make_up_sunday_before_national_day(cal: WorkCalendar) -> None:
    assert cal.is_workday(date(2026, 9, 20))
    # Fri 09-18 -> Sun 09-20 (make-up), Mon 09-21, Tue 09-22.
    assert cal.add_working_days(date(2026, 9, 18), 3) == date(2026, 9, 22)


def test_mid_autumn(cal: WorkCalendar) -> None:
    # Thu 09-24 -> 09-25..27 off -> Mon 28, Tue 29, Wed 30.
    assert cal.add_working_days(date(2026, 9, 24), 3) == date(2026, 9, 30)


def test_spring_festival(cal: WorkCalendar) -> None:
    assert cal.is_workday(date(2026, 2, 14))  # make-up Saturday before the holiday
    assert not any(cal.is_workday(date(2026, 2, day)) for day in range(15, 24))
    assert cal.is_workday(date(2026, 2, 28))  # make-up Saturday after it
    # Thu 02-12 -> Fri 13, Sat 14 (make-up), then nine days off -> Tue 24.
    assert cal.add_working_days(date(2026, 2, 12), 3) == date(2026, 2, 24)
    assert cal.add_working_days(date(2026, 2, 13), 3) == date(2026, 2, 25)
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 1 + 4 + 1


def test_friday_gives_wednesday(cal: WorkCalendar) -> None:
    friday = datetime(2026, 11, 20, 17, 30, tzinfo=CST)
    assert cal.removal_deadline(friday) == end_of(date(2026, 11, 25))


def test_saturday_gives_wednesday_start_not_counted(cal: WorkCalendar) -> None:
    saturday = datetime(2026, 11, 21, 9, tzinfo=CST)
    assert cal.removal_deadline(saturday) == end_of(date(2026, 11, 25))
    assert cal.add_working_days(date(2026, 11, 21), 1) == date(2026, 11, 23)


def test_start_day_never_counts_even_if_working(cal: WorkCalendar) -> None:
    assert cal.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 24)


def test_zero_days_returns_start(cal: WorkCalendar) -> None:
    assert cal.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)
    assert cal.removal_deadline(datetime(2026, 10, 3, 8), 0) == end_of(date(2026, 10, 3))


def test_negative_days_rejected(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="n must be >= 0"):
        cal.add_working_days(date(2026, 10, 3), -1)


def test_is_workday_rejects_datetime(cal: WorkCalendar) -> None:
    with pytest.raises(TypeError, match="CST"):
        cal.is_workday(datetime(2026, 10, 3, 8))


# --- time zones -------------------------------------------------------------------------------


def test_deadline_is_aware_cst_end_of_day(cal: WorkCalendar) -> None:
    deadline = cal.removal_deadline(datetime(2026, 11, 20, 1, tzinfo=CST))
    assert deadline.tzinfo is CST
    assert deadline.utcoffset() == timedelta(hours=8)
    assert (deadline.hour, deadline.minute, deadline.second) == (23, 59, 59)
    assert deadline.microsecond == 999_999


def test_naive_datetime_is_cst(cal: WorkCalendar) -> None:
    naive = datetime(2026, 9, 30, 23, 30)
    assert cal.removal_deadline(naive) == cal.removal_deadline(naive.replace(tzinfo=CST))
    assert cal.removal_deadline(naive) == end_of(date(2026, 10, 10))


def test_utc_evening_is_next_day_in_cst(cal: WorkCalendar) -> None:
    # 20:00Z on 09-29 is 04:00 on 09-30 in Beijing: counting from 09-29 would give 10-09.
    utc = datetime(2026, 9, 29, 20, tzinfo=UTC)
    assert cal.removal_deadline(utc) == end_of(date(2026, 10, 10))
    assert cal.removal_deadline(datetime(2026, 9, 29, 11, tzinfo=UTC)) == end_of(date(2026, 10, 9))


# --- working_days_between ---------------------------------------------------------------------


def test_working_days_between(cal: WorkCalendar) -> None:
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 7)) == 0
    assert cal.working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == 0
    assert cal.working_days_between(date(2026, 10, 10), date(2026, 10, 10)) == 0


def test_between_inverts_add(cal: WorkCalendar) -> None:
    start = date(2026, 9, 15)
    for n in range(0, 30):
        assert cal.working_days_between(start, cal.add_working_days(start, n)) == n


# --- years without data -----------------------------------------------------------------------


@pytest.mark.usefixtures("needs_2027_uncovered")
def test_deadline_into_2027_falls_back_to_weekends(
    cal: WorkCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    assert cal.coverage(2027) is Coverage.WEEKENDS_ONLY
    late = datetime(2026, 12, 30, 23, 45, tzinfo=CST)
    # Thu 12-31, Fri 01-01 (no data, so counted), Mon 01-04.
    assert cal.removal_deadline(late) == end_of(date(2027, 1, 4))
    cal.removal_deadline(late)
    cal.working_days_between(date(2027, 1, 1), date(2027, 12, 31))
    warnings = fallback_warnings(caplog, 2027)
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "weekends only" in message
    assert "SHIXIN_HOLIDAYS_FILE" in message


@pytest.mark.usefixtures("needs_2027_uncovered")
def test_warning_is_per_calendar_instance(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    WorkCalendar().is_workday(date(2027, 3, 1))
    WorkCalendar().is_workday(date(2027, 3, 1))
    assert len(fallback_warnings(caplog, 2027)) == 2


@pytest.mark.usefixtures("needs_2027_uncovered")
def test_override_file_changes_2027(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    cal = WorkCalendar(write_overrides(tmp_path, OVERRIDE_2027))
    assert cal.coverage(2027) is Coverage.OVERRIDE
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 1, 10))  # the declared make-up Sunday
    assert not cal.is_workday(date(2027, 1, 9))  # an ordinary Saturday stays off
    late = datetime(2026, 12, 30, 23, 45, tzinfo=CST)
    # Thu 12-31, then 01-01 is a holiday: Mon 01-04, Tue 01-05 (weekends-only said 01-04).
    assert cal.removal_deadline(late) == end_of(date(2027, 1, 5))
    # Fri 01-08 -> Sun 01-10 (make-up), Mon 01-11, Tue 01-12.
    assert cal.add_working_days(date(2027, 1, 8), 3) == date(2027, 1, 12)
    assert fallback_warnings(caplog, 2027) == []


def test_far_future_never_crashes(cal: WorkCalendar, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    assert cal.coverage(2040) is Coverage.WEEKENDS_ONLY
    assert cal.is_workday(date(2040, 1, 2))  # a Monday
    assert not cal.is_workday(date(2040, 1, 1))  # a Sunday
    assert cal.removal_deadline(datetime(2040, 6, 1, 12)) == end_of(date(2040, 6, 6))
    assert cal.add_working_days(date(2039, 12, 30), 260) > date(2040, 12, 1)
    assert len(fallback_warnings(caplog, 2040)) == 1
    assert len(fallback_warnings(caplog, 2039)) == 1


def test_years_before_chinesecalendar_fall_back(cal: WorkCalendar) -> None:
    assert cal.coverage(2003) is Coverage.WEEKENDS_ONLY
    assert cal.coverage(2004) is Coverage.OFFICIAL
    assert cal.is_workday(date(2003, 10, 1))  # a Wednesday; no data, so it counts


# --- overrides --------------------------------------------------------------------------------


def test_override_beats_chinesecalendar(tmp_path: Path) -> None:
    # An operator correcting 2026: suppose 10-08 had been announced as a day off too.
    fix = {"2026": {"holidays": ["2026-10-08"], "workdays": ["2026-10-10"], "source": "fix"}}
    cal = WorkCalendar(write_overrides(tmp_path, fix))
    assert cal.coverage(2026) is Coverage.OVERRIDE
    assert not cal.is_workday(date(2026, 10, 8))
    # The year is replaced wholesale: the National Day days not listed are ordinary weekdays.
    assert cal.is_workday(date(2026, 10, 7))
    assert WorkCalendar().is_workday(date(2026, 10, 8))


def test_packaged_file_is_valid_and_documented() -> None:
    data = json.loads(PACKAGED_OVERRIDES.read_text(encoding="utf-8"))
    assert "SHIXIN_HOLIDAYS_FILE" in data["_comment"]
    WorkCalendar()  # validates it


def test_default_calendar_is_cached_per_path(tmp_path: Path) -> None:
    path = write_overrides(tmp_path, OVERRIDE_2027)
    assert default_calendar() is default_calendar()
    assert default_calendar(path) is default_calendar(path)
    assert default_calendar(path) is not default_calendar()
    assert default_calendar(path).coverage(2027) is Coverage.OVERRIDE


def test_is_workday_is_cached(cal: WorkCalendar, monkeypatch: pytest.MonkeyPatch) -> None:
    d = date(2026, 10, 8)
    assert cal.is_workday(d)
    monkeypatch.setattr(WorkCalendar, "_compute", lambda self, d: pytest.fail("not cached"))
    assert cal.is_workday(d)


@pytest.mark.parametrize(
    ("data", "bad_value"),
    [
        ({"2027": {"holidays": ["2026-12-31"]}}, "2026-12-31"),  # wrong year
        ({"2027": {"holidays": ["2027-01-09"], "workdays": ["2027-01-09"]}}, "2027-01-09"),
        ({"2027": {"workdays": ["2027-01-04"]}}, "2027-01-04"),  # a Monday as make-up day
        ({"2027": {"holidays": ["2027-02-30"]}}, "2027-02-30"),
        ({"2027": {"holidays": ["1/1/2027"]}}, "1/1/2027"),
        ({"2027": {"holidays": [20270101]}}, "20270101"),
        ({"2027": {"holidays": "2027-01-01"}}, "2027-01-01"),
        ({"2027": {"holiday": ["2027-01-01"]}}, "holiday"),
        ({"2027": {"source": 7}}, "7"),
        ({"27": {"holidays": []}}, "27"),
        ({"2027": ["2027-01-01"]}, "2027-01-01"),
    ],
)
def test_malformed_override_file(tmp_path: Path, data: object, bad_value: str) -> None:
    path = write_overrides(tmp_path, data)
    with pytest.raises(CalendarConfigError) as info:
        WorkCalendar(path)
    message = str(info.value)
    assert str(path) in message
    assert bad_value in message


def test_unparsable_or_missing_override_file(tmp_path: Path) -> None:
    path = tmp_path / "holidays.json"
    path.write_text('{"2027": {"holidays": ["2027-01-01",]}}', encoding="utf-8")
    with pytest.raises(CalendarConfigError, match="not valid JSON") as info:
        WorkCalendar(path)
    assert str(path) in str(info.value)
    with pytest.raises(CalendarConfigError, match="cannot read"):
        WorkCalendar(tmp_path / "missing.json")
    write_overrides(tmp_path, ["2027-01-01"])
    with pytest.raises(CalendarConfigError, match="keyed by year"):
        WorkCalendar(path)


def test_config_error_is_value_error() -> None:
    assert issubclass(CalendarConfigError, ValueError)
