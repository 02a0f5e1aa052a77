"""The unit back office has its own header: the 单位工作台 brand, its own pages and logging out;
no public navigation and no language switch, and it stays Chinese whatever language the
browser chose on the public pages (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

from casework_site import CaseSite, cs_fixture  # noqa: F401  (cs_fixture)

HEADER = re.compile(r"<header[^>]*>.*?</header>", re.S)
PUBLIC_NAV = ('class="site-nav"', 'id="lang-switch"', "举报投诉", "移除进度查询", "English")


def header(html: str) -> str:
    match = HEADER.search(html)
    assert match
    return match.group(0)


def links(html: str) -> list[str]:
    return re.findall(r'<a [^>]*href="([^"]+)"', html)


def assert_back_office(html: str, path: str) -> None:
    assert html.count("<header") == 1, path
    top = header(html)
    assert '<header class="site backoffice">' in top, path
    assert ">单位工作台</a>" in top, path
    for public in PUBLIC_NAV:
        assert public not in html, (path, public)


def test_the_login_page_has_the_back_office_header_only(cs: CaseSite) -> None:
    html = cs.client.get("/unit/login").text
    assert_back_office(html, "/unit/login")
    assert links(header(html)) == ["/unit/"]  # nobody is logged in: nothing else to offer


def test_a_unit_sees_its_queue_and_logout_in_the_header(cs: CaseSite) -> None:
    unit = cs.login("tourism")
    ticket = cs.submit()
    queue = unit.get("/unit/").text
    assert_back_office(queue, "/unit/")
    top = header(queue)
    assert links(top) == ["/unit/", "/unit/"]  # the brand and 事项列表
    assert '<a id="queue-link" href="/unit/" aria-current="page">事项列表</a>' in top
    assert 'id="logout"' in top and 'action="/unit/logout"' in top
    assert 'name="csrf_token"' in top
    assert "旅游局" in top and 'id="admin-link"' not in top
    page = unit.get(f"/unit/tickets/{cs.ticket_id(ticket.number)}").text
    assert_back_office(page, "ticket")
    assert 'aria-current="page"' not in header(page)


def test_an_administrator_gets_the_admin_pages_in_the_header(cs: CaseSite) -> None:
    admin = cs.login("admin", name="平台管理员", admin=True)  # type: ignore[arg-type]
    pages = ["/unit/admin/", "/unit/admin/routing", "/unit/admin/api-keys"]
    for path in pages:
        html = admin.get(path).text
        assert_back_office(html, path)
        top = header(html)
        assert links(top) == ["/unit/admin/", "/unit/", *pages]
        assert f'href="{path}" aria-current="page"' in top


def test_the_back_office_stays_chinese_after_english_public_pages(cs: CaseSite) -> None:
    unit = cs.login("tourism")
    assert '<html lang="en">' in unit.get("/?lang=en").text  # the choice is remembered
    for path in ("/unit/", "/unit/login?lang=en"):
        html = unit.get(path).text
        assert '<html lang="zh-CN">' in html, path
        assert "跳到正文" in html and "Skip to" not in html, path
    assert '<html lang="en">' in unit.get("/stats").text  # the public pages keep English
