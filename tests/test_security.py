"""Security as a browser and an attacker see it: headers on every kind of response, form
size limits, error pages that give nothing away, and cookie defaults."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from support import make_settings

from portal.app import ROOT, create_app
from portal.security import cookie_options

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

SECRET = "db-password-hunter2-in-an-exception"


async def form_echo(request: Request) -> PlainTextResponse:
    form = await request.form()
    return PlainTextResponse(f"got {len(str(form.get('text', '')))} characters")


async def broken(request: Request) -> Response:
    raise RuntimeError(SECRET)


async def sets_cookie(request: Request) -> Response:
    response = PlainTextResponse("ok")
    response.set_cookie("pref", "zh", **cookie_options(request.app.settings))
    return response


@contextmanager
def portal(tmp_path: Path, **env: str) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path}/shixin.sqlite3", **env)
    app = create_app(settings, background=False)
    # Stand-ins for routes other issues add: a form, a bug, a cookie.
    app.router.routes[:0] = [
        Route("/test-form", form_echo, methods=["POST"]),
        Route("/test-broken", broken),
        Route("/api/v1/test-broken", broken),
        Route("/test-cookie", sets_cookie),
    ]
    with TestClient(app, raise_server_exceptions=False) as http:
        yield http


def assert_secure_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] in ("no-referrer", "strict-origin-when-cross-origin")
    assert "camera=()" in headers["permissions-policy"]


@pytest.mark.parametrize(
    "path",
    ["/", "/?q=张伟", "/entries/nope", "/api/v1/entries?q=x", "/static/site.css", "/nowhere"],
)
def test_every_kind_of_response_carries_the_security_headers(tmp_path: Path, path: str) -> None:
    with portal(tmp_path) as http:
        response = http.get(path)
        assert response.status_code in (200, 404)
        assert_secure_headers(response)
        assert "strict-transport-security" not in response.headers  # plain http by default


def test_hsts_only_when_served_over_https(tmp_path: Path) -> None:
    with portal(tmp_path, SHIXIN_HTTPS="1") as http:
        assert http.get("/").headers["strict-transport-security"].startswith("max-age=")
    with portal(tmp_path) as http:
        assert "strict-transport-security" in http.get("https://testserver/").headers


def test_templates_have_no_inline_script_style_or_handlers() -> None:
    """The CSP forbids inline code: anything inline would silently not run in browsers."""
    offenders = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{template.name}: inline <script>")
        if re.search(r"<style[\s>]", text) or re.search(r"\sstyle\s*=", text):
            offenders.append(f"{template.name}: inline style")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{template.name}: inline event handler")
        if re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text):
            offenders.append(f"{template.name}: external asset")
    assert offenders == []


def test_a_form_post_over_the_size_limit_gets_a_chinese_413_page(tmp_path: Path) -> None:
    with portal(tmp_path, SHIXIN_FORM_MAX_BYTES="2048") as http:
        assert http.post("/test-form", data={"text": "字" * 100}).text == "got 100 characters"
        response = http.post("/test-form", data={"text": "字" * 5000})
        assert response.status_code == 413
        assert "提交内容过大" in response.text and "2 KB" in response.text
        assert_secure_headers(response)


def test_a_streamed_form_without_length_is_cut_off_too(tmp_path: Path) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"text="
        for _ in range(10):
            yield b"x" * 1024

    with portal(tmp_path, SHIXIN_FORM_MAX_BYTES="4096") as http:
        response = http.post(
            "/test-form",
            content=chunks(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 413
        assert "提交内容过大" in response.text


def test_the_ingest_api_keeps_its_own_larger_limit(tmp_path: Path) -> None:
    with portal(tmp_path, SHIXIN_FORM_MAX_BYTES="1024") as http:
        response = http.post(
            "/api/v1/ingest",
            content=b'{"op": "publish"}\n' * 1000,
            headers={"content-type": "application/x-ndjson"},
        )
        assert response.status_code == 401  # judged on its token, not the form limit


def test_a_crash_shows_a_plain_chinese_page_without_the_details(tmp_path: Path) -> None:
    with portal(tmp_path) as http:
        page = http.get("/test-broken")
        assert page.status_code == 500
        assert "出错了" in page.text
        assert SECRET not in page.text and "Traceback" not in page.text
        assert "RuntimeError" not in page.text
        assert_secure_headers(page)
        api = http.get("/api/v1/test-broken")
        assert api.status_code == 500
        assert api.json()["error"]["code"] == "server_error"
        assert SECRET not in api.text


def test_cookies_are_httponly_lax_and_secure_over_https(tmp_path: Path) -> None:
    with portal(tmp_path) as http:
        header = http.get("/test-cookie").headers["set-cookie"].lower()
        assert "httponly" in header and "samesite=lax" in header and "secure" not in header
    with portal(tmp_path, SHIXIN_HTTPS="true") as http:
        header = http.get("/test-cookie").headers["set-cookie"].lower()
        assert "httponly" in header and "samesite=lax" in header and "secure" in header
