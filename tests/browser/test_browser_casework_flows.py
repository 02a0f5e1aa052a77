"""Issue 4's flows beyond the first reply, as people do them in headless Chromium, against a
real ``shixin serve`` that mails through a real SMTP server (aiosmtpd, tests/smtpserver.py):

- transfer: a report filed on the site goes to 旅游局; its clerk transfers it to 商务局 with a
  reason; 旅游局 no longer sees it (queue, or its URL: 404); 商务局's clerk accepts and
  replies; the submitter's /track shows the transfer and the reply, and the mail to the
  submitter and to 商务局's address arrived;
- reopen: the submitter contests the reply on /track; the ticket is back in the unit's queue
  with a new reply deadline, the unit is told by mail, and the second reply reaches the
  submitter by mail and on /track.

Each person uses their own browser context (cookies). Every email is parsed: subject, To,
Chinese plain text and an HTML part, and never the access code. Like the other browser
tests this runs on the embedded store (SQLite); the same transitions run on PostgreSQL in
tests/test_casework_flows.py and tests/test_unit_pages.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from browser_support import add_unit_account, navigate, new_page, open_page, seed
from liveserver import portal_env, portal_process
from smtpserver import Inbox, MailServer, Received
from support import person

from casework.deadlines import Period, due_at
from core.workdays import CST, WorkCalendar

pytestmark = pytest.mark.browser

ENTRY = "lw"
DEBTOR = "李某某"
HOTEL = "consumption.hotel"  # routing.yaml: 旅游局 receives; 商务局 is among its units
TRAVEL = "consumption.travel"  # 旅游局 only
MAIL_FROM = "失信被执行人名单公开查询 <noreply@shixin.example.cn>"
UNITS = {  # code: (login, email)
    "tourism": ("lyj-clerk", "lyj@example.gov.cn"),
    "commerce": ("swj-clerk", "swj@example.gov.cn"),
}
GENEROUS_LIMITS = {
    "SHIXIN_RATE_LIMIT_PAGES": "100000/minute",
    "SHIXIN_RATE_LIMIT_FORMS": "100000/minute",
    "SHIXIN_RATE_LIMIT_API": "100000/minute",
}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


@dataclass
class FlowPortal:
    url: str
    inbox: Inbox
    passwords: dict[str, str]  # unit code: password


@pytest.fixture(scope="module")
def flow_portal(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowPortal]:
    """The portal with one public entry, accounts for 旅游局 and 商务局 (each with an email
    address), mail to aiosmtpd every half second. Asks for ``browser`` first, so without
    Chromium nothing is started."""
    root = tmp_path_factory.mktemp("browser-flows")
    seed(root / "data", [person(ENTRY, iname=DEBTOR, caseCode="(2025)鲁0203执1357号")])
    smtp = MailServer()
    smtp.start()
    try:
        env = portal_env(
            root / "data",
            SHIXIN_SMTP_URL=smtp.url,
            SHIXIN_MAIL_FROM=MAIL_FROM,
            SHIXIN_MAIL_INTERVAL="0.5",
            **GENEROUS_LIMITS,
        )
        passwords = {}
        for code, (login, email) in UNITS.items():
            # As an administrator does it: the password is printed once.
            passwords[code] = add_unit_account(env, code, "--login", login, "--email", email)
        with portal_process(env, log=root / "serve.log") as base:
            yield FlowPortal(base, smtp.inbox, passwords)
    finally:
        smtp.stop()


# --- what people do -----------------------------------------------------------------------


def file_report(page: Any, category: str, what: str, email: str) -> tuple[str, str]:
    """File a report from the entry's page; (ticket number, access code) from the receipt,
    wherever the form's answer (or its redirect) lands."""
    open_page(page, f"/entries/{ENTRY}")
    navigate(page, lambda: page.locator("#report-link").click())
    page.get_by_label("举报事项").select_option(category)
    page.get_by_label("看到的情况").fill(what)
    page.get_by_label("电子邮箱").fill(email)
    receipt = navigate(page, lambda: page.get_by_role("button", name="提交举报").click())
    assert "已收到您的举报" in receipt
    number = page.locator("#ticket-number").inner_text().strip()
    code = page.locator("#access-code").inner_text().strip()
    assert re.fullmatch(r"JB-\d{4}-[0-9A-Z]{6}", number), number
    return number, code


def log_in(page: Any, portal: FlowPortal, unit: str) -> None:
    open_page(page, "/unit/login")
    page.get_by_label("登录名").fill(UNITS[unit][0])
    page.get_by_label("密码").fill(portal.passwords[unit])
    navigate(page, lambda: page.get_by_role("button", name="登录").click())
    assert page.url.endswith("/unit/")


def open_ticket(page: Any, number: str) -> int:
    """From the queue, the ticket's page; its id (from the address)."""
    open_page(page, "/unit/")
    navigate(page, lambda: page.get_by_role("link", name=number).click())
    found = re.search(r"/unit/tickets/(\d+)$", page.url)
    assert found, page.url
    return int(found.group(1))


def track(page: Any, number: str, code: str) -> str:
    """Look the ticket up on /track; the timeline's text."""
    open_page(page, "/track")
    page.get_by_label("事项编号").fill(number)
    page.get_by_label("查询码").fill(code)
    navigate(page, lambda: page.get_by_role("button", name="查询").click())
    assert code not in page.url
    return str(page.locator(".casework-timeline").inner_text())


def transfer(page: Any, unit_name: str, reason: str) -> Any:
    """Transfer the open ticket with the form of its 转办 section; the page landed on."""
    form = page.get_by_role("region", name="转办", exact=True)
    form.get_by_label("转给").select_option(label=unit_name)
    form.get_by_label("理由（提交人可见）").fill(reason)
    with page.expect_navigation() as landed:
        form.get_by_role("button", name="转办", exact=True).click()
    return landed.value


def summary(page: Any) -> str:
    return str(page.locator(".ticket-fields").inner_text())


def check_mail(received: Received, to: str, number: str, code: str) -> str:
    """What every notification must be: to the one address, the ticket number leading the
    Chinese subject, plain text with an HTML part, no access code. The plain text."""
    assert received.rcpt_tos == [to] and received.message["To"] == to
    assert received.subject.startswith(f"[{number}] "), received.subject
    plain, page = received.text("plain"), received.text("html")
    assert f"事项编号：{number}" in plain
    assert '<html lang="zh-CN">' in page and number in page
    for text in (plain, page, received.subject):
        assert code not in text and code.replace("-", "") not in text
    return plain


@pytest.fixture
def people(browser: Any, flow_portal: FlowPortal) -> Iterator[dict[str, Any]]:
    """A browser for the submitter and one per unit clerk, each with its own cookies."""
    contexts = {
        name: new_page(browser, flow_portal.url, **DESKTOP)
        for name in ("citizen", "tourism", "commerce")
    }
    try:
        yield {name: next(pages) for name, pages in contexts.items()}
    finally:
        for pages in contexts.values():
            pages.close()


# --- the flows ----------------------------------------------------------------------------


def test_a_report_transferred_to_another_unit_is_answered_by_it(
    flow_portal: FlowPortal, people: dict[str, Any]
) -> None:
    portal, citizen, tourism, commerce = flow_portal, *people.values()
    submitter = "transfer@example.cn"
    reason = "举报涉及夜总会消费，属商务局职责"
    answer = "经商务局核查，该夜总会已停止向被执行人提供服务，并已告知执行法院。"
    number, code = file_report(citizen, HOTEL, "被执行人连续三晚在某夜总会高消费。", submitter)
    assert "旅游局" in citizen.locator("main").inner_text()

    # 旅游局's clerk transfers it to 商务局 with a reason.
    log_in(tourism, portal, "tourism")
    ticket_id = open_ticket(tourism, number)
    transfer(tourism, "商务局", reason)

    # Gone from 旅游局: not in its queue, and its address is a 404 like a missing ticket.
    for queue in ("/unit/", "/unit/?state=all", "/unit/?state=transferred"):
        open_page(tourism, queue)
        assert number not in tourism.locator("main").inner_text(), queue
    open_page(tourism, f"/unit/tickets/{ticket_id}", status=404)
    assert number not in tourism.content()

    # 商务局's clerk finds it in the queue, sees why it came, accepts and replies.
    log_in(commerce, portal, "commerce")
    assert open_ticket(commerce, number) == ticket_id
    audit = commerce.locator(".casework-timeline").inner_text()
    assert "旅游局（lyj-clerk）" in audit and reason in audit
    assert "已转办" in summary(commerce) and "商务局" in summary(commerce)
    navigate(commerce, lambda: commerce.get_by_role("button", name="受理", exact=True).click())
    assert "已受理" in summary(commerce)
    commerce.get_by_label("答复（提交人可见）").fill(answer)
    navigate(commerce, lambda: commerce.get_by_role("button", name="发出答复").click())
    assert "已答复" in summary(commerce)

    # The submitter's mailbox: every step, in order, the transfer's reason and the answer.
    last = portal.inbox.wait_for(submitter, answer)
    mine = portal.inbox.to(submitter)
    assert [m.subject for m in mine] == [
        f"[{number}] 您的事项已收到",
        f"[{number}] 您的事项已转交商务局",
        f"[{number}] 您的事项已受理",
        f"[{number}] 您的事项已答复",
    ]
    texts = [check_mail(m, submitter, number, code) for m in mine]
    assert "已交由旅游局办理" in texts[0]
    assert reason in texts[1]
    assert "商务局已受理" in texts[2]
    assert answer in check_mail(last, submitter, number, code)
    assert answer in last.text("html")

    # The units' mailboxes: 旅游局 was told of the new ticket, 商务局 of the transfer.
    (to_tourism,) = portal.inbox.to(UNITS["tourism"][1])
    assert to_tourism.subject == f"[{number}] 【举报】新事项待受理"
    (to_commerce,) = portal.inbox.to(UNITS["commerce"][1])
    assert to_commerce.subject == f"[{number}] 【举报】旅游局转来新事项待受理"
    assert to_commerce.message["To"] == UNITS["commerce"][1]
    body = to_commerce.text()
    assert "请登录单位后台" in body and "类别：住宿星级宾馆饭店" in body
    assert code not in body and "<html" in to_commerce.text("html")

    # /track: the transfer with its reason, and 商务局's answer; who is handling it now.
    timeline = track(citizen, number, code)
    assert f"旅游局转交商务局办理。理由：{reason}" in timeline
    assert answer in timeline
    assert timeline.index(reason) < timeline.index(answer)
    assert "商务局" in summary(citizen) and "已答复" in summary(citizen)
    assert "lyj-clerk" not in citizen.content() and "swj-clerk" not in citizen.content()


def test_a_contested_reply_goes_back_to_the_unit_with_a_new_deadline(
    flow_portal: FlowPortal, people: dict[str, Any]
) -> None:
    portal, citizen, tourism = flow_portal, people["citizen"], people["tourism"]
    submitter = "contest@example.cn"
    first = "经核查，未发现被执行人参加出境旅游团的记录。"
    objection = "我在9月28日亲眼看到他在某某国际旅行社报名出境团，报名表上有他的签名。"
    second = "经再次核查旅行社报名记录，举报属实。已责令旅行社取消其出境旅游行程。"
    number, code = file_report(citizen, TRAVEL, "被执行人报名参加旅行社出境旅游团。", submitter)

    log_in(tourism, portal, "tourism")
    open_ticket(tourism, number)
    navigate(tourism, lambda: tourism.get_by_role("button", name="受理", exact=True).click())
    tourism.get_by_label("答复（提交人可见）").fill(first)
    navigate(tourism, lambda: tourism.get_by_role("button", name="发出答复").click())
    assert "答复期限" not in summary(tourism)  # answered: no clock runs
    portal.inbox.wait_for(submitter, first)

    # The submitter contests the answer on /track.
    assert first in track(citizen, number, code)
    citizen.get_by_label("不同意的理由").fill(objection)
    navigate(citizen, lambda: citizen.get_by_role("button", name="提出异议").click())
    assert "异议已提交，办理单位将重新办理。" in citizen.locator("#track-done").inner_text()
    assert "重新办理" in summary(citizen)
    assert objection in citizen.locator(".casework-timeline").inner_text()
    contested_at = datetime.now(UTC)

    # The unit is told by mail, and finds it back in its open queue with a new reply clock:
    # 20 working days (routing.yaml's default) from the day of the contest.
    told = portal.inbox.wait_for(UNITS["tourism"][1], subject="提交人提出异议")
    assert told.subject == f"[{number}] 【举报】提交人提出异议，已重新办理"
    assert code not in told.text() and "请登录单位后台" in told.text()
    open_page(tourism, "/unit/")
    row = tourism.locator("tr", has=tourism.get_by_role("link", name=number))
    assert "重新办理" in row.inner_text() and "答复" in row.inner_text()
    open_ticket(tourism, number)
    due = due_at(contested_at, Period(20, working=True), WorkCalendar())
    assert f"答复期限\n{due.astimezone(CST):%Y-%m-%d %H:%M}" in summary(tourism)
    assert objection in tourism.locator(".casework-timeline").inner_text()

    # The second answer reaches the submitter, by mail and on /track.
    tourism.get_by_label("答复（提交人可见）").fill(second)
    navigate(tourism, lambda: tourism.get_by_role("button", name="发出答复").click())
    assert "已答复" in summary(tourism) and "答复期限" not in summary(tourism)
    mail = portal.inbox.wait_for(submitter, second)
    assert second in check_mail(mail, submitter, number, code)
    assert [m.subject for m in portal.inbox.to(submitter)] == [
        f"[{number}] 您的事项已收到",
        f"[{number}] 您的事项已受理",
        f"[{number}] 您的事项已答复",
        f"[{number}] 您的事项已答复",
    ]
    timeline = track(citizen, number, code)
    assert timeline.index(first) < timeline.index(objection) < timeline.index(second)
    assert "已答复" in summary(citizen)


def test_after_a_transfer_the_clerk_is_told_it_is_done(
    flow_portal: FlowPortal, people: dict[str, Any]
) -> None:
    citizen, tourism = people["citizen"], people["tourism"]
    number, _code = file_report(citizen, HOTEL, "被执行人在某高尔夫球场消费。", "land@example.cn")
    log_in(tourism, flow_portal, "tourism")
    open_ticket(tourism, number)
    landed = transfer(tourism, "商务局", "属商务局职责")
    assert landed.status == 200, f"{landed.url}: {landed.status}"
    assert "已转办" in tourism.locator("main").inner_text()
    # No link to a ticket this unit can no longer open.
    assert tourism.locator("main").get_by_role("link", name=number).count() == 0
