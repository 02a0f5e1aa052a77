"""Quarterly reports (issue 15, item 6): per quarter, court and region, the new listings,
the removals by ground and how timely they were (ours and the senders'), the corrections;
published and frozen once the quarter's deadlines have passed; a page with charts, CSV and
XLSX downloads (SQLite and PostgreSQL).

The fixture spans two quarters, both counted back from the session's clock: Q holds the
last hour, P is the quarter before it. The reports' own clock is injected: a test moves it
past a quarter's publication time instead of waiting for the calendar.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import unescape

import pytest
from openpyxl import load_workbook
from site_support import Site, full_ids_in, running
from support import NOW, correction, id_number, ingest, org, person, removal

from core.settings import Settings
from search_index import quarterly
from search_index.dates import CST
from search_index.quarterly import Counts
from search_index.quarters import Quarter
from search_index.reports import QuarterlyReports, ReportNotPublished
from search_index.service import ListService

COURT_A = "北京市朝阳区人民法院"  # person()'s court, region 北京
COURT_B = "上海市浦东新区人民法院"  # org()'s court, region 上海
RECENT = NOW - timedelta(hours=1)  # inside every removal's deadline on arrival
Q = Quarter.of(RECENT)
P = Q.previous()
SECRET_NAMES = [
    "张伟甲",
    "张伟乙",
    "张伟丙",
    "张伟丁",
    "张伟戊",
    "上海某某科技有限公司",
    "秘密某某",
]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Seeded:
    cards: list[str]  # every full ID number sent


def _day(d: date) -> str:
    return d.isoformat()


def _at(d: date, hour: int = 10) -> str:
    return datetime(d.year, d.month, d.day, hour, tzinfo=CST).isoformat()


def seed(service: ListService) -> Seeded:
    """P: a (shielded, reached us late), b (expired on arrival), c (corrected) are listed.
    Q: c is revoked, d listed and deleted, e listed and corrected, f listed and shielded
    but the index never drops it; g is never fit for publication."""
    p0, q = P.first_day, RECENT.date()
    cards = [id_number() for _ in range(5)]
    a, c, d, e, g = (
        person(name, iname=iname, cardNum=card, publishDate=day)
        for name, iname, card, day in zip(
            "acdeg",
            ["张伟甲", "张伟乙", "张伟丙", "张伟丁", "秘密某某"],
            cards,
            [_day(p0 + timedelta(5)), _day(p0 + timedelta(5)), _day(q), _day(q), _day(q)],
            strict=True,
        )
    )
    g["disclose"] = False
    b = org("b", publishDate=_day(p0 + timedelta(5)), validUntil=_day(p0 + timedelta(20)))
    f = org("f", iname="上海某某贸易有限公司", publishDate=_day(q))
    recent = RECENT.isoformat(timespec="seconds")
    report = ingest(
        service,
        a, b, c, d, e, f, g,
        removal("shield", "a", _at(p0 + timedelta(30))),
        correction("c", _at(p0 + timedelta(40)), unperformPart="五万元"),
        removal("revoke", "c", recent, reason="错误纳入"),
        removal("delete", "d", recent),
        correction("e", recent, unperformPart="八万元"),
    )  # fmt: skip
    assert not report.rejected, [r.as_dict() for r in report.rejected]
    # The index never gets to drop f: its removal runs past the deadline.
    ingest(service, removal("shield", "f", recent), sync=False)
    return Seeded(cards)


def reports_at(service: ListService, now: datetime) -> tuple[QuarterlyReports, Clock]:
    clock = Clock(now)
    return QuarterlyReports(service.store, service.calendar, clock), clock


def counts(**given: int) -> Counts:
    return Counts(**given)


P_BY_COURT = {
    COURT_A: counts(listed=2, shielded=1, senders_late=1, corrected=1),
    COURT_B: counts(listed=1, expired=1, senders_late=1),
}
Q_BY_COURT = {
    COURT_A: counts(listed=2, revoked=1, deleted=1, ours_on_time=2, corrected=1),
    COURT_B: counts(listed=1, shielded=1, ours_late=1),
}


def test_the_numbers_of_two_quarters_per_court_and_region(service: ListService) -> None:
    seed(service)
    reports, _clock = reports_at(service, Q.publish_at(service.calendar) + timedelta(hours=1))
    p, q = reports.report(P.key), reports.report(Q.key)
    assert dict(p.by_court) == P_BY_COURT
    assert dict(q.by_court) == Q_BY_COURT
    assert dict(p.by_region) == {"北京": P_BY_COURT[COURT_A], "上海": P_BY_COURT[COURT_B]}
    assert dict(q.by_region) == {"北京": Q_BY_COURT[COURT_A], "上海": Q_BY_COURT[COURT_B]}
    assert q.total == counts(
        listed=3, revoked=1, deleted=1, shielded=1, ours_on_time=2, ours_late=1, corrected=1
    )
    assert q.total.removed == 3
    assert [r.quarter for r in reports.published()] == [Q, P]


def test_a_quarter_is_published_once_its_deadlines_have_passed(service: ListService) -> None:
    seed(service)
    publish_q = Q.publish_at(service.calendar)
    assert Q.last_day < publish_q.date() <= Q.last_day + timedelta(days=30)
    reports, clock = reports_at(service, P.publish_at(service.calendar) + timedelta(hours=1))
    assert [r.quarter for r in reports.published()] == [P]
    clock.now = publish_q - timedelta(seconds=1)  # over, but its last deadlines still run
    with pytest.raises(ReportNotPublished) as raised:
        reports.report(Q.key)
    assert raised.value.publish_at == publish_q
    assert reports.next_publication() == (Q, publish_q)


def test_a_published_report_is_frozen_against_late_data(service: ListService) -> None:
    seed(service)
    frozen_at = Q.publish_at(service.calendar) + timedelta(hours=1)
    reports, clock = reports_at(service, frozen_at)
    assert reports.freeze_due() == [P, Q]
    # A shielding of e that took effect in Q reaches us after the report is out.
    late = (RECENT + timedelta(minutes=1)).isoformat(timespec="seconds")
    ingest(service, removal("shield", "e", late))
    clock.now = frozen_at + timedelta(days=3)
    report = reports.report(Q.key)
    assert report.frozen_at == frozen_at
    assert dict(report.by_court) == Q_BY_COURT
    with service.store.read() as conn:  # counted afresh, the late shielding would show
        fresh = quarterly.compute(conn, [Q], clock.now, service.calendar)[Q]
    assert sum(c.shielded for c in fresh.values()) == 2


def test_a_bad_quarter_key_is_refused(service: ListService) -> None:
    reports, _clock = reports_at(service, NOW)
    from search_index.quarters import QuarterError

    for key in ("2026Q5", "2026-3", "", "2026q3"):
        with pytest.raises(QuarterError):
            reports.report(key)


def test_quarters_run_through_the_year() -> None:
    assert Quarter.parse("2026Q4").next() == Quarter(2027, 1)
    assert Quarter(2027, 1).previous() == Quarter(2026, 4)
    assert Quarter.of(datetime(2026, 3, 31, 23, 59, tzinfo=CST)) == Quarter(2026, 1)
    assert Quarter.of(datetime(2026, 3, 31, 16, 0, tzinfo=CST).astimezone()) == Quarter(2026, 1)
    assert Quarter(2026, 3).label() == "2026年第三季度"
    assert Quarter(2026, 3).label("en") == "Q3 2026"


# --- The pages and the downloads --------------------------------------------------------

IMG = re.compile(r'<img src="([^"]+\.svg\?lang=(?:zh|en))" width="720" height="400" alt="([^"]+)">')
SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def site(settings: Settings) -> Iterator[tuple[Site, Seeded, Clock]]:
    """The portal with the fixture, its reports' clock just past Q's publication."""
    with running(settings) as s:
        seeded = seed(s.service)
        clock = Clock(Q.publish_at(s.service.calendar) + timedelta(hours=1))
        s.app.state.reports = QuarterlyReports(s.service.store, s.service.calendar, clock)
        yield s, seeded, clock


def svgs(s: Site, html: str) -> list[ET.Element]:
    """The page's charts, fetched as its images and parsed as XML (so each is well-formed):
    static pictures, with no script, labelled by a title and a description."""
    found = IMG.findall(html)
    assert found, "no chart on the page"
    out = []
    for src, alt in found:
        response = s.client.get(src)
        assert response.status_code == 200, src
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert "<script" not in response.text
        svg = ET.fromstring(response.text)
        assert not list(svg.iter(f"{SVG_NS}script"))
        assert svg.get("role") == "img"
        assert svg.find(f"{SVG_NS}title").text == unescape(alt)  # type: ignore[union-attr]
        assert svg.find(f"{SVG_NS}desc") is not None
        out.append(svg)
    return out


def test_the_report_page_shows_tables_and_static_charts(site: tuple[Site, Seeded, Clock]) -> None:
    s, _seeded, clock = site
    listing = s.client.get("/quarterly")
    assert listing.status_code == 200
    assert (
        f'href="/quarterly/{Q.key}"' in listing.text
        and f'href="/quarterly/{P.key}"' in listing.text
    )
    page = s.client.get(f"/quarterly/{Q.key}")
    assert page.status_code == 200
    html = page.text
    assert Q.label() in html and '<dd id="total-listed">3</dd>' in html
    assert '<dd id="total-ours-late">1</dd>' in html
    assert clock.now.astimezone(CST).strftime("%Y-%m-%d %H:%M") in html  # when it was frozen
    row = re.search(r'<table class="report-table" id="by-court">.*?</table>', html, re.S)
    assert row and COURT_B in row.group(0)
    for path in ("/quarterly", f"/quarterly/{Q.key}", "/stats"):  # as every page of the site
        text = s.client.get(path).text
        assert "<script" not in text and "<style" not in text and " style=" not in text, path
    assert len(svgs(s, html)) == 3
    assert html.count("<details>") == 3  # each chart's numbers as a table
    assert s.client.get(f"/quarterly/{Q.key}/nothing.svg").status_code == 404
    assert s.client.get(f"/quarterly/{Q.next().key}/chart-grounds.svg").status_code == 404
    english = s.client.get(f"/quarterly/{Q.key}?lang=en").text
    assert "Quarterly reports" in english and Q.label("en") in english
    assert "Removals by ground" in english


def test_a_quarter_not_published_is_a_clear_404(site: tuple[Site, Seeded, Clock]) -> None:
    s, seeded, _clock = site
    upcoming = Q.next()
    response = s.client.get(f"/quarterly/{upcoming.key}")
    assert response.status_code == 404
    assert "还没有公布" in response.text
    assert f'href="/quarterly/{upcoming.key}"' not in s.client.get("/quarterly").text
    bad = s.client.get("/quarterly/2026Q9")
    assert bad.status_code == 404 and "不是季度" in bad.text
    assert "is not a quarter" in s.client.get("/quarterly/2026Q9?lang=en").text
    card = seeded.cards[0]
    echoed = s.client.get(f"/quarterly/{card}")
    problem = re.search(r'<p id="problem">(.*?)</p>', echoed.text, re.S)
    assert echoed.status_code == 404 and problem and full_ids_in(problem.group(1)) == []
    assert card[:10] + "****" in problem.group(1)  # the answer still says what it read


def test_the_csv_and_xlsx_carry_the_same_numbers(site: tuple[Site, Seeded, Clock]) -> None:
    s, _seeded, _clock = site
    response = s.client.get(f"/quarterly/{Q.key}.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0][0].startswith(f"# quarter={Q.key}")
    header, rows = lines[1], lines[2:]
    assert header[:3] == ["范围", "名称", "新纳入"]
    by_name = {(r[0], r[1]): r[2:] for r in rows}
    assert by_name[("合计", "")] == ["3", "1", "1", "1", "0", "2", "1", "0", "1"]
    assert by_name[("法院", COURT_B)] == ["1", "1", "0", "0", "0", "0", "1", "0", "0"]
    assert by_name[("地区", "北京")][0] == "2"
    english = s.client.get(f"/quarterly/{Q.key}.csv?lang=en").content.decode("utf-8-sig")
    assert "Newly listed" in english.splitlines()[1]

    xlsx = s.client.get(f"/quarterly/{Q.key}.xlsx")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    sheet = [list(r) for r in book[Q.key].iter_rows(values_only=True)]
    assert sheet[0][:3] == ["范围", "名称", "新纳入"]
    assert sheet[1] == ["合计", None, 3, 1, 1, 1, 0, 2, 1, 0, 1]
    assert s.client.get(f"/quarterly/{Q.key}.pdf").status_code == 404
    assert s.client.get(f"/quarterly/{Q.next().key}.csv").status_code == 404


def test_stats_shows_the_quarters_over_time(site: tuple[Site, Seeded, Clock]) -> None:
    s, _seeded, _clock = site
    html = s.client.get("/stats").text
    assert 'id="trend-changes"' in html and 'id="trend-timely"' in html
    charts = svgs(s, html)
    assert len(charts) == 2
    assert P.label() in html and Q.label() in html
    assert any(P.label() in "".join(svg.itertext()) for svg in charts)


def test_no_name_and_no_full_id_number_in_any_report_or_chart(
    site: tuple[Site, Seeded, Clock],
) -> None:
    s, seeded, _clock = site
    pages = [
        s.client.get(path).text
        for path in ("/quarterly", f"/quarterly/{P.key}", f"/quarterly/{Q.key}", "/stats")
    ]
    texts = pages + [s.client.get(src).text for page in pages for src, _alt in IMG.findall(page)]
    assert sum("<svg" in text for text in texts) == 8  # every chart is scanned
    texts += [s.client.get(f"/quarterly/{q.key}.csv").content.decode("utf-8-sig") for q in (P, Q)]
    for q in (P, Q):
        book = load_workbook(io.BytesIO(s.client.get(f"/quarterly/{q.key}.xlsx").content))
        texts += [
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        ]
    everything = "\n".join(texts)
    for secret in [*SECRET_NAMES, "上海某某贸易有限公司", "李四", *seeded.cards]:
        assert secret not in everything
    for card in seeded.cards:
        assert card[:10] + "****" + card[14:] not in everything  # not even masked
    assert full_ids_in(everything) == []
    for entry_id in "abcdefg":
        assert f'"/entries/{entry_id}"' not in everything
