"""Quarterly reports (issue 15, item 6): per quarter, court and region, the new listings,
the removals by ground and how timely they were (ours and the senders'), the corrections;
published and frozen once the quarter's deadlines have passed; a page with charts, CSV and
XLSX downloads (SQLite and PostgreSQL).

The fixture spans two quarters, both counted back from the session's clock: Q holds the
last hour, P is the quarter before it. The reports' own clock is injected: a test moves it
past a quarter's publication time instead of waiting for the calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from support import NOW, correction, id_number, ingest, org, person, removal

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
