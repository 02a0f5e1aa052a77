"""The units' back office over HTTP: login, sessions, the queue, a ticket and its actions,
and what the submitter then sees on /track."""

from __future__ import annotations

import re
from pathlib import Path

from casework_site import (  # noqa: F401  (cs_fixture)
    CaseSite,
    TestClient,
    act,
    case_site,
    cs_fixture,
    post,
)
from test_casework_pages import assert_inert
from test_casework_support import HOSTILE_TEXT, Clock

from casework.accounts import login as log_in
from casework.service import CaseService
from casework.units import add_staff


def test_every_back_office_page_needs_a_login(cs: CaseSite) -> None:
    receipt = cs.submit()
    ticket_id = cs.ticket_id(receipt.number)
    for path in ("/unit/", f"/unit/tickets/{ticket_id}", "/unit/?state=all"):
        response = cs.client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/unit/login"
    # A valid form token without a session does nothing either.
    response = post(cs.client, f"/unit/tickets/{ticket_id}/accept", {}, "/unit/login")
    assert response.status_code == 303 and response.headers["location"] == "/unit/login"
    response = cs.client.get("/unit", follow_redirects=True)
    assert response.url.path == "/unit/login" and 'id="login-form"' in response.text
    assert cs.cases.track(receipt.number, receipt.code).state == "received"


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(cs: CaseSite) -> None:
    name, password = cs.unit("tourism")
    browser = cs.browser()
    response = post(browser, "/unit/login", {"login": name, "password": password}, "/unit/login")
    assert response.status_code == 303 and response.headers["location"] == "/unit/"
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("shixin_unit=") and "httponly" in cookie
    assert "samesite=lax" in cookie and "path=/unit" in cookie and "secure" not in cookie
    assert password not in response.text
    queue = browser.get("/unit/")
    assert queue.status_code == 200 and "旅游局" in queue.text
    assert queue.headers["cache-control"] == "no-store"
    # Logged in, the login page leads to the queue.
    assert browser.get("/unit/login", follow_redirects=False).headers["location"] == "/unit/"

    token = browser.cookies.get("shixin_unit")
    out = post(browser, "/unit/logout", {}, "/unit/")
    assert out.status_code == 303 and out.headers["location"] == "/unit/login"
    assert browser.get("/unit/", follow_redirects=False).status_code == 303
    # The old token is dead on the server too, not only forgotten by the browser.
    thief = cs.browser()
    thief.cookies.set("shixin_unit", token, path="/unit")
    assert thief.get("/unit/", follow_redirects=False).status_code == 303


def test_the_session_cookie_is_secure_over_https(tmp_path: Path, database_url: str) -> None:
    with case_site(tmp_path, database_url, SHIXIN_HTTPS="1") as cs:
        name, password = cs.unit("tourism")
        browser = TestClient(cs.site.app, base_url="https://testserver")
        response = post(
            browser, "/unit/login", {"login": name, "password": password}, "/unit/login"
        )
        assert response.status_code == 303
        assert "secure" in response.headers["set-cookie"].lower()
        assert browser.get("/unit/").status_code == 200


def test_lockout_after_repeated_wrong_passwords_says_nothing_about_the_name(cs: CaseSite) -> None:
    name, password = cs.unit("tourism")
    answers = {}
    for login in (name, "no-such-unit"):
        browser = cs.browser()
        seen = []
        for _ in range(6):
            response = post(
                browser, "/unit/login", {"login": login, "password": "wrong"}, "/unit/login"
            )
            assert response.status_code == 401
            assert "wrong" not in re.sub(r'value="[^"]*"', "", response.text.split("<main", 1)[1])
            seen.append(re.search(r'id="login-error" role="alert">([^<]+)<', response.text)[1])
        answers[login] = seen
    assert answers[name] == answers["no-such-unit"]
    assert answers[name][0] == "用户名或密码错误" and "15分钟" in answers[name][-1]
    # Locked: even the right password is refused for now.
    locked = post(cs.browser(), "/unit/login", {"login": name, "password": password}, "/unit/login")
    assert locked.status_code == 401 and "15分钟" in locked.text
    assert "shixin_unit" not in locked.headers.get("set-cookie", "")


def test_a_unit_accepts_and_replies_and_the_submitter_sees_the_reply(cs: CaseSite) -> None:
    receipt = cs.submit(what="入住五星级酒店并打高尔夫", email="reporter@example.com")
    tourism = cs.login("tourism")
    queue = tourism.get("/unit/").text
    assert receipt.number in queue and "入住五星级酒店" not in queue
    assert "badge due-ok" in queue and "受理" in queue
    ticket_id = cs.ticket_id(receipt.number)
    page = tourism.get(f"/unit/tickets/{ticket_id}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'href="/entries/p1"' in page.text and "(2023)京0105执1234号" in page.text
    assert "reporter@example.com" in page.text and "入住五星级酒店并打高尔夫" in page.text
    assert f'action="/unit/tickets/{ticket_id}/accept"' in page.text
    assert f'action="/unit/tickets/{ticket_id}/reply"' not in page.text

    accepted = act(tourism, ticket_id, "accept", message="")
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/unit/tickets/{ticket_id}?done=accept"
    assert "已受理。" in tourism.get(accepted.headers["location"]).text

    refused = act(tourism, ticket_id, "reply", message="", note="草稿备注")
    assert refused.status_code == 422 and "此项必填" in refused.text
    assert "草稿备注" in refused.text  # what was typed is kept

    replied = act(
        tourism, ticket_id, "reply", message="经核查属实，已通知酒店拒绝其入住。", note="经办：李四"
    )
    assert replied.status_code == 303
    audit = tourism.get(f"/unit/tickets/{ticket_id}").text
    assert "经办：李四" in audit and "（tourism）" in audit and "已答复" in audit

    tracked = cs.track(receipt.number, receipt.code).text
    assert "经核查属实，已通知酒店拒绝其入住。" in tracked and "已答复" in tracked
    assert "经办：李四" not in tracked and "tourism" not in tracked
    assert 'action="/track/contest"' in tracked

    closed = act(tourism, ticket_id, "close", message="办结")
    assert closed.status_code == 303
    assert cs.cases.track(receipt.number, receipt.code).state == "closed"
    # Closed tickets leave the default queue, and come back under "all".
    assert receipt.number not in tourism.get("/unit/").text
    assert receipt.number in tourism.get("/unit/?state=all").text
    assert receipt.number in tourism.get("/unit/?state=closed").text


def test_a_transfer_with_reason_moves_the_ticket_to_the_other_unit(cs: CaseSite) -> None:
    receipt = cs.submit()
    ticket_id = cs.ticket_id(receipt.number)
    tourism, commerce = cs.login("tourism"), cs.login("commerce")
    assert receipt.number not in commerce.get("/unit/").text

    missing = act(tourism, ticket_id, "transfer", to_unit="", reason="x")
    assert missing.status_code == 422 and "另一个单位" in missing.text
    no_reason = act(tourism, ticket_id, "transfer", to_unit="commerce", reason="")
    assert no_reason.status_code == 422 and "此项必填" in no_reason.text

    moved = act(
        tourism, ticket_id, "transfer", to_unit="commerce", reason="涉及夜总会消费，属商务局职责"
    )
    assert moved.status_code == 303
    # Gone from tourism: its own ticket page is now a 404, like a missing one.
    assert tourism.get(f"/unit/tickets/{ticket_id}").status_code == 404
    assert receipt.number in commerce.get("/unit/").text
    page = commerce.get(f"/unit/tickets/{ticket_id}").text
    assert "涉及夜总会消费，属商务局职责" in page and "已转办" in page
    assert f'action="/unit/tickets/{ticket_id}/accept"' in page
    tracked = cs.track(receipt.number, receipt.code).text
    assert "旅游局转交商务局办理。理由：涉及夜总会消费，属商务局职责" in tracked


def test_a_decline_with_reason_and_the_submitter_contest_reopens_it(cs: CaseSite) -> None:
    receipt = cs.submit()
    ticket_id = cs.ticket_id(receipt.number)
    tourism = cs.login("tourism")
    assert act(tourism, ticket_id, "decline", reason="").status_code == 422
    declined = act(tourism, ticket_id, "decline", reason="该酒店不在本区", note="已电话核实")
    assert declined.status_code == 303
    tracked = cs.track(receipt.number, receipt.code).text
    assert "不予受理。理由：该酒店不在本区" in tracked and "已电话核实" not in tracked

    contested = post(
        cs.client,
        "/track/contest",
        {"number": receipt.number, "code": receipt.code, "text": "酒店就在本区某路"},
        "/track",
    )
    assert contested.status_code == 200 and "异议已提交" in contested.text
    assert "重新办理" in contested.text
    queue = tourism.get("/unit/").text
    assert receipt.number in queue and "重新办理" in queue
    page = tourism.get(f"/unit/tickets/{ticket_id}").text
    assert "酒店就在本区某路" in page and f'action="/unit/tickets/{ticket_id}/reply"' in page


def test_another_unit_can_neither_see_nor_act_on_a_ticket(cs: CaseSite) -> None:
    receipt = cs.submit()
    ticket_id = cs.ticket_id(receipt.number)
    commerce = cs.login("commerce")
    assert receipt.number not in commerce.get("/unit/?state=all").text
    theirs = commerce.get(f"/unit/tickets/{ticket_id}")
    missing = commerce.get("/unit/tickets/999999")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.text.replace(f"/unit/tickets/{ticket_id}", "/unit/tickets/N") == (
        missing.text.replace("/unit/tickets/999999", "/unit/tickets/N")
    )
    assert receipt.number not in theirs.text
    # Acting needs a page token: the 404 page has none, so take one from the queue.
    for action, data in (
        ("accept", {}),
        ("decline", {"reason": "x"}),
        ("transfer", {"to_unit": "commerce", "reason": "x"}),
        ("note", {"text": "x"}),
    ):
        response = post(commerce, f"/unit/tickets/{ticket_id}/{action}", data, "/unit/")
        assert response.status_code == 404, action
        assert receipt.number not in response.text
    assert post(commerce, "/unit/tickets/999999/accept", {}, "/unit/").status_code == 404
    assert post(commerce, f"/unit/tickets/{ticket_id}/explode", {}, "/unit/").status_code == 404
    view = cs.cases.track(receipt.number, receipt.code)
    assert view.state == "received" and view.unit_code == "tourism" and len(view.timeline) == 1


def test_forged_back_office_posts_are_refused(cs: CaseSite) -> None:
    receipt = cs.submit()
    ticket_id = cs.ticket_id(receipt.number)
    tourism = cs.login("tourism")
    for path, data in (
        (f"/unit/tickets/{ticket_id}/accept", {}),
        (f"/unit/tickets/{ticket_id}/decline", {"reason": "x"}),
        ("/unit/logout", {}),
        ("/unit/login", {"login": "tourism", "password": "x"}),
    ):
        response = tourism.post(path, data={**data, "csrf_token": "f" * 64}, follow_redirects=False)
        assert response.status_code == 403, path
    assert cs.cases.track(receipt.number, receipt.code).state == "received"
    assert tourism.get("/unit/", follow_redirects=False).status_code == 200  # still logged in


def test_submitted_html_and_script_stay_inert_in_the_back_office(cs: CaseSite) -> None:
    receipt = cs.submit(
        entry_id="",
        debtor_name=HOSTILE_TEXT[:200],
        what=HOSTILE_TEXT,
        when=HOSTILE_TEXT[:200],
        where=HOSTILE_TEXT[:200],
    )
    ticket_id = cs.ticket_id(receipt.number)
    tourism = cs.login("tourism")
    assert_inert(tourism.get(f"/unit/tickets/{ticket_id}").text)
    queue = tourism.get("/unit/").text
    assert "<script" not in queue and "&lt;script&gt;" in queue
    assert act(tourism, ticket_id, "note", text=HOSTILE_TEXT).status_code == 303
    assert act(tourism, ticket_id, "accept").status_code == 303
    assert act(tourism, ticket_id, "reply", message=HOSTILE_TEXT).status_code == 303
    page = tourism.get(f"/unit/tickets/{ticket_id}").text
    assert_inert(page)
    assert page.count("&lt;script&gt;alert(") >= 3
    refused = act(tourism, ticket_id, "transfer", to_unit="nowhere", reason=HOSTILE_TEXT)
    assert refused.status_code == 422
    assert_inert(refused.text)
    tracked = cs.track(receipt.number, receipt.code).text
    assert_inert(tracked)


def test_overdue_tickets_are_badged_filtered_and_escalated(cs: CaseSite) -> None:
    clock = Clock("2026-11-23T10:00:00")
    old = cs.cases
    cs.site.app.state.cases = CaseService(old.store, old.routing, old.calendar, clock)
    late = cs.submit(what="早提交的")
    clock.advance(days=6)  # past the three working days to accept
    fresh = cs.submit(what="新提交的")
    assert [n for n, *_ in cs.cases.sweep_overdue()] == [late.number]

    tourism = cs.login("tourism")
    queue = tourism.get("/unit/").text
    assert late.number in queue and fresh.number in queue
    assert "badge due-overdue" in queue
    only_late = tourism.get("/unit/?overdue=1").text
    assert late.number in only_late and fresh.number not in only_late
    assert 'id="filter-overdue" name="overdue" value="1" checked' in only_late

    # The supervisor sees it under escalations, read-only but for internal notes.
    supervisor = cs.login("credit-group")
    queue = supervisor.get("/unit/").text
    assert 'id="h-escalated"' in queue and late.number in queue and fresh.number not in queue
    late_id = cs.ticket_id(late.number)
    page = supervisor.get(f"/unit/tickets/{late_id}").text
    assert "已报请本单位督办" in page and "/accept" not in page
    assert act(supervisor, late_id, "note", text="请旅游局尽快受理").status_code == 303
    assert act(supervisor, late_id, "accept").status_code == 404
    assert "请旅游局尽快受理" in tourism.get(f"/unit/tickets/{late_id}").text
    assert "请旅游局尽快受理" not in cs.track(late.number, late.code).text
    assert "超过受理期限" in cs.track(late.number, late.code).text
    assert fresh.number not in supervisor.get(f"/unit/tickets/{cs.ticket_id(fresh.number)}").text


def test_an_upheld_complaint_starts_the_correction_clock(cs: CaseSite) -> None:
    receipt = cs.submit("complaint", category="inaccurate-info", entry_id="p1", what="年龄有误")
    court = cs.login("court:北京市朝阳区人民法院", login="bj-chaoyang")
    ticket_id = cs.ticket_id(receipt.number)
    assert act(court, ticket_id, "accept").status_code == 303
    page = court.get(f"/unit/tickets/{ticket_id}").text
    assert 'id="upheld-yes"' in page
    assert act(court, ticket_id, "reply", message="理由成立", upheld="yes").status_code == 303
    page = court.get(f"/unit/tickets/{ticket_id}").text
    assert "更正期限" in page and f'action="/unit/tickets/{ticket_id}/correction"' in page
    assert act(court, ticket_id, "correction", message="已更正年龄").status_code == 303
    tracked = cs.track(receipt.number, receipt.code).text
    assert "已更正年龄" in tracked and "完成更正" in tracked


def test_the_back_office_names_who_acted_and_track_never_does(cs: CaseSite) -> None:
    receipt = cs.submit()
    cs.unit("tourism")
    password = add_staff(cs.cases.store, "tourism", "wang.ke", "王科长")
    staff = cs.browser()
    login = post(staff, "/unit/login", {"login": "wang.ke", "password": password}, "/unit/login")
    assert login.status_code == 303
    ticket_id = cs.ticket_id(receipt.number)
    assert act(staff, ticket_id, "accept", message="已收到，正在核查").status_code == 303

    audit = staff.get(f"/unit/tickets/{ticket_id}").text
    assert '<span class="actor">王科长 · wang.ke</span>' in audit
    internal = cs.cases.ticket(log_in(cs.cases.store, "wang.ke", password), ticket_id)
    accept = next(i for i in internal.timeline if i.action == "accept")
    assert (accept.actor_login, accept.actor_name) == ("wang.ke", "王科长")

    tracked = cs.track(receipt.number, receipt.code).text
    assert "已收到，正在核查" in tracked
    assert "wang.ke" not in tracked and "王科长" not in tracked
    public = cs.cases.track(receipt.number, receipt.code)
    assert public is not None
    assert all(i.actor_login is None and i.actor_name is None for i in public.timeline)
