"""Dates as the national platform and copied data sets write them, read in China time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from support import TODAY, days_ago, instant_days_ago, iso_days_ago

from search_index.dates import (
    CST,
    EARLIEST,
    MAX_LEAD,
    PERIOD_END_YEARS,
    DateOutOfRange,
    DateParseError,
    latest_period_end,
    now_cst,
    parse_date,
    parse_instant,
    to_iso,
    today_cst,
)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2019-07-13", date(2019, 7, 13)),
        ("2019-7-3", date(2019, 7, 3)),
        ("20190709", date(2019, 7, 9)),  # regDate
        (20190709, date(2019, 7, 9)),  # regDate read from JSON as a number
        ("2019年07月13日", date(2019, 7, 13)),  # publishDate
        ("2019年7月13日", date(2019, 7, 13)),
        ("2019/07/13", date(2019, 7, 13)),
        ("2019.07.13", date(2019, 7, 13)),
        ("２０１９年０７月１３日", date(2019, 7, 13)),
        ("２０１９－０７－１３", date(2019, 7, 13)),
        (" 2019-07-13\n", date(2019, 7, 13)),
        ("2019-07-13T10:30:00+08:00", date(2019, 7, 13)),
        ("2019-07-13 10:30:00", date(2019, 7, 13)),
    ],
)
def test_parse_date_accepts_every_published_form(written: str | int, expected: date) -> None:
    assert parse_date(written) == expected


def test_parse_date_takes_the_china_date_of_a_utc_datetime() -> None:
    # 20:00 UTC on the 13th is already the 14th in Beijing.
    assert parse_date("2019-07-13T20:00:00Z") == date(2019, 7, 14)


@pytest.mark.parametrize(
    "bad",
    ["2019-02-30", "2019-13-01", "20190230", "2019/07-13", "2019年13月1日", "明天", "", "2019"],
)
def test_parse_date_rejects_impossible_and_unknown_dates(bad: str) -> None:
    with pytest.raises(DateParseError) as caught:
        parse_date(bad)
    assert caught.value.code == "bad_date"
    assert str(caught.value) == (
        f"无法识别的日期：'{bad}'，请使用 2019-07-13、20190709 或 2019年07月13日"
    )


def test_parse_date_rejects_non_dates_with_the_same_error() -> None:
    with pytest.raises(DateParseError):
        parse_date(True)  # type: ignore[arg-type]
    with pytest.raises(DateParseError):
        parse_date(None)  # type: ignore[arg-type]


def test_parse_instant_converts_offsets_to_china_time() -> None:
    instant = parse_instant("2019-07-13T12:00:00Z")
    assert instant == datetime(2019, 7, 13, 20, 0, tzinfo=CST)
    assert instant.utcoffset() == timedelta(hours=8)
    assert parse_instant("2019-07-13T12:00:00+02:00").hour == 18


def test_parse_instant_reads_naive_times_as_china_time() -> None:
    assert parse_instant("2019-07-13T09:15:00") == datetime(2019, 7, 13, 9, 15, tzinfo=CST)


@pytest.mark.parametrize("written", ["2019年07月13日", "20190713", "2019-7-13"])
def test_parse_instant_reads_a_date_as_midnight_in_china(written: str) -> None:
    assert parse_instant(written) == datetime(2019, 7, 13, tzinfo=CST)


@pytest.mark.parametrize("bad", ["2019-07-13T25:00", "2019-02-30", "yesterday"])
def test_parse_instant_rejects_bad_values(bad: str) -> None:
    with pytest.raises(DateParseError) as caught:
        parse_instant(bad)
    assert caught.value.code == "bad_date"


def test_to_iso_writes_china_offset_to_the_second() -> None:
    assert to_iso(parse_instant("2019-07-13T12:00:00.123456Z")) == "2019-07-13T20:00:00+08:00"
    assert to_iso(datetime(2019, 7, 13, 9, 0)) == "2019-07-13T09:00:00+08:00"


def test_now_and_today_are_china_time() -> None:
    now = now_cst()
    assert now.utcoffset() == timedelta(hours=8)
    assert today_cst() in {now.date(), now.date() + timedelta(days=1)}


# --- Bounds: a date the list cannot carry is refused, never an overflow -----------------------


@pytest.mark.clock
@pytest.mark.parametrize(
    "absurd", ["0001-01-01", "00010101", "1989-12-31", "1900年01月01日", "0001-01-01T00:00:00"]
)
def test_a_date_before_1990_is_out_of_range_with_its_own_chinese_message(absurd: str) -> None:
    with pytest.raises(DateOutOfRange) as caught:
        parse_date(absurd)
    assert isinstance(caught.value, DateParseError)  # callers that catch the parent still do
    assert caught.value.code == "date_out_of_range"
    assert str(caught.value) == f"日期超出合理范围：'{absurd}' 早于 1990-01-01，请核对年份"


@pytest.mark.clock
def test_publish_and_filing_dates_may_lie_at_most_a_short_span_ahead() -> None:
    assert parse_date(iso_days_ago(0)) == TODAY
    assert parse_date(iso_days_ago(-MAX_LEAD.days)) == days_ago(-MAX_LEAD.days)
    assert parse_date(EARLIEST.isoformat()) == EARLIEST
    for ahead in (MAX_LEAD.days + 2, 400, 3000):
        with pytest.raises(DateOutOfRange) as caught:
            parse_date(iso_days_ago(-ahead))
        assert "晚于" in caught.value.message and "请核对年份" in caught.value.message
    with pytest.raises(DateOutOfRange):
        parse_date("9999-12-31")


@pytest.mark.clock
def test_a_listing_period_end_may_lie_decades_ahead_when_the_caller_says_so() -> None:
    latest = latest_period_end()
    assert latest.year == TODAY.year + PERIOD_END_YEARS
    assert parse_date("2099-12-31", latest=latest) == date(2099, 12, 31)
    assert parse_date(iso_days_ago(-3000), latest=latest) == days_ago(-3000)
    with pytest.raises(DateOutOfRange) as caught:
        parse_date("9999-12-31", latest=latest)
    assert caught.value.message == (
        f"日期超出合理范围：'9999-12-31' 晚于 {latest.isoformat()}，请核对年份"
    )
    with pytest.raises(DateOutOfRange):  # the earliest bound holds for it too
        parse_date("0001-01-01", latest=latest)


def test_a_search_filter_may_pass_no_bounds_at_all() -> None:
    assert parse_date("0001-01-01", earliest=date.min, latest=date.max) == date(1, 1, 1)
    assert parse_date("9999-12-31", earliest=date.min, latest=date.max) == date(9999, 12, 31)


@pytest.mark.clock
@pytest.mark.parametrize(
    ("absurd", "side"),
    [
        ("0001-01-01", "早于"),
        ("0001-01-01T00:00:00+14:00", "早于"),  # no CST form at all: it used to overflow
        ("1989-12-31T23:59:59+08:00", "早于"),
        ("9999-12-31T23:59:59-12:00", "晚于"),  # the same at the other end of the calendar
        ("9999-12-31", "晚于"),
        ("2109-07-13T10:00:00+08:00", "晚于"),
    ],
)
def test_an_absurd_instant_is_out_of_range_not_an_overflow(absurd: str, side: str) -> None:
    with pytest.raises(DateOutOfRange) as caught:
        parse_instant(absurd)
    assert caught.value.message.startswith(f"日期超出合理范围：'{absurd}' {side} ")


@pytest.mark.clock
def test_instants_within_the_bounds_are_read_as_before() -> None:
    # 16:00 UTC on the last day of 1989 is already 1990 in Beijing.
    assert parse_instant("1989-12-31T16:00:00Z") == datetime(1990, 1, 1, tzinfo=CST)
    soon = instant_days_ago(-(MAX_LEAD.days - 1))
    assert parse_instant(soon) == datetime.fromisoformat(soon)
    with pytest.raises(DateOutOfRange):
        parse_instant(instant_days_ago(-(MAX_LEAD.days + 2)))
    assert parse_instant(soon, latest=latest_period_end()) == datetime.fromisoformat(soon)
