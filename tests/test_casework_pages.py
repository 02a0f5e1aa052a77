"""The public casework pages over HTTP: /reports/new, /complaints/new and /track.

Submissions go through the real forms (with their CSRF tokens) into the real store; the
receipt shows the number and the access code once, and /track shows the timeline."""

from __future__ import annotations

import html
import logging
import re

import pytest
from casework_site import URL_ATTR, CaseSite, cs_fixture, post  # noqa: F401  (fixture)
from test_casework_support import HOSTILE_TEXT

from casework.tickets import State


def test_a_report_from_the_entry_page_gives_number_and_code_and_is_tracked(
    cs: CaseSite, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    entry = cs.client.get("/entries/p1").text
    assert 'href="/reports/new?entry=p1"' in entry and 'href="/complaints/new?entry=p1"' in entry

    form = cs.client.get("/reports/new?entry=p1")
    assert form.status_code == 200
    assert "张伟" in form.text and "(2023)京0105执1234号" in form.text
    assert '<input type="hidden" name="entry_id" value="p1">' in form.text
    assert 'name="debtor_name"' not in form.text  # the entry brings the name

    receipt = cs.submit(what="被执行人入住五星级酒店", when="2026年9月28日", where="某大酒店")
    page = receipt.response
    assert page.headers["cache-control"] == "no-store"
    assert "location" not in page.headers
    assert "只在此显示一次" in page.text and "旅游局" in page.text
    assert receipt.number.startswith("JB-") and len(receipt.code) == 14
    # The code is on the page once, and in no address of it.
    assert page.text.count(receipt.code) == 1
    assert all(receipt.code not in url for url in URL_ATTR.findall(page.text))
    assert f'href="/track?number={receipt.number}"' in page.text

    tracked = cs.track(receipt.number, receipt.code)
    assert tracked.status_code == 200 and tracked.headers["cache-control"] == "no-store"
    assert "被执行人入住五星级酒店" in tracked.text and "某大酒店" in tracked.text
    assert "已收到，交由旅游局办理" in tracked.text
    # The code travels only in the hidden fields of the page's own forms, never in a URL.
    assert all(receipt.code not in url for url in URL_ATTR.findall(tracked.text))
    # Lower case and without dashes works too.
    again = cs.track(receipt.number.lower(), receipt.code.replace("-", "").lower())
    assert again.status_code == 200 and "被执行人入住五星级酒店" in again.text

    out = capsys.readouterr()
    logged = out.out + out.err + "\n".join(r.getMessage() for r in caplog.records)
    assert receipt.code not in logged
    assert receipt.code.replace("-", "").lower() not in logged


def test_complaints_route_to_the_executing_court_or_the_measure_unit(cs: CaseSite) -> None:
    form = cs.client.get("/complaints/new?entry=p1").text
    assert form.count('type="radio"') == 5 and "对联合惩戒措施有异议" in form

    to_court = cs.submit("complaint", category="inaccurate-info", what="年龄有误")
    assert to_court.number.startswith("TS-")
    assert "北京市朝阳区人民法院" in to_court.response.text

    to_unit = cs.submit(
        "complaint", category="measure-objection", measure="consumption.hotel", what="措施有误"
    )
    assert "旅游局" in to_unit.response.text

    # A measure chosen for a complaint type that needs none is ignored, not an error.
    ignored = cs.submit("complaint", category="wrongful-listing", measure="consumption.hotel")
    assert "北京市朝阳区人民法院" in ignored.response.text


def test_a_report_may_name_a_debtor_not_on_the_site(cs: CaseSite) -> None:
    form = cs.client.get("/reports/new").text
    assert 'name="debtor_name"' in form and 'name="entry_id"' in form
    receipt = cs.submit(entry_id="", debtor_name="赵某某", category="consumption.school")
    assert "教育局" in receipt.response.text and "赵某某" in receipt.response.text


def test_a_validation_error_keeps_everything_typed_next_to_the_field(cs: CaseSite) -> None:
    typed = {
        "category": "consumption.hotel",
        "entry_id": "",
        "debtor_name": "王五 <b>",
        "what": "看到了 <i>这些</i>",
        "when": "昨天晚上",
        "where": "某酒店 & 会所",
        "email": "not-an-email",
    }
    response = post(cs.client, "/reports/new", typed, "/reports/new")
    assert response.status_code == 422
    assert response.headers["cache-control"] == "no-store"
    text = response.text
    assert 'id="err-email"' in text and "电子邮箱格式不正确" in text
    assert 'id="f-email" name="email"' in text and 'aria-invalid="true"' in text
    for value in typed.values():
        if value:
            assert html.escape(value) in text, value
    assert "王五 &lt;b&gt;" in text and "<i>" not in text
    assert '<option value="consumption.hotel" selected>' in text

    missing = post(cs.client, "/reports/new", {**typed, "what": "", "email": ""}, "/reports/new")
    assert missing.status_code == 422 and 'id="err-what"' in missing.text
    assert "此项必填" in missing.text and "王五 &lt;b&gt;" in missing.text

    nobody = post(
        cs.client,
        "/reports/new",
        {**typed, "debtor_name": "", "email": ""},
        "/reports/new",
    )
    assert nobody.status_code == 422 and 'id="err-debtor_name"' in nobody.text

    no_category = post(
        cs.client, "/complaints/new", {"what": "x", "entry_id": "p1"}, "/complaints/new"
    )
    assert no_category.status_code == 422 and 'id="err-category"' in no_category.text
    assert "请选择有效的类别" in no_category.text


def test_only_public_entries_fill_the_form(cs: CaseSite) -> None:
    for entry_id, name in (("p2", "李娜"), ("secret", "钱不宜"), ("nothing", "")):
        page = cs.client.get(f"/reports/new?entry={entry_id}")
        assert page.status_code == 200
        assert 'id="chosen-entry"' not in page.text
        if name:
            assert name not in page.text
    # Typing the id of a never-public entry is answered like an unknown one.
    for entry_id in ("secret", "nothing"):
        response = post(
            cs.client,
            "/reports/new",
            {"category": "consumption.hotel", "entry_id": entry_id, "what": "x"},
            "/reports/new",
        )
        assert response.status_code == 422 and "未找到该条目" in response.text
        assert "钱不宜" not in response.text


def test_a_wrong_code_and_an_unknown_number_get_the_same_answer(cs: CaseSite) -> None:
    receipt = cs.submit()
    other = receipt.number[:-1] + ("A" if receipt.number[-1] != "A" else "B")
    wrong_code = cs.track(receipt.number, "AAAA-BBBB-CCCC")
    unknown = cs.track(other, receipt.code)
    assert wrong_code.status_code == unknown.status_code == 404
    # The same page, but for the forms' CSRF token, which is masked afresh on every page.
    same = [
        re.sub(r'name="csrf_token" value="[0-9a-f]+"', "", page.text.replace(number, "N"))
        for page, number in ((wrong_code, receipt.number), (unknown, other))
    ]
    assert same[0] == same[1]
    assert "入住五星级酒店" not in wrong_code.text
    assert "AAAA-BBBB-CCCC" not in wrong_code.text and receipt.code not in unknown.text
    empty = cs.track("", "")
    assert empty.status_code == 404


def test_the_submitter_adds_information_on_track(cs: CaseSite) -> None:
    receipt = cs.submit()
    page = "/track"
    added = post(
        cs.client,
        "/track/add-info",
        {"number": receipt.number, "code": receipt.code, "text": "补充：同行还有两人"},
        page,
    )
    assert added.status_code == 200 and "补充材料已提交" in added.text
    assert "补充：同行还有两人" in cs.track(receipt.number, receipt.code).text

    empty = post(
        cs.client,
        "/track/add-info",
        {"number": receipt.number, "code": receipt.code, "text": ""},
        page,
    )
    assert empty.status_code == 422 and "此项必填" in empty.text

    wrong = post(
        cs.client, "/track/add-info", {"number": receipt.number, "code": "X", "text": "y"}, page
    )
    assert wrong.status_code == 404 and "补充：同行还有两人" not in wrong.text

    # Nothing to contest before a reply: no form, and a forged attempt is refused.
    assert 'action="/track/contest"' not in cs.track(receipt.number, receipt.code).text
    early = post(
        cs.client,
        "/track/contest",
        {"number": receipt.number, "code": receipt.code, "text": "z"},
        page,
    )
    assert early.status_code == 409
    assert cs.cases.track(receipt.number, receipt.code).state == State.RECEIVED


def test_submitted_html_and_script_stay_inert(cs: CaseSite) -> None:
    receipt = cs.submit(
        entry_id="",
        debtor_name=HOSTILE_TEXT[:200],
        what=HOSTILE_TEXT,
        when=HOSTILE_TEXT[:200],
        where=HOSTILE_TEXT[:200],
    )
    tracked = cs.track(receipt.number, receipt.code)
    invalid = post(
        cs.client,
        "/reports/new",
        {
            "category": "consumption.hotel",
            "debtor_name": HOSTILE_TEXT[:200],
            "what": HOSTILE_TEXT,
            "email": "x",
        },
        "/reports/new",
    )
    for page in (receipt.response.text, tracked.text, invalid.text):
        assert_inert(page)


def assert_inert(page: str) -> None:
    # The page's own scripts (the proof-of-work widget) are fine; the submitted ones are not.
    assert '<script>alert("x")' not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(" in page
    assert "{{ 7*7 }}" in page and ">49<" not in page
    assert "&amp;lt;b&amp;gt;" in page  # an escaped entity is shown, not interpreted


def test_forged_posts_are_refused_and_change_nothing(cs: CaseSite) -> None:
    receipt = cs.submit()
    attempts = {
        "/reports/new": {"category": "consumption.hotel", "entry_id": "p1", "what": "x"},
        "/complaints/new": {"category": "inaccurate-info", "entry_id": "p1", "what": "x"},
        "/track": {"number": receipt.number, "code": receipt.code},
        "/track/add-info": {"number": receipt.number, "code": receipt.code, "text": "x"},
        "/track/contest": {"number": receipt.number, "code": receipt.code, "text": "x"},
    }
    for path, data in attempts.items():
        cs.client.get("/track")  # the browser has a CSRF cookie; the forger has no token
        response = cs.client.post(path, data={**data, "csrf_token": "0" * 64})
        assert response.status_code == 403, path
        assert receipt.code not in response.text
    view = cs.cases.track(receipt.number, receipt.code)
    assert view is not None and len(view.timeline) == 1


def test_the_navigation_links_to_reporting_and_tracking(cs: CaseSite) -> None:
    home = cs.client.get("/").text
    assert 'href="/reports/new"' in home and 'href="/track"' in home
    assert 'value="JB-2026-ABCDEF"' in cs.client.get("/track?number=JB-2026-ABCDEF").text
    report = cs.client.get("/reports/new").text
    assert 'href="/complaints/new"' in report
