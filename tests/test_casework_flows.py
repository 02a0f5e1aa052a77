"""Issue 4's flows end to end through the portal (the real app, browser-like clients with
CSRF tokens, tests/casework_site.py) with mail delivered to a real SMTP server (aiosmtpd,
tests/smtpserver.py) by the portal's own MailSender, on SQLite and on PostgreSQL:

- decline with reason: the clerk declines a report as outside the unit's remit; the
  submitter's email and /track give the reason, never the internal note;
- overdue escalation across a holiday: a report received on Wednesday 2026-09-30, the last
  working day before 国庆 (days off 10-01 to 10-07 in the State Council's 2026 notice, as
  chinesecalendar has it; Saturday 10-10 is a make-up working day), must be accepted within
  3 working days: by 2026-10-10 23:59:59 CST. It is not overdue during the holiday nor on
  10-10, is on 10-11 00:00, and the sweep then escalates it to the supervising unit of
  routing.yaml (区社会信用体系建设工作领导小组), which is mailed and sees it in its back office,
  while /stats/units counts it against 旅游局;
- mail survives an SMTP outage and a restart: the clerk replies while the SMTP server is
  down; the reply is on /track at once; the portal is stopped, the server comes back, a new
  portal on the same data starts, and its mail loop delivers the reply exactly once (the
  failed round gave its claim back, so nothing can send it twice; the README's weaker "at
  least once" is for a sender that dies holding a claim: tests/test_casework_mail.py).

Every email is parsed: subject, To, Chinese plain text plus an HTML part, no access code.
Flows that need Chromium (transfer, reopen) are in tests/browser/test_browser_casework_flows.py.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from casework_site import CaseSite, act, case_site
from smtpserver import MailServer, Received, smtp_fixture  # noqa: F401  (smtp_fixture)
from sqlalchemy import select
from test_casework_support import Clock, cst

from casework.intake import Submission
from casework.mail import MailSender, RoundReport
from casework.service import CaseService
from core.tables import outbox

MAIL_FROM = "失信被执行人名单公开查询 <noreply@shixin.example.cn>"
SUBMITTER = "citizen@example.cn"
TOURISM_MAIL = "lyj@example.gov.cn"
SUPERVISOR_MAIL = "xyb@example.gov.cn"
ROW = re.compile(r'<tr id="unit-\d+" data-unit="([^"]+)">(.*?)</tr>', re.S)
CELL = re.compile(r'<td class="num"[^>]*>([^<]*)</td>')


@pytest.fixture
def site(tmp_path: Path, database_url: str, smtp: MailServer) -> Iterator[CaseSite]:
    """The portal (no background loops: each test runs the mail rounds itself), mailing to
    ``smtp``; entry p1 is public (北京市朝阳区人民法院)."""
    env = {
        "SHIXIN_SMTP_URL": smtp.url,
        "SHIXIN_MAIL_FROM": MAIL_FROM,
        "SHIXIN_MAIL_INTERVAL": "0.1",
        "SHIXIN_SYNC_INTERVAL": "1000",
    }
    with case_site(tmp_path, database_url, **env) as cs:
        yield cs


def with_clock(cs: CaseSite, clock: Clock) -> CaseService:
    """The running portal's CaseService, on ``clock``."""
    old = cs.cases
    cs.site.app.state.cases = CaseService(old.store, old.routing, old.calendar, clock)
    return cs.cases


def mailer(cs: CaseSite, clock: Any = None) -> MailSender:
    """The sender the portal builds from its settings (on ``clock`` when given)."""
    return MailSender.from_settings(cs.site.app.settings, cs.cases.store, clock=clock)


def drain(sender: MailSender) -> RoundReport:
    """Rounds until nothing due is left; the totals."""
    total = RoundReport()
    while (report := sender.deliver_pending()).claimed:
        for name in ("claimed", "sent", "retrying", "given_up", "released"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
    return total


def check_mail(received: Received, to: str, number: str, code: str | None) -> str:
    """What every notification must be: to the one address, the ticket number leading the
    Chinese subject, plain text with an HTML part, never the access code. The plain text."""
    assert received.rcpt_tos == [to] and received.message["To"] == to
    assert received.subject.startswith(f"[{number}] "), received.subject
    plain, page = received.text("plain"), received.text("html")
    assert f"事项编号：{number}" in plain
    assert '<html lang="zh-CN">' in page and f"事项编号：{number}" in page
    if code is not None:
        for text in (received.subject, plain, page):
            assert code not in text and code.replace("-", "") not in text
    return plain


def stats_rows(body: str) -> dict[str, list[str]]:
    """/stats/units per unit code: received, accepted on time, accepted late, replied on
    time, replied late, open and overdue now, median time to reply, reported overdue."""
    return {unit: CELL.findall(cells) for unit, cells in ROW.findall(body)}


# --- decline with reason --------------------------------------------------------------------


def test_a_declined_report_tells_the_submitter_why(site: CaseSite, smtp: MailServer) -> None:
    reason = "该酒店位于李沧区，不在市北区旅游局管辖范围内，请向李沧区文化和旅游局举报。"
    note = "已电话联系李沧区旅游局核实，内部备注不得外传"
    tourism = site.login("tourism", email=TOURISM_MAIL)
    receipt = site.submit(what="被执行人入住李沧区某五星级酒店。", email=SUBMITTER)
    ticket_id = site.ticket_id(receipt.number)
    assert drain(mailer(site)).sent == 2  # received: to the submitter and to 旅游局

    assert act(tourism, ticket_id, "decline", reason="  ").status_code == 422  # a reason is due
    declined = act(tourism, ticket_id, "decline", reason=reason, note=note)
    assert declined.status_code == 303
    page = tourism.get(declined.headers["location"]).text
    assert "已不予受理，理由已告知提交人。" in page and reason in page and note in page
    assert receipt.number not in tourism.get("/unit/").text  # no longer waiting in the queue
    assert receipt.number in tourism.get("/unit/?state=declined").text

    report = drain(mailer(site))
    assert (report.sent, report.retrying) == (1, 0)
    mine = smtp.inbox.to(SUBMITTER)
    assert [m.subject for m in mine] == [
        f"[{receipt.number}] 您的事项已收到",
        f"[{receipt.number}] 您的事项不予受理",
    ]
    plain = check_mail(mine[1], SUBMITTER, receipt.number, receipt.code)
    assert "不予受理。" in plain and reason in plain and reason in mine[1].text("html")
    assert note not in plain and note not in mine[1].text("html")
    assert [m.subject for m in smtp.inbox.to(TOURISM_MAIL)] == [
        f"[{receipt.number}] 【举报】新事项待受理"
    ]

    tracked = site.track(receipt.number, receipt.code)
    assert tracked.status_code == 200
    assert f"不予受理。理由：{reason}" in tracked.text and "不予受理</span>" in tracked.text
    assert note not in tracked.text
    assert 'action="/track/contest"' in tracked.text  # the submitter may contest it


# --- overdue escalation across a holiday ---------------------------------------------------


def test_overdue_escalation_across_the_national_day_holiday(
    site: CaseSite, smtp: MailServer
) -> None:
    clock = Clock("2026-09-30T16:30:00")  # Wednesday, the last working day before 国庆
    cases = with_clock(site, clock)
    tourism = site.login("tourism", email=TOURISM_MAIL)
    supervisor = site.login("credit-group", email=SUPERVISOR_MAIL)
    assert cases.routing.supervisor_of("tourism") == "credit-group"
    receipt = cases.submit(
        Submission(
            kind="report",
            category="consumption.hotel",
            entry_id="p1",
            what="被执行人9月29日入住某五星级酒店。",
            email=SUBMITTER,
        )
    )
    ticket_id = receipt.ticket_id
    # 3 working days: 10-08 (Thu), 10-09 (Fri), 10-10 (Sat, a make-up working day).
    assert receipt.accept_due == cst("2026-10-10T23:59:59.999999")
    sender = mailer(site, clock)
    assert drain(sender).sent == 2
    assert "2026-10-10 23:59" in tourism.get(f"/unit/tickets/{ticket_id}").text

    # Not overdue on any day of the holiday, nor on the working days before the deadline:
    # three calendar days would have ended on 10-03.
    for moment in ("2026-10-01T09:00:00", "2026-10-03T12:00:00", "2026-10-07T23:59:59"):
        clock.set(moment)
        assert cases.sweep_overdue() == [], moment
    clock.set("2026-10-09T10:00:00")
    assert cases.sweep_overdue() == []
    assert "badge due-ok" in tourism.get("/unit/").text
    clock.set("2026-10-10T23:59:59")
    assert cases.sweep_overdue() == []
    page = tourism.get(f"/unit/tickets/{ticket_id}").text
    assert "已超期" not in page and "badge due-soon" in tourism.get("/unit/").text
    assert "h-escalated" not in supervisor.get("/unit/").text
    assert drain(sender).claimed == 0  # nobody was told anything during the holiday

    # Overdue from the first moment of 10-11: flagged once, escalated to the supervisor.
    clock.set("2026-10-11T00:00:00")
    assert cases.sweep_overdue() == [(receipt.number, "tourism", "credit-group")]
    clock.set("2026-10-12T09:00:00")  # Monday
    assert cases.sweep_overdue() == []  # once only
    assert drain(sender).sent == 3

    escalation = "旅游局超过受理期限（2026-10-10），已报区社会信用体系建设工作领导小组督办"
    (to_supervisor,) = smtp.inbox.to(SUPERVISOR_MAIL)
    assert to_supervisor.subject == f"[{receipt.number}] 【举报】旅游局超过受理期限，请督办"
    text = check_mail(to_supervisor, SUPERVISOR_MAIL, receipt.number, receipt.access_code)
    assert "旅游局超过受理期限，请督办。" in text and "请登录单位后台" in text
    assert [m.subject for m in smtp.inbox.to(TOURISM_MAIL)][-1] == (
        f"[{receipt.number}] 【举报】已超过受理期限"
    )
    told = smtp.inbox.to(SUBMITTER)[-1]
    assert told.subject == f"[{receipt.number}] 您的事项办理超期"
    assert escalation in check_mail(told, SUBMITTER, receipt.number, receipt.access_code)

    # The supervising unit's back office lists it as escalated; it may read it, not act.
    queue = supervisor.get("/unit/").text
    escalated = queue[queue.index('id="h-escalated"') :]
    assert receipt.number in escalated and "已超期" in escalated
    page = supervisor.get(f"/unit/tickets/{ticket_id}").text
    assert "已报请本单位督办" in page and escalation in page
    assert f'action="/unit/tickets/{ticket_id}/accept"' not in page
    assert act(supervisor, ticket_id, "accept").status_code == 404
    # 旅游局 sees the badge; the submitter sees the escalation on /track.
    assert "badge due-overdue" in tourism.get("/unit/?overdue=1").text
    assert escalation in site.track(receipt.number, receipt.access_code).text

    # /stats/units counts it against 旅游局, not against the supervisor.
    table = stats_rows(site.client.get("/stats/units").text)
    assert table == {"tourism": ["1", "0", "0", "0", "0", "1", "—", "1"]}


# --- mail survives an SMTP outage and a restart --------------------------------------------


def test_a_reply_sent_during_an_smtp_outage_arrives_once_after_a_restart(
    tmp_path: Path, database_url: str, smtp: MailServer
) -> None:
    from site_support import TestClient  # imported there without httpx's deprecation

    from portal.app import create_app

    answer = "经核查，举报属实。已通知酒店停止为被执行人提供住宿服务。"
    env = {
        "SHIXIN_SMTP_URL": smtp.url,
        "SHIXIN_MAIL_FROM": MAIL_FROM,
        "SHIXIN_MAIL_INTERVAL": "0.1",
        "SHIXIN_SYNC_INTERVAL": "1000",
    }
    # This portal's clock runs ten minutes behind, so the retry the outage schedules (one
    # minute later) is already due when the next portal starts on the real clock.
    clock = Clock()
    clock.now = datetime.now(UTC) - timedelta(minutes=10)
    with case_site(tmp_path, database_url, **env) as site:
        settings = site.site.app.settings
        with_clock(site, clock)
        tourism = site.login("tourism", email=TOURISM_MAIL)
        receipt = site.submit(email=SUBMITTER)
        ticket_id = site.ticket_id(receipt.number)
        assert act(tourism, ticket_id, "accept").status_code == 303
        sender = mailer(site, clock)
        assert drain(sender).sent == 3  # received (submitter and unit), accepted

        smtp.stop()
        clock.advance(seconds=30)
        assert act(tourism, ticket_id, "reply", message=answer).status_code == 303
        # The reply is on /track at once, whatever the mail does.
        tracked = site.track(receipt.number, receipt.code).text
        assert answer in tracked and "已答复</span>" in tracked
        report = sender.deliver_pending()
        assert (report.claimed, report.sent, report.retrying) == (1, 0, 1)
        with site.cases.store.read() as conn:
            (row,) = conn.execute(select(outbox).where(outbox.c.sent_at.is_(None))).mappings()
        assert row["recipient"] == SUBMITTER and row["attempts"] == 1
        assert row["claimed_by"] is None and row["last_error"]
        assert row["next_attempt_at"] == clock.now + timedelta(minutes=1)
    # The portal is gone; the SMTP server comes back on its address.
    assert len(smtp.inbox.to(SUBMITTER)) == 2
    smtp.start()

    # A new portal on the same data directory and database sends it from its mail loop.
    with TestClient(create_app(settings)) as client:
        arrived = smtp.inbox.wait_for(SUBMITTER, answer, timeout=30)
        store = client.app.state.cases.store
        # Nothing is left to send: another round (on the real clock) finds nothing due.
        assert MailSender.from_settings(settings, store).deliver_pending().claimed == 0
        with store.read() as conn:
            rows = conn.execute(select(outbox).order_by(outbox.c.id)).mappings().all()
    assert all(r["sent_at"] is not None for r in rows) and len(rows) == 4
    assert [r["attempts"] for r in rows] == [0, 0, 0, 1]

    assert arrived.subject == f"[{receipt.number}] 您的事项已答复"
    assert answer in check_mail(arrived, SUBMITTER, receipt.number, receipt.code)
    assert answer in arrived.text("html")
    mine = smtp.inbox.to(SUBMITTER)
    assert [m.subject for m in mine] == [
        f"[{receipt.number}] 您的事项已收到",
        f"[{receipt.number}] 您的事项已受理",
        f"[{receipt.number}] 您的事项已答复",
    ]
    ids = Counter(str(m.message["Message-ID"]) for m in smtp.inbox.received)
    assert len(ids) == 4 and set(ids.values()) == {1}  # every message exactly once
