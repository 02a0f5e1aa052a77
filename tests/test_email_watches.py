"""Watches by email (issue 14): double opt-in, immediate alerts, the daily digest, one-click
unsubscribe and the manage page, end to end through the site and a real SMTP server
(aiosmtpd, tests/smtpserver.py), on SQLite and PostgreSQL.

The rounds run by hand with an injected clock on a fixed day far from today (the digest's
hour is judged by that clock); mail is delivered with the same clock.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from site_support import Site, full_ids_in, masked, running
from smtpserver import MailServer, Received, smtp_fixture  # noqa: F401  (smtp_fixture)
from sqlalchemy import select
from support import KEY, credit_code, id_number, make_settings, org, person, removal

from casework.mail import MailSender
from core.china_time import CST
from watches.alerts import AlertRound
from watches.digest import MailRound
from watches.email_subscriptions import EmailWatches
from watches.mail_texts import list_headers
from watches.service import WatchError
from watches.tables import email_requests

PUBLIC_URL = "https://shixin.example.cn"
FROM = "失信被执行人名单公开查询 <noreply@shixin.example.cn>"
ADDRESS = "watcher@example.com"
# A fixed day, years from any real "today": the clock of every round in these tests.
DAY = datetime(2031, 5, 6, tzinfo=CST)
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/watch/[a-z]+/[A-Za-z0-9._-]+)")


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Iterator[Site]:
    settings = make_settings(tmp_path, database_url, SHIXIN_PUBLIC_URL=PUBLIC_URL)
    with running(settings) as site:
        yield site


def rounds(site: Site, smtp: MailServer, at: datetime) -> None:
    """The alert round, the watch-mail round and the mail round, all at ``at``."""
    store = site.service.store
    AlertRound(store).run(at)
    MailRound(store, KEY, PUBLIC_URL).run(at)
    mailer = MailSender(
        store,
        mail_from=FROM,
        smtp=smtp.target(),
        public_url=PUBLIC_URL,
        extra_headers=list_headers(KEY, PUBLIC_URL),
        clock=lambda: at,
    )
    while mailer.deliver_pending().claimed:
        pass


def links(received: Received) -> dict[str, str]:
    """The site's paths in a mail, by kind: confirm, manage, unsubscribe."""
    return {path.split("/")[2]: path for path in LINK.findall(received.text())}


def subscribe(site: Site, **fields: str) -> Any:
    return site.post_form(
        "/watch/subscribe", {"email": ADDRESS, **fields}, form_page="/watch/subscribe"
    )


def confirm(site: Site, smtp: MailServer, at: datetime) -> dict[str, str]:
    """Open the newest confirmation mail's link and press its button; the mail's links."""
    rounds(site, smtp, at)
    mail = [r for r in smtp.inbox.to(ADDRESS) if "confirm" in links(r)][-1]
    path = links(mail)["confirm"]
    page = site.client.get(path)
    assert page.status_code == 200 and "确认关注" in page.text
    answer = site.post_form(path, {}, form_page=path)
    assert answer.status_code == 303 and "/watch/manage/" in answer.headers["location"]
    return links(mail)


def alerts_to(smtp: MailServer) -> list[Received]:
    return [r for r in smtp.inbox.to(ADDRESS) if "confirm" not in links(r)]


def test_nothing_is_alerted_before_the_link_is_confirmed_and_a_used_link_is_refused(
    site: Site, smtp: MailServer
) -> None:
    code = credit_code()
    answer = subscribe(site, kind="code", code=code)
    assert answer.status_code == 200 and "请查收确认邮件" in answer.text
    site.publish(org("o1", cardNum=code))
    rounds(site, smtp, DAY.replace(hour=10))
    (mail,) = smtp.inbox.to(ADDRESS)  # the confirmation only
    assert "confirm" in links(mail) and code in mail.text()
    assert "List-Unsubscribe" not in mail.message

    path = links(mail)["confirm"]
    assert site.post_form(path, {}, form_page=path).status_code == 303
    assert site.client.get(path).status_code == 410  # used
    again = site.post_form(path, {}, form_page="/watch/subscribe")
    assert again.status_code == 410 and "链接无效或已使用" in again.text
    rounds(site, smtp, DAY.replace(hour=10, minute=5))
    assert alerts_to(smtp) == []  # o1 was published before the watch existed

    site.publish(org("o2", cardNum=code, caseCode="(2024)京0105执99号"))
    rounds(site, smtp, DAY.replace(hour=10, minute=10))
    (alert,) = alerts_to(smtp)
    assert "新发布" in alert.text() and "(2024)京0105执99号" in alert.text()


def test_an_expired_confirmation_link_adds_nothing(site: Site, smtp: MailServer) -> None:
    watches: EmailWatches = site.app.state.email_watches
    asked_at = DAY.replace(hour=9)
    watches.request(ADDRESS, "code", {"code": credit_code()}, now=asked_at)
    rounds(site, smtp, asked_at)
    (mail,) = smtp.inbox.to(ADDRESS)
    token = links(mail)["confirm"].rpartition("/")[2]
    with pytest.raises(WatchError) as caught:
        watches.confirm(token, now=asked_at + timedelta(hours=48, seconds=1))
    assert caught.value.code == "expired_token"
    assert watches.confirm(token, now=asked_at + timedelta(hours=47)).kind == "code"


def test_immediate_alerts_carry_one_click_unsubscribe_which_ends_every_alert(
    site: Site, smtp: MailServer
) -> None:
    code = credit_code()
    subscribe(site, kind="code", code=code)
    confirm(site, smtp, DAY.replace(hour=9))

    site.publish(org("o1", cardNum=code))
    rounds(site, smtp, DAY.replace(hour=10))
    site.publish(removal("shield", "o1"))
    rounds(site, smtp, DAY.replace(hour=11))
    published, removed = alerts_to(smtp)
    assert "新发布" in published.text() and "已移出名单" in removed.text()
    for alert in (published, removed):
        unsubscribe = PUBLIC_URL + links(alert)["unsubscribe"]
        assert alert.message["List-Unsubscribe"] == f"<{unsubscribe}>"
        assert alert.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "manage" in links(alert)
        assert unsubscribe in alert.text("html")

    path = links(removed)["unsubscribe"]
    page = site.client.get(path)
    assert page.status_code == 200 and 'id="unsubscribe-form"' in page.text
    # What a mail client sends (RFC 8058): no cookie, no CSRF token.
    site.client.cookies.clear()
    done = site.client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "已退订" in done.text
    site.publish(org("o2", cardNum=code))
    rounds(site, smtp, DAY.replace(hour=12))
    assert len(alerts_to(smtp)) == 2


def test_a_daily_digest_goes_out_once_at_the_set_hour(site: Site, smtp: MailServer) -> None:
    code = credit_code()
    subscribe(site, kind="code", code=code)
    rounds(site, smtp, DAY.replace(hour=5))
    path = links(smtp.inbox.to(ADDRESS)[-1])["confirm"]
    answer = site.post_form(path, {}, form_page=path)
    manage_path = answer.headers["location"].partition("?")[0]
    saved = site.post_form(
        f"{manage_path}/mode", {"mode": "digest", "hour": "8"}, form_page=manage_path
    )
    assert saved.status_code == 303
    assert "每日汇总一封" in site.client.get(manage_path).text

    site.publish(org("o1", cardNum=code))
    rounds(site, smtp, DAY.replace(hour=6))
    site.publish(org("o2", cardNum=code))
    rounds(site, smtp, DAY.replace(hour=7, minute=59))
    assert alerts_to(smtp) == []  # before the hour: collected, not sent
    rounds(site, smtp, DAY.replace(hour=8))
    (digest,) = alerts_to(smtp)
    assert "2031-05-06" in digest.subject and "共 2 条提醒" in digest.text()
    assert digest.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    rounds(site, smtp, DAY.replace(hour=8, minute=30))  # nothing repeated
    site.publish(org("o3", cardNum=code))
    rounds(site, smtp, DAY.replace(hour=9))
    rounds(site, smtp, DAY.replace(hour=23))
    assert len(alerts_to(smtp)) == 1  # the next alert waits for tomorrow's digest
    rounds(site, smtp, DAY.replace(hour=8) + timedelta(days=1))
    latest = alerts_to(smtp)[-1]
    assert "2031-05-07" in latest.subject and "共 1 条提醒" in latest.text()


def test_the_manage_page_lists_and_removes_watches(site: Site, smtp: MailServer) -> None:
    code = credit_code()
    subscribe(site, kind="code", code=code)
    confirm(site, smtp, DAY.replace(hour=9))
    subscribe(site, kind="search", name="张伟", region="北京")
    confirm(site, smtp, DAY.replace(hour=9, minute=1))
    site.publish(org("o1", cardNum=code))
    rounds(site, smtp, DAY.replace(hour=10))
    manage = links(alerts_to(smtp)[0])["manage"]

    page = site.client.get(manage)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert f"统一社会信用代码 {code}" in page.text and "搜索 张伟 / 北京" in page.text
    watch_id = re.findall(r'name="watch" value="(\d+)"', page.text)[0]
    removed = site.post_form(f"{manage}/remove", {"watch": watch_id}, form_page=manage)
    assert removed.status_code == 303
    page = site.client.get(removed.headers["location"])
    assert "已取消该关注" in page.text and code not in page.text
    assert "搜索 张伟 / 北京" in page.text

    site.publish(org("o2", cardNum=code))
    rounds(site, smtp, DAY.replace(hour=11))
    assert len(alerts_to(smtp)) == 1
    assert site.client.get(manage[:-4] + "0000").status_code == 404  # a forged token
    no_token = site.client.post(f"{manage}/remove", data={"watch": watch_id})
    assert no_token.status_code == 403


def test_no_full_id_number_in_any_mail_page_or_stored_request(site: Site, smtp: MailServer) -> None:
    card = id_number("110105", "19800101", "321")
    answer = subscribe(site, kind="person", name="张伟", id_number=card)
    assert answer.status_code == 200 and masked(card) in answer.text
    pages = [answer.text]
    with site.service.store.read() as conn:
        stored = [r.watch for r in conn.execute(select(email_requests))]
    assert stored and card not in "".join(stored)
    confirm(site, smtp, DAY.replace(hour=9))
    site.publish(person("p1", cardNum=card))
    rounds(site, smtp, DAY.replace(hour=10))
    (alert,) = alerts_to(smtp)
    assert "张伟" in alert.text()
    pages.append(site.client.get(links(alert)["manage"]).text)
    assert masked(card) in pages[-1]
    mails = [m.message.as_string() for m in smtp.inbox.to(ADDRESS)]
    texts = [r.text() + r.text("html") for r in smtp.inbox.to(ADDRESS)]
    assert [full_ids_in(t) for t in [*pages, *mails, *texts]] == [[]] * (
        len(pages) + len(mails) + len(texts)
    )

    bad = subscribe(site, kind="person", name="张伟", id_number="110105198001011234")
    assert bad.status_code == 400 and "身份证号码格式不正确" in bad.text
    assert "110105198001011234" not in bad.text  # never refilled


def test_the_site_buttons_lead_to_the_form_prefilled(site: Site) -> None:
    code = credit_code()
    site.publish(org("o1", cardNum=code, iname="上海某某科技有限公司"))
    entry = site.client.get("/entries/o1").text
    button = re.search(r'id="watch-entry" href="([^"]+)"', entry)
    assert button and "关注此条目" in entry
    form = site.client.get(button.group(1).replace("&amp;", "&")).text
    assert f'value="{code}"' in form and 'value="code" checked' in form

    results = site.client.get("/", params={"q": "上海某某科技有限公司", "region": "上海"}).text
    link = re.search(r'id="watch-search" href="([^"]+)"', results)
    assert link and "订阅此搜索" in results
    form = site.client.get(link.group(1).replace("&amp;", "&")).text
    assert 'value="上海某某科技有限公司"' in form and 'value="上海"' in form
    assert 'value="search" checked' in form
    english = site.client.get("/watch/subscribe?lang=en").text
    assert "Watch alerts by email" in english and "Send the confirmation mail" in english


def test_bad_input_is_answered_in_the_form_and_a_forged_post_is_refused(site: Site) -> None:
    bad = subscribe(site, kind="code", code="not-a-code", email="nobody")
    assert bad.status_code == 400 and "请填写有效的电子邮箱地址" in bad.text
    assert 'value="not-a-code"' in bad.text  # what was typed stays
    forged = site.client.post("/watch/subscribe", data={"email": ADDRESS, "kind": "code"})
    assert forged.status_code == 403
    for _ in range(5):
        assert subscribe(site, kind="code", code=credit_code()).status_code == 200
    too_many = subscribe(site, kind="code", code=credit_code())
    assert too_many.status_code == 400 and "待确认" in too_many.text


def test_the_portal_loops_send_confirmation_and_alerts_with_headers(
    tmp_path: Path, database_url: str, smtp: MailServer
) -> None:
    settings = make_settings(
        tmp_path,
        database_url,
        SHIXIN_PUBLIC_URL=PUBLIC_URL,
        SHIXIN_SMTP_URL=smtp.url,
        SHIXIN_MAIL_INTERVAL="0.1",
        SHIXIN_MAIL_FROM=FROM,
    )
    from site_support import TestClient

    from portal.app import create_app

    app = create_app(settings)
    with TestClient(app) as client:
        site = Site(app, client)
        code = credit_code()
        subscribe(site, kind="code", code=code)
        mail = smtp.inbox.wait_for(ADDRESS, "/watch/confirm/")
        path = links(mail)["confirm"]
        site.post_form(path, {}, form_page=path)
        site.publish(org("o1", cardNum=code))
        alert = smtp.inbox.wait_for(ADDRESS, "新发布")
        time.sleep(0.3)
    assert alert.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    parsed = message_from_bytes(alert.message.as_bytes(), policy=policy.SMTP)
    assert parsed["List-Unsubscribe"].startswith(f"<{PUBLIC_URL}/watch/unsubscribe/")


def test_shixin_alerts_writes_the_mails_once(
    site: Site,
    smtp: MailServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shixin import cli

    code = credit_code()
    subscribe(site, kind="code", code=code)
    confirm(site, smtp, DAY.replace(hour=9))
    site.publish(org("o1", cardNum=code))
    settings = site.app.state.settings
    monkeypatch.setenv("SHIXIN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SHIXIN_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SHIXIN_ID_HASH_KEY", KEY)
    monkeypatch.setenv("SHIXIN_PUBLIC_URL", PUBLIC_URL)
    assert cli.main(["alerts"]) == 0
    assert "写入邮件 1 封" in capsys.readouterr().out
    assert cli.main(["alerts"]) == 0  # nothing new: nothing repeated
    assert "写入邮件 0 封" in capsys.readouterr().out
