"""A report's whole round trip as people do it, in headless Chromium, against a real
``shixin serve`` that sends its mail to a real SMTP server (aiosmtpd on a free port of
127.0.0.1, tests/smtpserver.py, started here):

a citizen files a report from an entry's page (with HTML and script in the description and an
email address to be told at), the routed unit's clerk logs in, finds the ticket in the queue,
accepts it and replies; the reply reaches the citizen's mailbox and shows on ``/track``.

The portal is this module's own (its own data directory and mail settings), so the session's
portal and its outbox are untouched.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_support import add_unit_account, navigate, new_page, open_page, seed
from liveserver import portal_env, portal_process
from smtpserver import Inbox, MailServer
from support import person
from test_casework_support import HOSTILE_TEXT

pytestmark = pytest.mark.browser

ENTRY = "zs"
DEBTOR = "赵某某"
CATEGORY = "consumption.travel"  # routing.yaml: 旅行社团队出境旅游、度假区高消费 → tourism only
UNIT = "tourism"
CLERK = "tourism-clerk"
SUBMITTER = "citizen@example.cn"
REPORT = "被执行人于2026年10月1日随旅行社团队出境旅游。\n" + HOSTILE_TEXT
REPLY = "经核查，举报属实。已通知旅行社停止为被执行人办理出境旅游，并将线索移送执行法院。"
MAIL_FROM = "失信被执行人名单公开查询 <noreply@shixin.example.cn>"
GENEROUS_LIMITS = {
    "SHIXIN_RATE_LIMIT_PAGES": "100000/minute",
    "SHIXIN_RATE_LIMIT_FORMS": "100000/minute",
    "SHIXIN_RATE_LIMIT_API": "100000/minute",
}


@dataclass
class CaseworkPortal:
    url: str
    inbox: Inbox
    clerk_password: str
    log: Path


@pytest.fixture(scope="module")
def casework_portal(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CaseworkPortal]:
    """The portal with one public entry, the tourism unit's account, and mail to aiosmtpd.
    Asks for ``browser`` first, so without Chromium nothing is started."""
    root = tmp_path_factory.mktemp("browser-casework")
    seed(root / "data", [person(ENTRY, iname=DEBTOR, caseCode="(2025)京0105执2468号")])
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
        # The unit's account, made as an administrator makes it: the password printed once.
        password = add_unit_account(env, UNIT, "--login", CLERK)
        log = root / "serve.log"
        with portal_process(env, log=log) as base:
            yield CaseworkPortal(base, smtp.inbox, password, log)
    finally:
        smtp.stop()


def first_line(text: str) -> str:
    return text.split("\n", 1)[0]


def test_a_report_is_filed_routed_replied_mailed_and_tracked(
    browser: Any, casework_portal: CaseworkPortal
) -> None:
    started = time.monotonic()
    portal = casework_portal
    dialogs: list[str] = []
    desktop = {"viewport": {"width": 1280, "height": 800}}

    # 1. The citizen files a report from the entry's page.
    citizen_pages = new_page(browser, portal.url, **desktop)
    citizen = next(citizen_pages)
    clerk_pages = new_page(browser, portal.url, **desktop)
    clerk = next(clerk_pages)
    try:
        for p in (citizen, clerk):
            p.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

        open_page(citizen, f"/entries/{ENTRY}")
        navigate(citizen, lambda: citizen.locator("#report-link").click())
        assert citizen.locator("#chosen-entry").inner_text().count(DEBTOR) == 1
        citizen.get_by_label("举报事项").select_option(CATEGORY)
        citizen.get_by_label("看到的情况").fill(REPORT)
        citizen.get_by_label("地点（可选）").click()
        citizen.keyboard.type("某某国际旅行社")
        citizen.get_by_label("电子邮箱").click()
        citizen.keyboard.type(SUBMITTER)
        receipt = navigate(citizen, lambda: citizen.keyboard.press("Enter"))
        assert "已收到您的举报" in receipt
        number = citizen.locator("#ticket-number").inner_text().strip()
        code = citizen.locator("#access-code").inner_text().strip()
        assert re.fullmatch(r"JB-\d{4}-[0-9A-Z]+", number), number
        assert len(code.replace("-", "")) >= 12, code
        assert code not in citizen.url and code.replace("-", "") not in citizen.url
        assert "旅游" in citizen.locator("main").inner_text()  # routed to 旅游 unit

        # 2. The clerk logs in, finds the ticket in the queue, accepts and replies.
        open_page(clerk, "/unit/login")
        clerk.get_by_label("登录名").fill(CLERK)
        clerk.get_by_label("密码").fill(portal.clerk_password)
        navigate(clerk, lambda: clerk.get_by_role("button", name="登录").click())
        assert clerk.url.endswith("/unit/")
        navigate(clerk, lambda: clerk.get_by_role("link", name=number).click())
        assert number in clerk.locator("main").inner_text()
        navigate(clerk, lambda: clerk.get_by_role("button", name="受理", exact=True).click())
        clerk.get_by_label("答复（提交人可见）").fill(REPLY)
        office = navigate(clerk, lambda: clerk.get_by_role("button", name="发出答复").click())

        # The hostile description is shown as text, not run or parsed, in the back office.
        text = clerk.locator("main").inner_text()
        assert first_line(HOSTILE_TEXT) in text
        assert "{{ 7*7 }}" in text and "&lt;b&gt; &amp;" in text
        assert REPLY in text
        assert "<script" not in office and "&lt;script&gt;" in office
        assert clerk.locator("main img").count() == 0
        assert clerk.locator("main script").count() == 0

        # 3. The reply reaches the citizen's mailbox.
        mail = portal.inbox.wait_for(SUBMITTER, REPLY, timeout=20)
        assert number in mail.subject, mail.subject
        assert "noreply@shixin.example.cn" in str(mail.message["From"])
        assert code not in mail.text()  # the access code never goes out by mail

        # 4. The citizen looks the ticket up on /track and sees the reply.
        open_page(citizen, "/track")
        citizen.get_by_label("事项编号").fill(number)
        citizen.get_by_label("查询码").fill(code)
        tracked = navigate(citizen, lambda: citizen.get_by_role("button", name="查询").click())
        assert code not in citizen.url
        timeline = citizen.locator(".casework-timeline").inner_text()
        assert REPLY in timeline
        summary = citizen.locator("#ticket").inner_text()
        assert first_line(HOSTILE_TEXT) in summary
        assert "<script" not in tracked and citizen.locator("main img").count() == 0
    finally:
        for pages in (citizen_pages, clerk_pages):
            pages.close()

    assert dialogs == []  # no alert() from the submitted text fired on any page
    assert time.monotonic() - started < 60
