"""API keys (issue 15, item 4), as their users meet them: asked for on /api/keys, confirmed
through a real SMTP server (aiosmtpd, tests/smtpserver.py), shown once and kept only as a
hash; keyed requests get their own, higher budget while anonymous ones keep theirs; an
unknown or revoked key is a 401; usage is counted per Beijing day (an injected clock on a
fixed day far from today); the owner and the administrator see it and can revoke.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from casework_site import CaseSite, TestClient, case_site, post
from smtpserver import MailServer, Received, smtp_fixture  # noqa: F401  (smtp_fixture)
from sqlalchemy import MetaData, select

from api_keys.service import ApiKeys
from casework.mail import MailSender
from core.china_time import CST

PUBLIC_URL = "https://shixin.example.cn"
FROM = "失信被执行人名单公开查询 <noreply@shixin.example.cn>"
ADDRESS = "data-desk@example-news.cn"
DAY = datetime(2031, 5, 6, 10, tzinfo=CST)  # the clock of every round, years from today
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/api/keys/[a-z]+/[A-Za-z0-9._-]+)")
SHOWN_KEY = re.compile(r'id="api-key">(sx_[A-Za-z0-9_-]+)<')
SEARCH = "/api/v1/entries?q=%E5%BC%A0%E4%BC%9F"  # 张伟


@pytest.fixture
def cs(tmp_path: Path, database_url: str) -> Iterator[CaseSite]:
    limits = {"SHIXIN_RATE_LIMIT_API": "3/minute", "SHIXIN_RATE_LIMIT_API_KEYED": "6/minute"}
    with case_site(tmp_path, database_url, SHIXIN_PUBLIC_URL=PUBLIC_URL, **limits) as site:
        site.site.app.state.api_keys.clock = lambda: DAY
        yield site


def keys(cs: CaseSite) -> ApiKeys:
    return cs.site.app.state.api_keys


def deliver(cs: CaseSite, smtp: MailServer) -> None:
    mailer = MailSender(
        cs.site.service.store,
        mail_from=FROM,
        smtp=smtp.target(),
        public_url=PUBLIC_URL,
        clock=lambda: DAY,
    )
    while mailer.deliver_pending().claimed:
        pass


def links(mail: Received) -> dict[str, str]:
    return {path.split("/")[3]: path for path in LINK.findall(mail.text())}


def ask(cs: CaseSite, smtp: MailServer, organization: str = "财经日报数据部") -> str:
    """Ask for a key on the site; the confirmation link's path from the mail."""
    fields = {"organization": organization, "email": ADDRESS, "purpose": "核对报道中的名单条目"}
    answer = post(cs.client, "/api/keys", fields, "/api/keys")
    assert answer.status_code == 200 and "请查收确认邮件" in answer.text
    deliver(cs, smtp)
    mail = smtp.inbox.to(ADDRESS)[-1]
    assert organization in mail.text()
    return links(mail)["confirm"]


def issue(cs: CaseSite, smtp: MailServer, organization: str = "财经日报数据部") -> tuple[str, Any]:
    """A key issued the way its owner gets it, and the page that showed it."""
    path = ask(cs, smtp, organization)
    page = cs.client.get(path)
    assert page.status_code == 200 and "签发密钥" in page.text
    return issue_from(cs, path)


def manage_path(cs: CaseSite, smtp: MailServer) -> str:
    deliver(cs, smtp)
    (mail,) = [m for m in smtp.inbox.to(ADDRESS) if "manage" in links(m)][-1:]
    return links(mail)["manage"]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def everything_stored(cs: CaseSite) -> str:
    """Every row of every table, as text."""
    store = cs.site.service.store
    with store.read() as conn:
        meta = MetaData()
        meta.reflect(conn)
        return "\n".join(
            repr(row) for table in meta.sorted_tables for row in conn.execute(select(table))
        )


def test_a_key_is_issued_once_through_the_mailed_link_and_never_stored_in_the_clear(
    cs: CaseSite, smtp: MailServer, capsys: pytest.CaptureFixture[str]
) -> None:
    form = cs.client.get("/api/keys")
    assert form.status_code == 200 and 'id="key-form"' in form.text
    bad = post(cs.client, "/api/keys", {"organization": "甲", "email": "x"}, "/api/keys")
    assert bad.status_code == 400 and "请填写有效的电子邮箱地址" in bad.text
    assert smtp.inbox.to(ADDRESS) == []

    path = ask(cs, smtp)
    key, shown = issue_from(cs, path)
    assert re.fullmatch(r"sx_[A-Za-z0-9_-]{43}", key)
    assert shown.headers["cache-control"] == "no-store"
    again = post(cs.client, path, {}, "/api/keys")  # the used link has no form any more
    assert again.status_code == 410 and "链接无效或已使用" in again.text and key not in again.text

    stored = everything_stored(cs)
    assert key not in stored and key[3:] not in stored
    # The issuing mail carries the manage link and the key's first characters, not the key.
    deliver(cs, smtp)
    issued = [m for m in smtp.inbox.to(ADDRESS) if "manage" in links(m)]
    assert len(issued) == 1 and key[:8] in issued[0].text()
    assert key not in issued[0].text() and key not in issued[0].text("html")

    assert cs.client.get(SEARCH, headers=bearer(key)).status_code == 200
    assert cs.client.get(SEARCH, headers={"X-API-Key": key}).status_code == 200
    logged = capsys.readouterr()
    assert '"path": "/api/v1/entries"' in logged.out or "/api/v1/entries" in logged.out
    assert key not in logged.out and key not in logged.err


def issue_from(cs: CaseSite, path: str) -> tuple[str, Any]:
    shown = post(cs.client, path, {}, path)
    match = SHOWN_KEY.search(shown.text)
    assert shown.status_code == 200 and match, shown.text
    return match.group(1), shown


def test_keyed_requests_get_the_higher_budget_and_anonymous_ones_keep_theirs(
    cs: CaseSite, smtp: MailServer
) -> None:
    key, _ = issue(cs, smtp)
    for _ in range(3):
        assert cs.client.get(SEARCH).status_code == 200
    assert cs.client.get(SEARCH).status_code == 429  # the address's 3/minute is spent

    # The same address with a key: counted for the key, six a minute.
    statuses = [cs.client.get(SEARCH, headers=bearer(key)).status_code for _ in range(6)]
    assert statuses == [200] * 6
    spent = cs.client.get(SEARCH, headers={"X-API-Key": key})  # one budget for both headers
    assert spent.status_code == 429 and spent.json()["error"]["code"] == "rate_limited"
    assert cs.client.get(SEARCH).status_code == 429  # still the address's own


def test_an_unknown_or_revoked_key_is_refused_with_401_not_served_anonymously(
    cs: CaseSite, smtp: MailServer
) -> None:
    made_up = "sx_" + "A" * 43
    refused = cs.client.get(SEARCH, headers=bearer(made_up))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"
    assert "API 密钥无效或已被吊销" in refused.json()["error"]["message"]
    assert refused.headers["www-authenticate"].startswith("Bearer")
    english = cs.client.get(SEARCH, headers={"X-API-Key": "nonsense", "Accept-Language": "en"})
    # Another bearer credential (an ingest token, shx_…) is not taken for an API key.
    assert cs.client.get(SEARCH, headers=bearer("shx_" + "A" * 43)).status_code == 200
    assert english.status_code == 401 and "unknown or revoked" in english.json()["error"]["message"]

    key, _ = issue(cs, smtp)
    assert cs.client.get(SEARCH, headers=bearer(key)).status_code == 200
    path = manage_path(cs, smtp)
    page = cs.client.get(path)
    assert page.status_code == 200 and 'id="key-revoke-form"' in page.text and key not in page.text
    done = post(cs.client, path + "/revoke", {}, path)
    assert done.status_code == 303
    assert "已吊销" in cs.client.get(done.headers["location"]).text
    assert cs.client.get(SEARCH, headers=bearer(key)).status_code == 401
    assert cs.client.get(SEARCH).status_code == 200  # without a key: anonymous, as before
    assert cs.client.get(path[:-4] + "0000").status_code == 404  # a forged manage token


def test_usage_is_counted_per_beijing_day_and_shown_to_the_owner(
    cs: CaseSite, smtp: MailServer
) -> None:
    key, _ = issue(cs, smtp)
    path = manage_path(cs, smtp)
    api_keys = keys(cs)
    api_keys.clock = lambda: datetime(2031, 5, 6, 23, 59, tzinfo=CST)
    for _ in range(2):
        assert cs.client.get(SEARCH, headers=bearer(key)).status_code == 200
    api_keys.clock = lambda: datetime(2031, 5, 7, 0, 1, tzinfo=CST)  # 16:01 UTC: a new day
    assert cs.client.get(SEARCH, headers=bearer(key)).status_code == 200

    page = cs.client.get(path).text
    assert "<td>2031-05-07</td><td>1</td>" in page
    assert "<td>2031-05-06</td><td>2</td>" in page
    (view,) = api_keys.all()
    assert (view.today, view.total) == (1, 3)


def test_the_administrator_lists_every_key_with_usage_and_revokes_one(
    cs: CaseSite, smtp: MailServer
) -> None:
    key, _ = issue(cs, smtp, organization="法治周刊")
    other, _ = issue(cs, smtp, organization="某转载网站")
    assert cs.client.get(SEARCH, headers=bearer(key)).status_code == 200

    unit = cs.login("commerce")
    assert unit.get("/unit/admin/api-keys").status_code == 403
    assert cs.browser().get("/unit/admin/api-keys", follow_redirects=False).status_code == 303

    browser: TestClient = cs.login("admin", name="平台管理员", admin=True)  # type: ignore[arg-type]
    page = browser.get("/unit/admin/api-keys")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "法治周刊" in page.text and "某转载网站" in page.text and ADDRESS in page.text
    assert key[:8] in page.text and key not in page.text and other not in page.text
    (first,) = [k for k in keys(cs).all() if k.organization == "法治周刊"]
    assert f'<tr id="key-{first.id}">' in page.text and first.today == 1

    reason = {"reason": "转载未标注来源"}
    done = post(browser, f"/unit/admin/api-keys/{first.id}/revoke", reason, "/unit/admin/api-keys")
    assert done.status_code == 303
    assert "密钥已吊销" in browser.get(done.headers["location"]).text
    assert cs.client.get(SEARCH, headers=bearer(key)).status_code == 401
    assert cs.client.get(SEARCH, headers=bearer(other)).status_code == 200


def test_every_revocation_says_who_revoked_the_key_when_and_why(
    cs: CaseSite, smtp: MailServer
) -> None:
    key, _ = issue(cs, smtp, organization="法治周刊")
    (first,) = keys(cs).all()
    owned_key, _ = issue(cs, smtp, organization="某转载网站")
    owner_page = manage_path(cs, smtp)
    admin: TestClient = cs.login("admin", name="平台管理员", admin=True)  # type: ignore[arg-type]
    page = "/unit/admin/api-keys"
    refused = post(admin, f"{page}/{first.id}/revoke", {"reason": "  "}, page)
    assert refused.status_code == 400 and "请填写吊销原因" in refused.text
    assert cs.client.get(SEARCH, headers=bearer(key)).status_code == 200  # still live

    keys(cs).clock = lambda: DAY + timedelta(hours=2)  # 12:00 in Beijing
    done = post(admin, f"{page}/{first.id}/revoke", {"reason": "多次违反转载条款"}, page)
    assert done.status_code == 303
    shown = admin.get(page).text
    record = re.search(rf'id="revocation-{first.id}">(.*?)</p>', shown, re.S)
    assert record is not None
    assert "2031-05-06 12:00" in record[1] and "admin" in record[1]
    assert "多次违反转载条款" in record[1]
    home = admin.get("/unit/admin").text  # the back office's own audit trail
    assert "吊销 API 密钥" in home and f"api_key:{first.id}" in home

    post(cs.client, owner_page + "/revoke", {"reason": "不再使用"}, owner_page)
    (second,) = [k for k in keys(cs).all() if k.organization == "某转载网站"]
    record = re.search(rf'id="revocation-{second.id}">(.*?)</p>', admin.get(page).text, re.S)
    assert record is not None and "密钥持有者" in record[1] and "不再使用" in record[1]
    assert cs.client.get(SEARCH, headers=bearer(owned_key)).status_code == 401
    # Revoking a revoked key again changes nothing and writes no second record.
    post(admin, f"{page}/{first.id}/revoke", {"reason": "再次"}, page)
    assert "再次" not in admin.get(page).text and "再次" not in admin.get("/unit/admin").text


def test_a_confirmation_link_expires(cs: CaseSite, smtp: MailServer) -> None:
    path = ask(cs, smtp)
    keys(cs).clock = lambda: DAY + timedelta(hours=48, seconds=1)
    assert cs.client.get(path).status_code == 410
    assert "链接已过期" in post(cs.client, path, {}, "/api/keys").text


def test_the_api_document_names_the_key_schemes_and_the_401(cs: CaseSite) -> None:
    doc = cs.client.get("/api/v1/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert (
        schemes["apiKey"]["scheme"] == "bearer" and schemes["apiKeyHeader"]["name"] == "X-API-Key"
    )
    assert "每分钟 6 次" in schemes["apiKey"]["description"]
    assert {} in doc["security"]  # optional: anonymous requests stay welcome
    answer = doc["paths"]["/api/v1/entries"]["get"]["responses"]["401"]
    invalid = doc["components"]["responses"][answer["$ref"].rpartition("/")[2]]
    example = invalid["content"]["application/json"]["examples"]["invalidApiKey"]["value"]
    refused = cs.client.get(SEARCH, headers={"X-API-Key": "sx_nope"}).json()
    assert refused == example


def test_a_keyed_match_request_draws_on_the_keys_budget(cs: CaseSite, smtp: MailServer) -> None:
    key, _ = issue(cs, smtp)
    queries = [{"name": f"张伟{i}"} for i in range(20)]  # 5 requests' worth
    assert cs.client.post("/api/v1/match", json={"queries": queries}).status_code == 429
    keyed = cs.client.post("/api/v1/match", json={"queries": queries}, headers=bearer(key))
    assert keyed.status_code == 200
    assert cs.client.get(SEARCH, headers=bearer(key)).status_code == 200  # the 6th
    assert cs.client.get(SEARCH, headers=bearer(key)).status_code == 429
