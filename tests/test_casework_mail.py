"""Notification email (casework/mail.py) against a real SMTP server: aiosmtpd, started by
the ``smtp`` fixture of tests/smtpserver.py on a free port of 127.0.0.1. Store-backed tests
run on SQLite and PostgreSQL.

Covered: a ticket's messages arrive in Chinese with the ticket number in the subject and an
HTML part that keeps hostile text inert; an SMTP outage delays mail and loses none; a
sender that died holding a claim is taken over after the lease; a refused recipient fails
alone and ends as failed after its retries; without an SMTP URL, .eml files; two senders
at once never send a message twice; the portal loop and ``shixin mail``.
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from smtpserver import MailServer, smtp_fixture  # noqa: F401  (smtp_fixture)
from sqlalchemy import select
from support import make_settings
from test_casework_support import (  # noqa: F401
    HOSTILE_TEXT,
    Casework,
    cw_fixture,
    routing_fixture,
)

from casework import notice_texts, outbox
from casework.intake import Submission
from casework.mail import MailSender, RoundReport, mail_subject
from casework.routing import Routing
from casework.service import CaseService
from core.settings import ConfigError, Settings
from core.smtp_url import parse_smtp_url
from core.tables import outbox as outbox_table
from core.workdays import WorkCalendar

ROOT = Path(__file__).resolve().parent.parent
FROM = "失信被执行人名单公开查询 <noreply@shixin.example.cn>"
REPLY_TO = "help@shixin.example.cn"
UNIT_EMAIL = "tourism@example.gov.cn"
PUBLIC_URL = "https://shixin.example.cn"


def sender(cw: Casework, server: MailServer, **kw: Any) -> MailSender:
    return MailSender(
        cw.cases.store,
        mail_from=FROM,
        reply_to=REPLY_TO,
        smtp=server.target(),
        clock=cw.clock,
        **kw,
    )


def drain(mailer: MailSender) -> RoundReport:
    """Rounds until nothing due is left; the totals."""
    total = RoundReport()
    while True:
        report = mailer.deliver_pending()
        if not report.claimed:
            return total
        for name in ("claimed", "sent", "retrying", "given_up", "released"):
            setattr(total, name, getattr(total, name) + getattr(report, name))


def email_rows(cw: Casework) -> list[dict[str, Any]]:
    with cw.cases.store.read() as conn:
        rows = conn.execute(
            select(outbox_table).where(outbox_table.c.channel == "email").order_by("id")
        )
        return [dict(r) for r in rows.mappings()]


# --- composing and settings (no store) ----------------------------------------------------


def test_smtp_urls() -> None:
    t = parse_smtp_url("smtp://mailer:p%40ss%3Aword@mail.example.cn:587?starttls=1&timeout=10")
    assert (t.hostname, t.port, t.username, t.password) == (
        "mail.example.cn",
        587,
        "mailer",
        "p@ss:word",
    )
    assert (t.use_tls, t.start_tls, t.timeout) == (False, True, 10.0)
    assert "p@ss" not in repr(t)
    t = parse_smtp_url("smtps://u:p@mail.example.cn")
    assert (t.port, t.use_tls, t.start_tls) == (465, True, False)
    t = parse_smtp_url("smtp://relay.internal")  # no credentials: STARTTLS when offered
    assert (t.port, t.start_tls, t.username) == (25, None, None)
    # Credentials never go out in clear text unless starttls=0 says so.
    assert parse_smtp_url("smtp://u:p@relay.internal").start_tls is True
    assert parse_smtp_url("smtp://u:p@relay.internal?starttls=0&helo=me").start_tls is False
    for bad in (
        "http://mail.example.cn",
        "smtp://",
        "smtp://h:99999",
        "smtp://h?starttls=maybe",
        "smtp://h?tls=1",
        "smtps://h?starttls=1",
        "smtp://h?timeout=-1",
    ):
        with pytest.raises(ValueError):
            parse_smtp_url(bad)


def test_mail_settings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.sqlite3"
    default = make_settings(tmp_path, url)
    assert default.smtp_url is None and default.mail_interval_seconds == 5.0
    assert "@" in default.mail_from and default.mail_max_attempts == 12
    settings = make_settings(
        tmp_path,
        url,
        SHIXIN_SMTP_URL="smtps://mailer:hunter2hunter2@mail.example.cn",
        SHIXIN_MAIL_FROM=FROM,
        SHIXIN_MAIL_REPLY_TO=REPLY_TO,
        SHIXIN_MAIL_INTERVAL="2.5",
        SHIXIN_MAIL_MAX_ATTEMPTS="5",
    )
    assert settings.smtp_url is not None and "hunter2" not in repr(settings)
    assert (settings.mail_from, settings.mail_reply_to) == (FROM, REPLY_TO)
    assert (settings.mail_interval_seconds, settings.mail_max_attempts) == (2.5, 5)
    with pytest.raises(ConfigError, match="SHIXIN_MAIL_FROM"):
        make_settings(tmp_path, url, SHIXIN_SMTP_URL="smtp://mail.example.cn")
    with pytest.raises(ConfigError) as err:
        make_settings(
            tmp_path, url, SHIXIN_SMTP_URL="http://u:hunter2hunter2@x", SHIXIN_MAIL_FROM=FROM
        )
    assert "hunter2" not in str(err.value)
    with pytest.raises(ConfigError, match="SHIXIN_MAIL_FROM"):
        make_settings(tmp_path, url, SHIXIN_MAIL_FROM="nobody")


def test_subjects_lead_with_the_ticket_number() -> None:
    assert mail_subject("您的事项 JB-2026-000001：已受理", "JB-2026-000001") == (
        "[JB-2026-000001] 您的事项已受理"
    )
    assert mail_subject("【举报】JB-2026-000001：新事项待受理", "JB-2026-000001") == (
        "[JB-2026-000001] 【举报】新事项待受理"
    )
    assert mail_subject("a\r\nBcc: x@y.z", None) == "a Bcc: x@y.z"


# --- delivery through a real SMTP server (SQLite and PostgreSQL) --------------------------


def test_a_ticket_s_messages_arrive_in_chinese_with_inert_html(
    cw: Casework, smtp: MailServer
) -> None:
    unit = cw.unit("tourism", email=UNIT_EMAIL)
    receipt = cw.report(what=HOSTILE_TEXT, where=HOSTILE_TEXT)
    cw.cases.accept(unit, receipt.ticket_id)
    cw.cases.reply(unit, receipt.ticket_id, HOSTILE_TEXT)

    report = drain(sender(cw, smtp))

    assert (report.sent, report.retrying, report.given_up) == (4, 0, 0)
    mine = smtp.inbox.to("reporter@example.com")
    assert [m.rcpt_tos for m in mine] == [["reporter@example.com"]] * 3
    assert [m.subject for m in mine] == [
        f"[{receipt.number}] 您的事项已收到",
        f"[{receipt.number}] 您的事项已受理",
        f"[{receipt.number}] 您的事项已答复",
    ]
    unit_mail = smtp.inbox.to(UNIT_EMAIL)
    assert [m.subject for m in unit_mail] == [f"[{receipt.number}] 【举报】新事项待受理"]
    assert "请登录单位后台" in unit_mail[0].text()

    answer = mine[-1]
    assert answer.mail_from == "noreply@shixin.example.cn"
    assert answer.message["To"] == "reporter@example.com"
    assert answer.message["Reply-To"] == REPLY_TO
    assert answer.message["From"].addresses[0].display_name == "失信被执行人名单公开查询"
    assert answer.message["Message-ID"].endswith("@shixin.example.cn>")
    assert answer.message["Auto-Submitted"] == "auto-generated"
    assert len({m.message["Message-ID"] for m in smtp.inbox.received}) == 4
    plain = answer.text("plain")
    assert f"事项编号：{receipt.number}" in plain and "已答复" in plain
    assert HOSTILE_TEXT in plain  # the plain text is exactly what was typed
    assert receipt.access_code not in plain
    # No SHIXIN_PUBLIC_URL: the page is named in words, with no address at all.
    assert "本站“事项查询”页面输入事项编号" in plain and "http" not in plain

    page = answer.text("html")
    for line in HOSTILE_TEXT.split("\n"):
        assert html.escape(line) in page
    lowered = page.lower()
    assert "<script" not in lowered and "<img" not in lowered and "<a " not in lowered
    assert "&lt;script&gt;" in page and "&amp;lt;b&amp;gt;" in page
    assert '<html lang="zh-CN">' in page
    for received in smtp.inbox.received:  # the submitted text itself is never mailed raw
        assert "<script>" not in received.text("html")
    assert all(row["sent_at"] is not None for row in email_rows(cw))
    assert drain(sender(cw, smtp)).claimed == 0  # nothing is sent twice


def test_with_a_public_url_every_message_links_to_its_page(cw: Casework, smtp: MailServer) -> None:
    cw.cases.public_url = PUBLIC_URL
    unit = cw.unit("tourism", email=UNIT_EMAIL)
    receipt = cw.report()
    cw.cases.accept(unit, receipt.ticket_id)
    # A unit's text with an address in it, ours or another, stays text in the HTML part.
    typed = f'见 https://evil.example/x 或 {PUBLIC_URL}/track"><script>alert(1)</script>'
    cw.cases.reply(unit, receipt.ticket_id, typed)

    assert drain(sender(cw, smtp, public_url=PUBLIC_URL)).sent == 4
    track = f"{PUBLIC_URL}/track?number={receipt.number}"
    mine = smtp.inbox.to("reporter@example.com")
    assert len(mine) == 3
    for received in mine:
        plain, page = received.text("plain"), received.text("html")
        assert f"事项编号：{receipt.number}" in plain
        assert f"“事项查询”页面，输入提交时获得的查询码，查看全部进展：\n{track}\n" in plain
        assert f'<a href="{html.escape(track)}">{html.escape(track)}</a>' in page
        assert receipt.access_code not in plain + page
        assert receipt.access_code.replace("-", "") not in plain + page
    page = mine[-1].text("html")
    assert page.count("<a ") == 2  # the footer's, and the site's own address in the reply
    assert f'<a href="{PUBLIC_URL}/track">' in page and "<script" not in page.lower()
    assert '<a href="https://evil' not in page and "https://evil.example/x" in page

    (told,) = smtp.inbox.to(UNIT_EMAIL)
    ticket = f"{PUBLIC_URL}/unit/tickets/{receipt.ticket_id}"
    assert f"请登录单位后台查看并在期限内处理：\n{ticket}" in told.text("plain")
    assert f'<a href="{ticket}">{ticket}</a>' in told.text("html")


def test_the_public_url_reaches_cases_and_mail_from_the_settings(
    cw: Casework, tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, SHIXIN_PUBLIC_URL=f"{PUBLIC_URL}/")
    assert settings.public_url == PUBLIC_URL  # no trailing slash
    cases = CaseService.from_settings(settings, cw.cases.store)
    assert cases.public_url == PUBLIC_URL
    cw.cases.public_url = cases.public_url
    cw.unit("tourism", email=UNIT_EMAIL)
    receipt = cw.report()
    mailer = MailSender.from_settings(settings, cw.cases.store, clock=cw.clock)
    assert drain(mailer).sent == 2  # to .eml files: no SMTP URL
    files = sorted((settings.data_dir / "mail-outbox").iterdir())
    unit_mail, mine = (message_from_bytes(f.read_bytes(), policy=policy.default) for f in files)
    track = f"{PUBLIC_URL}/track?number={receipt.number}"
    for part, expected in (("plain", track), ("html", f'<a href="{track}">')):
        body = mine.get_body((part,))
        assert body is not None and expected in body.get_content()
    body = unit_mail.get_body(("html",))
    assert body is not None
    assert f'<a href="{PUBLIC_URL}/unit/tickets/{receipt.ticket_id}">' in body.get_content()


def test_on_demo_data_every_email_says_it_comes_from_a_demo_site(
    cw: Casework, tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, SHIXIN_DEMO="1")
    cw.unit("tourism", email=UNIT_EMAIL)
    cw.report()
    assert drain(MailSender.from_settings(settings, cw.cases.store, clock=cw.clock)).sent == 2
    for file in sorted((settings.data_dir / "mail-outbox").iterdir()):
        email = message_from_bytes(file.read_bytes(), policy=policy.default)
        assert email["Subject"].startswith("[演示] ")
        for part in ("plain", "html"):
            body = email.get_body((part,))
            assert (
                body is not None
                and "「演示数据，非真实名单」本消息来自演示站点。" in body.get_content()
            )


def test_notifications_use_the_site_s_terms() -> None:
    """事项编号 and 事项查询 as on the site (templates/casework/track.html, the navigation),
    never the old 受理编号 / 进度查询 (/status's 移除进度查询 is another page)."""
    files = [
        *(ROOT / "casework").glob("*.py"),
        *(ROOT / "bot").glob("*.py"),
        *(ROOT / "templates" / "casework").glob("*.html"),
    ]
    assert len(files) > 20
    for path in files:
        text = path.read_text(encoding="utf-8").replace("移除进度查询", "")
        assert "受理编号" not in text and "进度查询" not in text, path
    for public_url in (None, PUBLIC_URL):
        _, mine = notice_texts.to_submitter("JB-2026-000001", "已受理", None, public_url=public_url)
        _, theirs = notice_texts.to_unit(
            "JB-2026-000001", "report", "类别", "新事项待受理", ticket_id=1, public_url=public_url
        )
        assert "事项编号：JB-2026-000001" in mine and "“事项查询”页面" in mine
        assert "事项编号：JB-2026-000001" in theirs and "单位后台" in theirs


def test_an_smtp_outage_delays_mail_and_loses_none(cw: Casework, smtp: MailServer) -> None:
    cw.unit("tourism", email=UNIT_EMAIL)
    smtp.stop()
    receipt = cw.report()
    mailer = sender(cw, smtp)

    first = mailer.deliver_pending()
    assert (first.claimed, first.sent, first.retrying) == (2, 0, 2)
    rows = email_rows(cw)
    assert [r["attempts"] for r in rows] == [1, 1]
    assert all(r["sent_at"] is None and r["failed_at"] is None for r in rows)
    assert all("Connect" in r["last_error"] or "refused" in r["last_error"] for r in rows)
    assert all(r["next_attempt_at"] == cw.clock.now + timedelta(minutes=1) for r in rows)
    assert mailer.deliver_pending().claimed == 0  # backoff: not before the minute is up

    cw.clock.advance(seconds=61)
    second = mailer.deliver_pending()
    assert (second.claimed, second.retrying) == (2, 2)
    rows = email_rows(cw)
    assert [r["attempts"] for r in rows] == [2, 2]
    assert all(r["next_attempt_at"] == cw.clock.now + timedelta(minutes=2) for r in rows)

    smtp.start()  # back, but the backoff still runs
    cw.clock.advance(seconds=60)
    assert mailer.deliver_pending().claimed == 0 and smtp.inbox.received == []
    cw.clock.advance(seconds=61)
    assert drain(mailer).sent == 2
    assert sorted(r.rcpt_tos[0] for r in smtp.inbox.received) == [
        "reporter@example.com",
        UNIT_EMAIL,
    ]
    assert all(receipt.number in r.subject for r in smtp.inbox.received)
    assert all(r["sent_at"] is not None for r in email_rows(cw))


def test_a_restart_sends_what_a_dead_sender_had_claimed(cw: Casework, smtp: MailServer) -> None:
    cw.unit("tourism", email=UNIT_EMAIL)
    cw.report()
    # Another process claims the round's rows and dies before sending anything.
    script = (
        "import os, sys\n"
        "from datetime import datetime, timedelta\n"
        "from casework import outbox\n"
        "from core.db import Store\n"
        "got = outbox.claim(Store(sys.argv[1]), 'email', 'doomed', "
        "datetime.fromisoformat(sys.argv[2]), timedelta(minutes=10))\n"
        "print(len(got), flush=True)\n"
        "os._exit(9)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, cw.cases.store.url, cw.clock.now.isoformat()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 9 and done.stdout.strip() == "2", done.stderr
    assert all(r["claimed_by"] == "doomed" for r in email_rows(cw))

    restarted = sender(cw, smtp)  # a new sender on the same database
    assert restarted.deliver_pending().claimed == 0  # the lease still holds
    cw.clock.advance(minutes=9)
    assert restarted.deliver_pending().claimed == 0 and smtp.inbox.received == []
    cw.clock.advance(minutes=1, seconds=1)
    assert drain(restarted).sent == 2
    assert Counter(r.rcpt_tos[0] for r in smtp.inbox.received) == {
        "reporter@example.com": 1,
        UNIT_EMAIL: 1,
    }
    assert all(r["claimed_by"] is None and r["attempts"] == 0 for r in email_rows(cw))


def test_a_refused_recipient_fails_alone_after_its_retries(cw: Casework, smtp: MailServer) -> None:
    cw.unit("tourism", email=UNIT_EMAIL)
    smtp.inbox.refuse = {"gone@example.com"}
    bad = cw.report(email="gone@example.com")
    good = cw.report()
    mailer = sender(cw, smtp, max_attempts=3)

    first = mailer.deliver_pending()
    assert (first.sent, first.retrying, first.given_up) == (3, 1, 0)  # the others went out
    assert Counter(r.rcpt_tos[0] for r in smtp.inbox.received) == {
        UNIT_EMAIL: 2,
        "reporter@example.com": 1,
    }
    assert [r.subject for r in smtp.inbox.to("reporter@example.com")] == [
        f"[{good.number}] 您的事项已收到"
    ]
    cw.clock.advance(seconds=61)
    assert mailer.deliver_pending().retrying == 1
    cw.clock.advance(seconds=121)
    assert mailer.deliver_pending().given_up == 1
    cw.clock.advance(hours=24)
    assert mailer.deliver_pending().claimed == 0  # given up: no more tries

    failed = outbox.failed(cw.cases.store, "email")
    assert [(m.recipient, m.ticket_number, m.attempts) for m in failed] == [
        ("gone@example.com", bad.number, 3)
    ]
    assert failed[0].last_error is not None and failed[0].last_error.startswith("550")
    assert outbox.pending(cw.cases.store, cw.clock.now, channel="email") == []

    # The operator fixes the cause and queues it again.
    smtp.inbox.refuse = set()
    assert outbox.retry_failed(cw.cases.store, cw.clock.now, "email") == 1
    assert drain(mailer).sent == 1
    assert len(smtp.inbox.to("gone@example.com")) == 1
    assert outbox.failed(cw.cases.store, "email") == []


def test_without_an_smtp_url_messages_become_eml_files(cw: Casework, settings: Settings) -> None:
    assert settings.smtp_url is None
    cw.unit("tourism", email=UNIT_EMAIL)
    receipt = cw.report(what=HOSTILE_TEXT)
    mailer = MailSender.from_settings(settings, cw.cases.store, clock=cw.clock)
    assert drain(mailer).sent == 2

    folder = settings.data_dir / "mail-outbox"
    files = sorted(folder.iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]  # no temporary files left
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    messages = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert [m["To"] for m in messages] == [UNIT_EMAIL, "reporter@example.com"]
    assert all(str(m["Subject"]).startswith(f"[{receipt.number}] ") for m in messages)
    body = messages[1].get_body(("plain",))
    assert body is not None and "已交由" in body.get_content()
    assert messages[1].get_body(("html",)) is not None
    assert all(r["sent_at"] is not None for r in email_rows(cw))
    assert drain(mailer).claimed == 0 and len(list(folder.iterdir())) == 2


def test_two_senders_at_once_never_send_a_message_twice(cw: Casework, smtp: MailServer) -> None:
    cw.unit("tourism", email=UNIT_EMAIL)
    for n in range(8):
        cw.report(email=f"r{n}@example.com")
    smtp.inbox.delay = 0.02  # rounds overlap
    senders = [sender(cw, smtp, batch=3) for _ in range(2)]
    totals: list[RoundReport] = []
    errors: list[BaseException] = []

    def run(mailer: MailSender) -> None:
        try:
            totals.append(drain(mailer))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    ids = Counter(str(r.message["Message-ID"]) for r in smtp.inbox.received)
    assert len(ids) == 16 and set(ids.values()) == {1}
    assert sum(t.sent for t in totals) == 16
    assert all(r["sent_at"] is not None for r in email_rows(cw))


def test_smtp_login(cw: Casework) -> None:
    server = MailServer()

    def authenticate(
        srv: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"mailer",
            b"p@ss word",
        )
        if ok:
            server.inbox.logins.append(data.login.decode())
        return AuthResult(success=ok)

    server.start(authenticator=authenticate, auth_require_tls=False)
    try:
        cw.report()
        # A wrong password: aiosmtplib tries PLAIN (535), then LOGIN, which this test server
        # leaves waiting; either way the message waits for the next round.
        wrong = parse_smtp_url(f"smtp://mailer:guess@127.0.0.1:{server.port}?starttls=0&timeout=1")
        mailer = MailSender(cw.cases.store, mail_from=FROM, smtp=wrong, clock=cw.clock)
        assert (drain(mailer).sent, email_rows(cw)[0]["attempts"]) == (0, 1)
        assert server.inbox.received == [] and server.inbox.logins == []
        target = parse_smtp_url(f"smtp://mailer:p%40ss%20word@127.0.0.1:{server.port}?starttls=0")
        mailer = MailSender(cw.cases.store, mail_from=FROM, smtp=target, clock=cw.clock)
        cw.clock.advance(minutes=1)
        assert drain(mailer).sent == 1
        assert server.inbox.logins == ["mailer"] and len(server.inbox.received) == 1
    finally:
        server.stop()


# --- running it: the portal loop and `shixin mail` -----------------------------------------


def _submit_now(settings: Settings, routing: Routing, email: str) -> str:
    """A report through a CaseService on the real clock (the loops use the real clock)."""
    from core.db import Store

    store = Store(settings.database_url)
    try:
        cases = CaseService(store, routing, WorkCalendar())
        receipt = cases.submit(
            Submission(
                kind="report",
                category="consumption.hotel",
                what="入住五星级酒店",
                debtor_name="张伟",
                email=email,
            )
        )
        return receipt.number
    finally:
        store.dispose()


def test_the_portal_sends_mail_in_the_background(
    tmp_path: Path, database_url: str, routing: Routing
) -> None:
    from site_support import TestClient  # imported there without httpx's deprecation

    from portal.app import create_app

    settings = make_settings(
        tmp_path, database_url, SHIXIN_MAIL_INTERVAL="0.05", SHIXIN_SYNC_INTERVAL="1000"
    )
    folder = settings.data_dir / "mail-outbox"
    with TestClient(create_app(settings)):
        number = _submit_now(settings, routing, "walkin@example.com")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (folder.exists() and any(folder.iterdir())):
            time.sleep(0.05)
    files = list(folder.iterdir())
    assert len(files) == 1 and number in files[0].read_text(encoding="ascii", errors="replace")


def test_shixin_mail_once_and_the_failed_list(
    tmp_path: Path,
    database_url: str,
    routing: Routing,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from core.db import Store
    from shixin.cli import main

    settings = make_settings(tmp_path, database_url)
    for name, value in {
        "SHIXIN_DATA_DIR": str(settings.data_dir),
        "SHIXIN_DATABASE_URL": database_url,
        "SHIXIN_ID_HASH_KEY": "test-id-hash-key-0123456789abcdef",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("SHIXIN_SMTP_URL", "SHIXIN_MAIL_FROM"):
        monkeypatch.delenv(name, raising=False)
    number = _submit_now(settings, routing, "cli@example.com")
    store = Store(database_url)
    try:
        (row,) = outbox.pending(store, channel="email")
        outbox.mark_failed(store, row.id, "550 no such user", max_attempts=1)
        assert main(["mail", "--failed"]) == 0
        assert f"#{row.id}\t{number}\t" in capsys.readouterr().out
        assert main(["mail", "--once"]) == 0
        assert not (settings.data_dir / "mail-outbox").exists()  # given up: not sent
        assert main(["mail", "--retry-failed", "--once"]) == 0
        out = capsys.readouterr().out
        assert "已重新排队 1 封" in out and "已发送 1" in out
        assert len(os.listdir(settings.data_dir / "mail-outbox")) == 1
    finally:
        store.dispose()
