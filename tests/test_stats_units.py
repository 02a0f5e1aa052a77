"""/stats/units: the public accountability table per unit, numbers only (SQLite and
PostgreSQL)."""

from __future__ import annotations

import re
from html import unescape

from casework_site import CaseSite, cs_fixture  # noqa: F401  (cs_fixture)
from test_casework_support import HOSTILE_TEXT, Clock

from casework.accounts import Actor, login
from casework.intake import Submission
from casework.service import CaseService

ROW = re.compile(r'<tr id="unit-\d+" data-unit="([^"]+)">(.*?)</tr>', re.S)
CELL = re.compile(r'<td class="num"[^>]*>([^<]*)</td>')
SORT_LINK = re.compile(r'href="(/stats/units\?sort=[^"]*)"')


def rows(body: str) -> dict[str, list[str]]:
    return {unit: CELL.findall(cells) for unit, cells in ROW.findall(body)}


def order(body: str) -> list[str]:
    return [unit for unit, _cells in ROW.findall(body)]


def actor(cs: CaseSite, code: str) -> Actor:
    name, password = cs.unit(code)
    return login(cs.cases.store, name, password)


def report(cs: CaseSite, what: str = "入住五星级酒店") -> int:
    sub = Submission(kind="report", category="consumption.hotel", what=what, debtor_name="张伟")
    return cs.cases.submit(sub).ticket_id


def seeded(cs: CaseSite) -> tuple[Clock, list[str]]:
    """tourism: one ticket left to run late, one answered on time, one transferred late to
    commerce; one complaint for the executing court. Now: Monday 2026-11-30."""
    clock = Clock("2026-11-23T10:00:00")  # a Monday: tourism must accept by Thursday 11-26
    old = cs.cases
    cs.site.app.state.cases = CaseService(old.store, old.routing, old.calendar, clock)
    tourism = actor(cs, "tourism")
    hostile = cs.cases.submit(
        Submission(
            kind="report",
            category="consumption.hotel",
            what=HOSTILE_TEXT,
            debtor_name=HOSTILE_TEXT[:200],
            where=HOSTILE_TEXT[:200],
            email="whistle@example.com",
        )
    )
    answered = report(cs)
    passed_on = report(cs)
    complaint = cs.cases.submit(
        Submission(kind="complaint", category="inaccurate-info", entry_id="p1", what="已履行")
    )
    cs.cases.accept(tourism, answered)
    clock.set("2026-11-24T10:00:00")
    cs.cases.reply(tourism, answered, "已核查处理")
    clock.set("2026-11-30T09:00:00")
    cs.cases.sweep_overdue()
    cs.cases.transfer(tourism, passed_on, "commerce", "属商务局职责")
    return clock, [hostile.number, complaint.number, hostile.access_code]


def test_numbers_per_unit(cs: CaseSite) -> None:
    seeded(cs)
    response = cs.client.get("/stats/units")
    assert response.status_code == 200
    table = rows(response.text)
    # received, accepted on time, accepted late, replied on time, replied late,
    # open and overdue now, median time to reply, reported overdue
    assert table["tourism"] == ["3", "1", "1", "1", "0", "1", "1 个工作日", "2"]
    assert table["commerce"] == ["1", "0", "0", "0", "0", "0", "—", "0"]
    assert set(table) == {"tourism", "commerce", "court:北京市朝阳区人民法院"}
    assert table["court:北京市朝阳区人民法院"][0] == "1"
    assert "旅游局" in response.text and "商务局" in response.text
    assert "2025-12-01 至 2026-11-30" in response.text  # the last 365 days by default
    assert 'id="report-areas"' in response.text and "限制高消费及有关消费" in response.text
    areas = re.search(r'id="report-areas".*?</table>', response.text, re.S)
    assert areas and re.search(r"限制高消费及有关消费</th><td class=\"num\">3<", areas.group(0))
    types = re.search(r'id="complaint-types".*?</table>', response.text, re.S)
    assert types and '<td class="num">1<' in types.group(0)
    assert '<th scope="col"' in response.text and "<caption>" in response.text


def test_no_ticket_text_submitter_or_number_shows(cs: CaseSite) -> None:
    _clock, secrets = seeded(cs)
    body = cs.client.get("/stats/units").text
    for piece in ("alert", "onerror", "jndi", "第二行", "whistle@example.com", "张伟", "已履行"):
        assert piece not in body
    assert HOSTILE_TEXT not in unescape(body)
    for secret in secrets:
        assert secret not in body
    assert "属商务局职责" not in body and "已核查处理" not in body


def test_sort_links_work_and_bad_values_are_ignored(cs: CaseSite) -> None:
    seeded(cs)
    default = cs.client.get("/stats/units").text
    overdue = [int(cells[5]) for cells in rows(default).values()]
    assert overdue == sorted(overdue, reverse=True) and overdue[-1] == 0  # most overdue first
    links = {unescape(link) for link in SORT_LINK.findall(default)}
    assert "/stats/units?sort=name" in links and "/stats/units?sort=received" in links
    for link in links:
        response = cs.client.get(link)
        assert response.status_code == 200 and len(rows(response.text)) == 3, link
    by_name = cs.client.get("/stats/units?sort=name").text
    names = re.findall(r'<tr id="unit-\d+" data-unit="[^"]+">\s*<th scope="row">([^<]+)<', by_name)
    assert names == sorted(names) and len(names) == 3
    assert order(cs.client.get("/stats/units?sort=received").text)[0] == "tourism"
    for bad in ("evil<script>", "__class__", "", "NAME"):
        response = cs.client.get("/stats/units", params={"sort": bad})
        assert response.status_code == 200
        assert order(response.text) == order(default)
        assert "evil<script>" not in response.text  # only the language switch echoes it, escaped


def test_date_range_and_bad_dates(cs: CaseSite) -> None:
    seeded(cs)
    empty = cs.client.get("/stats/units?from=2025-01-01&to=2025-06-30")
    assert empty.status_code == 200 and rows(empty.text) == {}
    assert "这段时间没有单位收到事项" in empty.text
    assert 'href="/stats/units?sort=name&amp;from=2025-01-01&amp;to=2025-06-30"' in empty.text
    week = cs.client.get("/stats/units?from=2026-11-23&to=2026-11-29").text
    assert rows(week)["tourism"][0] == "3" and "commerce" not in rows(week)  # came on 11-30
    for bad in ("from=2026-13-01&to=2026-11-30", "from=2026-11-30&to=2026-11-01", "from=x&to=y"):
        body = cs.client.get(f"/stats/units?{bad}").text
        assert "2025-12-01 至 2026-11-30" in body and len(rows(body)) == 3


def test_numbers_are_cached_for_a_minute(cs: CaseSite) -> None:
    seeded(cs)
    before = rows(cs.client.get("/stats/units").text)["tourism"][0]
    report(cs)
    assert rows(cs.client.get("/stats/units").text)["tourism"][0] == before
    cs.site.app.state.unit_numbers = {}
    assert rows(cs.client.get("/stats/units").text)["tourism"][0] == str(int(before) + 1)


def test_linked_from_stats(cs: CaseSite) -> None:
    body = cs.client.get("/stats").text
    assert 'href="/stats/units"' in body
    assert cs.client.get("/stats/units").status_code == 200
