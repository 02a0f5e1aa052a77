"""The administrator's back office over HTTP (SQLite and PostgreSQL): only admins get in;
accounts are created, reset, disabled and unlocked with the password shown once; routing
files are validated, installed and picked up by every worker; hostile text stays inert."""

from __future__ import annotations

import re
from html import unescape

import yaml
from casework_site import CaseSite, TestClient, cs_fixture, post  # noqa: F401  (cs_fixture)
from site_support import running
from test_casework_support import HOSTILE_TEXT

from casework import routing_store
from casework.intake import Submission
from casework.routing import DEFAULT_FILE
from casework.tables import tickets

SECRET_LOGIN = re.compile(r'id="secret-login">([^<]+)<')
SECRET_PASSWORD = re.compile(r'id="secret-password">([^<]+)<')
HOME = "/unit/admin/"
ROUTING = "/unit/admin/routing"


def admin(cs: CaseSite) -> TestClient:
    return cs.login("admin", name="平台管理员", admin=True)  # type: ignore[arg-type]


def login(cs: CaseSite, name: str, password: str) -> TestClient | None:
    """A browser logged in with these credentials, or None when the login is refused."""
    browser = cs.browser()
    response = post(browser, "/unit/login", {"login": name, "password": password}, "/unit/login")
    return browser if response.status_code == 303 else None


def shown_once(response) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    name, password = SECRET_LOGIN.search(response.text), SECRET_PASSWORD.search(response.text)
    assert name and password
    return unescape(name.group(1)), unescape(password.group(1))


def routing_text(hotel_unit: str = "commerce", **change: object) -> str:
    """The packaged file, with hotel reports going to ``hotel_unit`` alone."""
    data = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    data.update(change)
    hotel = next(r for r in data["reports"] if r["code"] == "consumption.hotel")
    hotel["units"] = [hotel_unit]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def upload(browser: TestClient, text: str | bytes, name: str = "routing.yaml"):  # type: ignore[no-untyped-def]
    page = browser.get(ROUTING)
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert token, page.status_code
    data = text.encode() if isinstance(text, str) else text
    return browser.post(
        ROUTING,
        data={"csrf_token": token.group(1)},
        files={"file": (name, data, "application/yaml")},
        follow_redirects=False,
    )


def test_an_administrator_lands_on_the_admin_pages(cs: CaseSite) -> None:
    browser = admin(cs)  # the login answered with a redirect to /unit/admin/
    assert browser.get("/unit/login", follow_redirects=False).headers["location"] == HOME


def test_only_an_administrator_gets_the_admin_pages(cs: CaseSite) -> None:
    unit = cs.login("tourism")
    _, password = cs.unit("commerce")
    posts = {
        "/unit/admin/units": {"unit": "education"},
        "/unit/admin/staff": {"staff_unit": "tourism", "staff_login": "x1", "display_name": "甲"},
        "/unit/admin/accounts/reset": {"login": "commerce"},
        "/unit/admin/accounts/disable": {"login": "commerce"},
        "/unit/admin/accounts/unlock": {"login": "commerce"},
        "/unit/admin/units/disable": {"code": "commerce"},
        "/unit/admin/units/email": {"code": "commerce", "email": "evil@example.com"},
        ROUTING: {},
    }
    for path in (HOME, ROUTING, "/unit/admin/routing.yaml", "/unit/admin/routing.yaml?id=1"):
        response = unit.get(path, follow_redirects=False)
        assert response.status_code == 403, path
        assert "平台管理员" not in response.text
        anonymous = cs.browser().get(path, follow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["location"] == "/unit/login"
    for path, data in posts.items():
        # A unit with a valid form token (from its own queue page) is still refused.
        assert post(unit, path, data, "/unit/").status_code == 403, path
        assert post(cs.browser(), path, data, "/unit/login").status_code == 303, path
    # Nothing changed: commerce still logs in with its password, no account was added.
    assert login(cs, "commerce", password) is not None
    assert "education" not in {u.code for u in cs_units(cs)}
    assert cs.cases.routing.installed is None


def cs_units(cs: CaseSite):  # type: ignore[no-untyped-def]
    from casework.units import list_units

    return list_units(cs.cases.store)


def test_admin_creates_a_unit_account_and_the_password_is_shown_once(cs: CaseSite) -> None:
    browser = admin(cs)
    home = browser.get(HOME)
    assert home.status_code == 200 and home.headers["cache-control"] == "no-store"
    assert 'id="admin-link"' in home.text and "平台管理员" in home.text
    created = post(
        browser, "/unit/admin/units", {"unit": "commerce", "email": "c@example.gov.cn"}, HOME
    )
    name, password = shown_once(created)
    assert name == "commerce" and len(password) >= 20
    assert password not in browser.get(HOME).text  # shown once, on the answer to the post
    commerce = login(cs, name, password)
    assert commerce is not None and "商务局" in commerce.get("/unit/").text
    # A court the file does not list, with a typed password; a short one is refused.
    court = {"court_name": "北京市朝阳区人民法院", "login": "bj-chaoyang"}
    short = post(browser, "/unit/admin/units", {**court, "password": "short"}, HOME)
    assert short.status_code == 422 and "密码至少12个字符" in short.text
    assert 'value="bj-chaoyang"' in short.text  # what was typed is kept, the password is not
    assert login(cs, "bj-chaoyang", "short") is None
    typed = post(browser, "/unit/admin/units", {**court, "password": "correct horse 42"}, HOME)
    assert shown_once(typed) == ("bj-chaoyang", "correct horse 42")
    assert login(cs, "bj-chaoyang", "correct horse 42") is not None
    again = post(browser, "/unit/admin/units", {"unit": "commerce"}, HOME)
    assert again.status_code == 422 and "一单位、一账户" in again.text
    staff = post(
        browser,
        "/unit/admin/staff",
        {"staff_unit": "commerce", "staff_login": "wang.wu", "display_name": "王五"},
        HOME,
    )
    staff_login, staff_password = shown_once(staff)
    assert login(cs, staff_login, staff_password) is not None
    page = browser.get(HOME).text
    for row in ("commerce", "court:北京市朝阳区人民法院", "c@example.gov.cn", "王五"):
        assert row in page
    audit = re.search(r'id="audit".*?</table>', page, re.S)
    assert audit and audit.group(0).count("创建单位账户") == 2 and "添加工作人员" in audit.group(0)
    assert password not in page and "correct horse 42" not in page


def test_reset_password_ends_sessions_and_invalidates_the_old_one(cs: CaseSite) -> None:
    name, old = cs.unit("tourism")
    tourism = login(cs, name, old)
    assert tourism is not None
    browser = admin(cs)
    _, new = shown_once(post(browser, "/unit/admin/accounts/reset", {"login": "tourism"}, HOME))
    assert new != old
    assert tourism.get("/unit/", follow_redirects=False).headers["location"] == "/unit/login"
    assert login(cs, name, old) is None
    assert login(cs, name, new) is not None
    assert "重置密码" in browser.get(HOME).text
    missing = post(browser, "/unit/admin/accounts/reset", {"login": "nobody"}, HOME)
    assert missing.status_code == 404 and "没有登录名 nobody" in missing.text


def test_disable_blocks_login_and_enable_lets_it_back(cs: CaseSite) -> None:
    name, password = cs.unit("tourism")
    tourism = login(cs, name, password)
    assert tourism is not None
    browser = admin(cs)
    done = post(browser, "/unit/admin/accounts/disable", {"login": "tourism"}, HOME)
    assert done.status_code == 303 and done.headers["location"] == f"{HOME}?done=disable"
    assert tourism.get("/unit/", follow_redirects=False).status_code == 303  # session ended
    assert login(cs, name, password) is None
    post(browser, "/unit/admin/accounts/enable", {"login": "tourism"}, HOME)
    tourism = login(cs, name, password)
    assert tourism is not None
    # Disabling the unit ends the sessions of all its users.
    post(browser, "/unit/admin/units/disable", {"code": "tourism"}, HOME)
    assert tourism.get("/unit/", follow_redirects=False).status_code == 303
    assert login(cs, name, password) is None
    post(browser, "/unit/admin/units/enable", {"code": "tourism"}, HOME)
    assert login(cs, name, password) is not None
    # The administrator cannot lock themself out.
    own = post(browser, "/unit/admin/accounts/disable", {"login": "admin"}, HOME)
    assert own.status_code == 422 and "不能停用自己" in own.text
    assert browser.get(HOME).status_code == 200


def test_unlock_lifts_a_lockout(cs: CaseSite) -> None:
    name, password = cs.unit("tourism")
    for _ in range(5):
        assert login(cs, name, "wrong password") is None
    assert login(cs, name, password) is None  # locked: even the right password
    browser = admin(cs)
    page = browser.get(HOME).text
    assert re.search(r'data-login="tourism">.*?已锁定.*?解除锁定', page, re.S)
    assert (
        post(browser, "/unit/admin/accounts/unlock", {"login": "tourism"}, HOME).status_code == 303
    )
    assert login(cs, name, password) is not None
    assert "解除登录锁定" in browser.get(HOME).text


def test_notification_email_is_changed_and_checked(cs: CaseSite) -> None:
    cs.unit("tourism")
    browser = admin(cs)
    ok = post(
        browser, "/unit/admin/units/email", {"code": "tourism", "email": "t@example.gov.cn"}, HOME
    )
    assert ok.status_code == 303
    assert "t@example.gov.cn" in browser.get(HOME).text
    bad = post(
        browser, "/unit/admin/units/email", {"code": "tourism", "email": "not an address"}, HOME
    )
    assert bad.status_code == 422 and "电子邮箱格式不正确" in bad.text
    assert "修改通知邮箱" in browser.get(HOME).text


def test_hostile_text_in_unit_names_and_emails_is_inert(cs: CaseSite) -> None:
    browser = admin(cs)
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>&lt;b&gt;{{ 7*7 }}'
    created = post(browser, "/unit/admin/units", {"court_name": hostile, "login": "evil"}, HOME)
    assert shown_once(created)[0] == "evil"
    refused = post(
        browser,
        "/unit/admin/units/email",
        {"code": "court:" + hostile, "email": '"><script>alert(1)</script>@x.cn'},
        HOME,
    )
    assert refused.status_code == 422 and "电子邮箱格式不正确" in refused.text
    staff = post(
        browser,
        "/unit/admin/staff",
        {"staff_unit": "court:" + hostile, "staff_login": "evil2", "display_name": hostile},
        HOME,
    )
    shown_once(staff)
    for page in (created.text, refused.text, staff.text, browser.get(HOME).text):
        assert '<script>alert("x")' not in page and "<img src=x" not in page
        assert "<script>alert(1)" not in page
        assert "&lt;script&gt;alert(" in page and "&amp;lt;b&amp;gt;" in page
        assert "{{ 7*7 }}" in page and ">49<" not in page
    assert HOSTILE_TEXT  # the same kinds of text the submitter tests use


def test_a_valid_routing_file_becomes_the_one_in_force(cs: CaseSite) -> None:
    before = cs.submit()
    browser = admin(cs)
    page = browser.get(ROUTING).text
    assert "系统内置的默认文件" in page and "sb-2026.1" in page
    downloaded = browser.get("/unit/admin/routing.yaml")
    assert (
        downloaded.status_code == 200 and "attachment" in downloaded.headers["content-disposition"]
    )
    assert downloaded.text == DEFAULT_FILE.read_text(encoding="utf-8")

    text = routing_text(version="local-2")
    response = upload(browser, text)
    assert (
        response.status_code == 303 and response.headers["location"] == f"{ROUTING}?done=installed"
    )
    page = browser.get(response.headers["location"]).text
    assert "新的路由文件已生效" in page and 'id="routing-version">local-2<' in page
    assert "由 admin 于" in page
    assert browser.get("/unit/admin/routing.yaml").text == text
    # A new report is routed by the new file; the older ticket keeps its version.
    after = cs.submit()
    with cs.cases.store.read() as conn:
        rows = dict(
            conn.execute(
                tickets.select().with_only_columns(tickets.c.number, tickets.c.routing_version)
            ).all()
        )
    assert rows == {before.number: "sb-2026.1", after.number: "local-2"}
    assert cs.cases.track(after.number, after.code).unit_code == "commerce"
    assert cs.cases.track(before.number, before.code).unit_code == "tourism"
    assert "安装路由文件" in browser.get(HOME).text


def test_an_invalid_routing_file_is_refused_and_nothing_changes(cs: CaseSite) -> None:
    browser = admin(cs)
    broken = routing_text("tourisn", version="broken-1")
    response = upload(browser, broken)
    assert response.status_code == 422
    errors = re.search(r'id="routing-errors".*?</div>', response.text, re.S)
    assert errors and "未安装" in errors.group(0)
    assert "未知的单位 &#39;tourisn&#39;" in errors.group(0) and "第 " in errors.group(0)
    line = int(re.search(r"第 (\d+) 行", errors.group(0)).group(1))  # type: ignore[union-attr]
    assert "tourisn" in broken.splitlines()[line - 1]
    for bad, message in [
        (b"version: [1\n", "不是有效的 YAML"),
        ("version: 中文".encode("gb18030"), "不是 UTF-8"),
        (b"", "文件是空的"),
    ]:
        refused = upload(browser, bad)
        assert refused.status_code == 422 and message in refused.text, message
    packaged = upload(browser, routing_text(version="sb-2026.1"))  # the packaged file's
    assert packaged.status_code == 422 and "已用于内容不同的路由文件" in packaged.text
    assert upload(browser, routing_text(version="v1")).status_code == 303
    clash = upload(browser, routing_text(version="v1", jurisdiction="别处"))
    assert clash.status_code == 422 and "版本号 &#39;v1&#39; 已用于内容不同的路由文件" in clash.text
    assert cs.cases.routing.version == "v1"
    assert [v.version for v in routing_store.history(cs.cases.store)] == ["v1"]


def test_another_worker_picks_up_an_installed_file(cs: CaseSite) -> None:
    settings = cs.site.service.settings
    with running(settings) as second:
        assert second.app.state.cases.routing.version == "sb-2026.1"
        assert upload(admin(cs), routing_text(version="local-3")).status_code == 303
        # What that worker's background loop runs every few seconds:
        assert second.app.state.cases.refresh_routing() is True
        assert second.app.state.cases.routing.version == "local-3"
        assert second.app.state.cases.refresh_routing() is False
        receipt = second.app.state.cases.submit(
            Submission(
                kind="report", category="consumption.hotel", what="入住酒店", debtor_name="张伟"
            )
        )
        assert receipt.unit_code == "commerce"
    with running(settings) as third:  # a worker started later starts with it
        assert third.app.state.cases.routing.version == "local-3"


def test_rolling_back_installs_an_older_file_again(cs: CaseSite) -> None:
    browser = admin(cs)
    original = DEFAULT_FILE.read_text(encoding="utf-8")
    assert upload(browser, routing_text(version="local-4")).status_code == 303
    assert upload(browser, original).status_code == 303  # the packaged file, as a new row
    assert cs.cases.routing.version == "sb-2026.1" and cs.cases.routing.installed is not None
    history = routing_store.history(cs.cases.store)
    assert [v.version for v in history] == ["sb-2026.1", "local-4"]
    old = browser.get(f"/unit/admin/routing.yaml?id={history[1].id}")
    assert old.status_code == 200 and "local-4" in old.text
    assert browser.get("/unit/admin/routing.yaml?id=999").status_code == 404
    same = upload(browser, original)
    assert same.status_code == 422 and "已是当前生效的路由文件" in same.text
