"""The receipt after a submission: Post/Redirect/Get to /receipt, a refresh shows it again
and files nothing, a re-posted form (double click) files no second ticket, and the Telegram
link for notifications (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from casework_site import (  # noqa: F401  (cs_fixture)
    CODE_RE,
    NUMBER_RE,
    ONCE_KEY_RE,
    URL_ATTR,
    CaseSite,
    TestClient,
    case_site,
    cs_fixture,
    post_intake,
)
from site_support import TOKEN_RE
from sqlalchemy import func, select

from casework.tables import telegram_links, tickets
from casework.telegram_links import token_hash

BOT = "shixin_test_bot"


def ticket_count(cs: CaseSite) -> int:
    with cs.cases.store.read() as conn:
        return conn.execute(select(func.count()).select_from(tickets)).scalar_one()


def test_the_receipt_survives_a_refresh_and_the_code_stays_out_of_urls_and_logs(
    cs: CaseSite, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    posted = post_intake(
        cs.client,
        "/reports/new",
        {"category": "consumption.hotel", "entry_id": "p1", "what": "入住五星级酒店"},
    )
    assert posted.status_code == 303 and posted.headers["location"] == "/receipt"
    cookie = posted.headers["set-cookie"]
    assert cookie.startswith("shixin_receipt=")
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered
    assert "path=/receipt" in lowered and "max-age=1800" in lowered
    assert "secure" not in lowered  # plain http here; see the https test below

    first = cs.client.get("/receipt")
    again = cs.client.get("/receipt")  # the browser's refresh: a GET, nothing re-posted
    for page in (first, again):
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        assert "只在此显示一次" in page.text and "旅游局" in page.text
    number = NUMBER_RE.search(again.text)
    code = CODE_RE.search(again.text)
    assert number and code and number.group(1).startswith("JB-")
    assert ticket_count(cs) == 1
    assert all(code.group(1) not in url for url in URL_ATTR.findall(again.text))
    assert cs.cases.track(number.group(1), code.group(1)) is not None

    out = capsys.readouterr()
    logged = out.out + out.err + "\n".join(r.getMessage() for r in caplog.records)
    assert "/receipt" in logged  # the access log ran, and saw no code
    assert code.group(1) not in logged and code.group(1).replace("-", "") not in logged


def test_without_the_cookie_the_receipt_page_points_to_track(cs: CaseSite) -> None:
    receipt = cs.submit()
    for browser_cookie in (None, "forged.0123", receipt_cookie_tampered(cs)):
        other = cs.browser()
        if browser_cookie:
            other.cookies.set("shixin_receipt", browser_cookie, path="/receipt")
        page = other.get("/receipt")
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        assert 'id="no-receipt"' in page.text and "回执只在提交投诉或举报后立即显示" in page.text
        assert 'href="/track"' in page.text
        assert receipt.number not in page.text and receipt.code not in page.text


def receipt_cookie_tampered(cs: CaseSite) -> str:
    """A genuine receipt cookie with its payload changed and the old signature."""
    browser = cs.browser()
    cs.submit(client=browser)
    value = browser.cookies.get("shixin_receipt", path="/receipt")
    assert value
    payload, signature = value.split(".")
    return ("e" if payload[0] != "e" else "f") + payload[1:] + "." + signature


def test_a_reposted_form_files_no_second_ticket(cs: CaseSite) -> None:
    page = cs.client.get("/complaints/new?entry=p1").text
    token, key = TOKEN_RE.search(page), ONCE_KEY_RE.search(page)
    assert token and key and len(key.group(1)) >= 16
    data = {
        "csrf_token": token.group(1),
        "once_key": key.group(1),
        "category": "inaccurate-info",
        "entry_id": "p1",
        "what": "年龄有误",
    }
    empty_file = [("evidence", ("", b"", "application/octet-stream"))]
    first = cs.client.post("/complaints/new", data=data, files=empty_file, follow_redirects=False)
    second = cs.client.post("/complaints/new", data=data, files=empty_file, follow_redirects=False)
    # A proof-of-work solution is spent by the first post; the double click still lands
    # on the receipt, not on an error.
    third = cs.client.post(
        "/complaints/new",
        data={**data, "altcha": "spent-or-garbage"},
        files=empty_file,
        follow_redirects=False,
    )
    assert first.status_code == second.status_code == third.status_code == 303
    assert second.headers["location"] == third.headers["location"] == "/receipt"
    assert ticket_count(cs) == 1
    # The browser that double-clicked still sees its one receipt.
    shown = cs.client.get("/receipt").text
    assert NUMBER_RE.search(shown) and CODE_RE.search(shown)
    # Another form (a new key) files a new ticket.
    cs.submit("complaint")
    assert ticket_count(cs) == 2
    # A key that is not ours is refused as an expired form, and nothing is filed.
    bad = cs.client.post(
        "/complaints/new",
        data={**data, "once_key": "<x>"},
        files=empty_file,
        follow_redirects=False,
    )
    assert bad.status_code == 422 and "表单已失效" in bad.text and ticket_count(cs) == 2


def test_the_receipt_cookie_is_secure_over_https(tmp_path: Path, database_url: str) -> None:
    with case_site(tmp_path, database_url, SHIXIN_HTTPS="1") as cs:
        browser = TestClient(cs.site.app, base_url="https://testserver")
        data = {"category": "consumption.hotel", "entry_id": "p1", "what": "x"}
        posted = post_intake(browser, "/reports/new", data)
        assert posted.status_code == 303
        receipt_cookie = [
            c for c in posted.headers.get_list("set-cookie") if c.startswith("shixin_receipt=")
        ]
        assert len(receipt_cookie) == 1 and "secure" in receipt_cookie[0].lower()
        assert 'id="access-code"' in browser.get("/receipt").text


@pytest.fixture(name="tg")
def tg_fixture(tmp_path: Path, database_url: str) -> Iterator[CaseSite]:
    with case_site(tmp_path, database_url, SHIXIN_TELEGRAM_BOT_USERNAME=BOT) as site:
        yield site


def test_a_telegram_link_on_the_receipt_ties_the_ticket_to_a_chat(tg: CaseSite) -> None:
    form = tg.client.get("/reports/new").text
    assert 'name="telegram_link" type="checkbox"' in form and "通过 Telegram 接收通知" in form
    assert 'name="telegram"' not in form  # nobody types a chat id any more

    receipt = tg.submit(telegram_link="1")
    page = receipt.response.text
    link = [u for u in URL_ATTR.findall(page) if u.startswith("https://t.me/")]
    assert len(link) == 1 and link[0].startswith(f"https://t.me/{BOT}?start=")
    assert "7天内" in page and 'id="telegram-link"' in page
    token = link[0].split("start=", 1)[1]
    with tg.cases.store.read() as conn:
        row = conn.execute(
            select(telegram_links.c.ticket_id, telegram_links.c.used_at).where(
                telegram_links.c.token_hash == token_hash(token)
            )
        ).one()
    assert row.ticket_id == tg.ticket_id(receipt.number) and row.used_at is None
    # Still there after a refresh; and no link for a submitter who did not ask for one.
    assert link[0] in tg.client.get("/receipt").text
    plain = tg.submit(client=tg.browser())
    assert "https://t.me/" not in plain.response.text


def test_without_a_bot_there_is_no_telegram_choice(cs: CaseSite) -> None:
    assert 'name="telegram_link"' not in cs.client.get("/reports/new").text
    receipt = cs.submit(telegram_link="1")  # a forged tick is ignored
    assert "https://t.me/" not in receipt.response.text
    with cs.cases.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(telegram_links)).scalar_one() == 0
