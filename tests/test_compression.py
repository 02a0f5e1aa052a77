"""Pages arrive fast on a phone network: text is sent compressed, static files under
content-hashed names are cached for a year, and a changed file gets a new name so a
deploy never serves a stale one. Secrets beside what a visitor typed are never compressed
(the BREACH attack), and the forms' CSRF token differs on every page."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from site_support import Site, running
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient
from support import namesakes

from core.settings import Settings
from portal.static_assets import FOREVER, RECHECK_SECONDS, REVALIDATE, StaticAssets

GZIP = {"Accept-Encoding": "gzip"}
STYLESHEET = re.compile(r'<link rel="stylesheet" href="(/static/site\.[0-9a-f]{10}\.css)">')


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    with running(settings) as s:
        s.publish(*namesakes(30))
        yield s


def raw_get(site: Site, path: str, **headers: str):  # type: ignore[no-untyped-def]
    """The response as it travelled: httpx would undo the compression for us."""
    with site.client.stream("GET", path, headers=headers) as response:
        body = b"".join(response.iter_raw())
    return response, body


def test_pages_json_and_stylesheets_go_out_compressed(site: Site) -> None:
    for path in ("/?q=张伟", "/api/v1/entries?q=张伟", "/api", "/static/site.css"):
        response, body = raw_get(site, path, **GZIP)
        assert response.status_code == 200, path
        assert response.headers["Content-Encoding"] == "gzip", path
        assert "Accept-Encoding" in response.headers["Vary"], path
        plain = gzip.decompress(body)
        assert len(body) < len(plain) / 2, path
    # A client that takes no compression gets the same page plain.
    response, body = raw_get(site, "/?q=张伟", **{"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in response.headers and "张伟".encode() in body


def test_posted_answers_and_the_back_office_are_never_compressed(site: Site) -> None:
    token = site.token("/status")
    answer = site.client.post(
        "/status",
        data={"csrf_token": token, "caseCode": "(2024)京0105执1号", "name": "张伟", "cardNum": ""},
        headers=GZIP,
    )
    assert answer.status_code in (200, 400) and "Content-Encoding" not in answer.headers
    login, _ = raw_get(site, "/unit/login", **GZIP)
    assert login.status_code == 200 and "Content-Encoding" not in login.headers


def test_the_csrf_token_differs_on_every_page_and_each_one_works(site: Site) -> None:
    first, second = site.token("/status"), site.token("/status")
    assert first != second and len(first) == len(second) == 128
    for token in (first, second):
        response = site.client.post(
            "/status", data={"csrf_token": token, "caseCode": "x", "name": "张伟", "cardNum": ""}
        )
        assert response.status_code != 403, token
    forged = site.client.post(
        "/status", data={"csrf_token": first[:64] * 2, "caseCode": "x", "name": "张伟"}
    )
    assert forged.status_code == 403


def test_static_files_carry_hashed_names_cached_for_a_year(site: Site) -> None:
    page = site.client.get("/").text
    (address,) = STYLESHEET.findall(page)
    hashed = site.client.get(address)
    assert hashed.status_code == 200 and hashed.headers["Cache-Control"] == FOREVER
    assert "@media print" in hashed.text
    plain = site.client.get("/static/site.css")
    assert plain.text == hashed.text and plain.headers["Cache-Control"] == REVALIDATE
    unchanged = site.client.get(
        "/static/site.css", headers={"If-None-Match": plain.headers["ETag"]}
    )
    assert unchanged.status_code == 304
    # A page from before a deploy names an old digest: the current file, never "forever".
    stale = site.client.get("/static/site.0123456789.css")
    assert stale.status_code == 200 and stale.headers["Cache-Control"] == REVALIDATE
    assert site.client.get("/static/nothing.0123456789.css").status_code == 404


def test_the_form_pages_name_the_widgets_files_by_their_hashed_addresses(site: Site) -> None:
    page = site.client.get("/reports/new").text
    named = re.findall(r'(?:src|href|data-\w+)="(/static/vendor/altcha/[^"]+)"', page)
    assert len(named) == 6, named
    for address in named:
        assert re.search(r"\.[0-9a-f]{10}\.(?:js|css)$", address), address
        response = site.client.get(address)
        assert response.status_code == 200 and response.headers["Cache-Control"] == FOREVER


def test_a_changed_file_gets_a_new_name(tmp_path: Path) -> None:
    (tmp_path / "site.css").write_text("body { color: black }")
    (tmp_path / "v1.2.3.js").write_text("// a name with dots of its own")
    now = [100.0]
    assets = StaticAssets(tmp_path, clock=lambda: now[0])
    before = assets.url("site.css")
    assert re.fullmatch(r"/static/site\.[0-9a-f]{10}\.css", before)
    assert assets.url("site.css") == before  # stable while the file is
    (tmp_path / "site.css").write_text("body { color: navy }")
    now[0] += RECHECK_SECONDS / 2  # pages rendered meanwhile still name the old address
    assert assets.url("site.css") == before
    # ... but the old address no longer carries a year's promise: its digits are not the file's.
    with TestClient(Starlette(routes=[Mount("/static", assets)])) as client:
        served = client.get(before)
    assert served.text == "body { color: navy }"
    assert served.headers["Cache-Control"] == REVALIDATE
    now[0] += RECHECK_SECONDS
    after = assets.url("site.css")
    assert after != before and after.startswith("/static/site.")
    assert re.fullmatch(r"/static/v1\.2\.3\.[0-9a-f]{10}\.js", assets.url("v1.2.3.js"))
    assert assets.url("missing.css") == "/static/missing.css"
