"""A portal on demo data says so everywhere: a banner on every kind of page (public, error,
casework, back office, /api) and ``X-Shixin-Demo: 1`` on every response, JSON included; a
portal on real data shows neither (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from casework_site import CaseSite, case_site, post
from support import make_settings

from core.settings import DEMO_FILE_NAME
from portal.demo import HEADER

BANNER = re.compile(
    r'<div class="demo-banner" id="demo-banner" role="note" aria-labelledby="demo-banner-title">'
    r'\s*<p><strong id="demo-banner-title">演示数据，非真实名单</strong></p>'
)
# One page of each kind a visitor or a unit can meet (the 410 is p2, shielded).
PUBLIC_PAGES = {
    "/": 200,
    "/?q=张伟": 200,
    "/entries/p1": 200,
    "/entries/p2": 410,
    "/entries/nobody": 404,
    "/nowhere": 404,
    "/status": 200,
    "/stats": 200,
    "/stats/units": 200,
    "/about": 200,
    "/api": 200,
    "/reports/new": 200,
    "/complaints/new": 200,
    "/track": 200,
    "/receipt": 200,
    "/unit/login": 200,
}
BACK_OFFICE_PAGES = ("/unit/", "/unit/admin/", "/unit/admin/routing")
API_CALLS = ("/api/v1/entries?q=张伟", "/api/v1/entries/p1", "/api/v1/entries/nobody", "/healthz")


@pytest.fixture
def demo(tmp_path: Path, database_url: str) -> Iterator[CaseSite]:
    with case_site(tmp_path, database_url, SHIXIN_DEMO="1") as site:
        yield site


@pytest.fixture
def real(tmp_path: Path, database_url: str) -> Iterator[CaseSite]:
    with case_site(tmp_path, database_url) as site:
        yield site


def pages(cs: CaseSite) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(what, HTML, headers) of every kind of page, the error pages and the back office."""
    for path, status in PUBLIC_PAGES.items():
        response = cs.client.get(path)
        assert response.status_code == status, path
        yield path, response.text, dict(response.headers)
    forged = cs.client.post("/status", data={"caseCode": "x"})  # no form token
    assert forged.status_code == 403
    yield "403", forged.text, dict(forged.headers)
    wrong_method = cs.client.delete("/stats")
    assert wrong_method.status_code == 405
    yield "405", wrong_method.text, dict(wrong_method.headers)
    too_big = cs.client.post("/status", data={"caseCode": "x" * 2_000_000})
    assert too_big.status_code == 413
    yield "413", too_big.text, dict(too_big.headers)
    unit = cs.login("admin", name="平台管理员", admin=True)  # type: ignore[arg-type]
    for path in BACK_OFFICE_PAGES:
        response = unit.get(path)
        assert response.status_code == 200, path
        yield path, response.text, dict(response.headers)
    ticket = cs.submit()
    staff = cs.login("tourism")
    response = staff.get(f"/unit/tickets/{cs.ticket_id(ticket.number)}")
    assert response.status_code == 200
    yield "ticket", response.text, dict(response.headers)


def test_every_kind_of_page_shows_the_demo_banner(demo: CaseSite) -> None:
    seen = 0
    for what, html, headers in pages(demo):
        assert len(BANNER.findall(html)) == 1, what
        assert "姓名、企业名称、证件号码和案件都是虚构的" in html, what
        assert headers[HEADER.lower()] == "1", what
        seen += 1
    assert seen == len(PUBLIC_PAGES) + 3 + len(BACK_OFFICE_PAGES) + 1


def test_the_banner_comes_first_and_explains_itself(demo: CaseSite) -> None:
    html = demo.client.get("/").text
    body = html[html.index("<body>") :]
    # After the skip link, before the header: the first thing read and seen.
    assert body.index('class="skip-link"') < body.index('id="demo-banner"') < body.index("<header")
    assert '<a href="/about#data-source">了解更多</a>' in html
    about = demo.client.get("/about").text
    assert 'id="data-source"' in about and "程序生成的" in about


def test_the_banner_speaks_english_on_english_pages(demo: CaseSite) -> None:
    html = demo.client.get("/?lang=en").text
    assert '<strong id="demo-banner-title">Demo data — not the real list</strong>' in html
    assert "names, company names, ID numbers and cases are invented" in html
    assert "演示数据" not in html


def test_api_answers_carry_the_demo_header_and_unchanged_bodies(demo: CaseSite) -> None:
    for path in API_CALLS:
        response = demo.client.get(path)
        assert response.headers[HEADER] == "1", path
        assert "demo" not in response.json(), path  # the documented schemas stay as they are
    static = demo.client.get("/static/site.css")
    assert static.headers[HEADER] == "1"
    posted = post(demo.client, "/search", {"cardNum": "110105"}, "/")
    assert posted.headers[HEADER] == "1"
    # The API document tells clients about the header, on a demo portal only.
    described = demo.client.get("/api/v1/openapi.json").json()["info"]["description"]
    assert "X-Shixin-Demo: 1" in described


def test_a_portal_on_real_data_shows_no_banner_and_no_header(real: CaseSite) -> None:
    for what, html, headers in pages(real):
        assert "demo-banner" not in html and "演示数据" not in html, what
        assert HEADER.lower() not in headers, what
    for path in API_CALLS:
        assert HEADER not in real.client.get(path).headers, path
    assert HEADER not in real.client.get("/api/v1/openapi.json").json()["info"]["description"]


def test_the_demo_file_in_the_data_directory_implies_demo(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{tmp_path}/shixin.sqlite3"
    assert not make_settings(tmp_path, url).demo
    (data / DEMO_FILE_NAME).write_text("", encoding="utf-8")
    assert make_settings(tmp_path, url).demo
    assert not make_settings(tmp_path, url, SHIXIN_DEMO="0").demo  # an explicit 0 wins
