"""Dates as the national platform and copied data sets write them, read in China time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from search_index.dates import (
    CST,
    DateParseError,
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
