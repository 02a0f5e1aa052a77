"""The admin pages say when the list was last imported and how far the index lags, in words,
and the back office's home adds the last day's imports as a chart (an inline SVG with a
title, a description and a table of the same numbers: readable without JavaScript)."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from casework_site import CaseSite, TestClient, cs_fixture  # noqa: F401  (cs_fixture)
from support import person, records

from portal.import_chart import chart_svg, freshness
from search_index.dates import CST

HOME = "/unit/admin/"


def admin(cs: CaseSite) -> TestClient:
    return cs.login("admin", name="平台管理员", admin=True)  # type: ignore[arg-type]


def section(html: str) -> str:
    found = re.search(r'<section class="list-freshness".*?</section>', html, re.S)
    assert found, "no freshness section"
    return unescape(found.group(0))


def test_the_back_office_says_when_the_list_was_last_imported_and_charts_the_day(
    cs: CaseSite,
) -> None:
    cs.site.service.ingest(records(person("fresh-1"), person("fresh-2")), source="cli:day.jsonl")
    page = admin(cs).get(HOME)
    assert page.status_code == 200
    shown = section(page.text)
    last = re.search(
        r"最近一次导入：(\d{4}-\d\d-\d\d \d\d:\d\d)（北京时间，刚刚），来源 (\S+)，2 行。", shown
    )
    assert last and last.group(2) == "cli:day.jsonl", shown
    assert "检索索引已同步" in shown
    # The chart: a labelled image of 24 bars, the busiest hour the current one.
    svg = re.search(r"<svg.*?</svg>", shown, re.S)
    assert svg and 'role="img"' in svg.group(0)
    assert '<title id="import-chart-title">最近 24 小时每小时导入的行数</title>' in svg.group(0)
    assert re.search(r"<desc[^>]*>最近 24 小时共导入 \d+ 次", svg.group(0))
    assert len(re.findall(r'<rect class="bar"', svg.group(0))) == 24
    assert "<script" not in shown and "style=" not in shown  # nothing the CSP would refuse
    # The same numbers as a table, the current hour last.
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td>', shown)
    assert len(rows) == 24
    activity = cs.site.service.import_activity()
    current = activity.hours[-1]
    assert rows[-1] == (
        f"{current.start:%m-%d %H}:00–{current.start + timedelta(hours=1):%H}:00",
        str(current.imports),
    )
    assert current.imports >= 1 and current.lines >= 2


def test_an_index_behind_the_store_is_said_in_words(cs: CaseSite) -> None:
    browser = admin(cs)
    cs.site.service.ingest(records(person("behind-1")), source="test", sync=False)
    shown = section(browser.get(HOME).text)
    lag = re.search(r'<p id="index-lag" class="warning">检索索引落后 (\d+) 项变更', shown)
    assert lag and int(lag.group(1)) >= 1, shown
    cs.site.service.sync()
    assert "检索索引已同步" in section(browser.get(HOME).text)


def test_the_other_admin_pages_say_it_in_words_without_the_chart(cs: CaseSite) -> None:
    browser = admin(cs)
    for path in ("/unit/admin/routing", "/unit/admin/api-keys"):
        page = browser.get(path)
        assert page.status_code == 200, path
        shown = section(page.text)
        assert "最近一次导入：" in shown and "检索索引" in shown, path
        assert "<svg" not in shown, path


def test_hours_are_counted_from_the_clock_given(cs: CaseSite) -> None:
    service = cs.site.service
    service.ingest(records(person("clock-1"), person("clock-2"), person("clock-3")), source="t")
    now = service.import_activity().now
    later = service.import_activity(now + timedelta(hours=3))
    assert later.hours[0].start.utcoffset() == CST.utcoffset(None)  # Beijing hours
    assert len(later.hours) == 24 and later.hours[-1].imports == 0
    assert later.hours[-4].imports >= 1 and later.hours[-4].lines >= 3  # three hours back
    words = freshness(later, 1.0)
    assert "（北京时间，3 小时前）" in words.last_import and not words.stale

    gone = freshness(service.import_activity(now + timedelta(days=2)), 1.0)
    assert "2 天前" in gone.last_import and "已超过一天没有新的导入" in gone.last_import
    assert gone.stale and gone.total_imports == 0
    assert "最近 24 小时没有导入。" in gone.chart
    assert 'height="0"' in gone.chart and "最多" not in gone.chart


def test_a_store_that_never_imported_says_so() -> None:
    from datetime import UTC, datetime

    from search_index.imports import ImportActivity, ImportHour

    now = datetime(2030, 1, 1, 12, tzinfo=UTC)
    hours = [ImportHour(now - timedelta(hours=23 - n), 0, 0) for n in range(24)]
    empty = freshness(ImportActivity(None, hours, 0, now), 1.0)
    assert empty.last_import == "尚未导入过名单。" and empty.stale
    assert chart_svg(hours, 0, 0).count('<rect class="bar"') == 24
