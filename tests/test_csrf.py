"""CSRF protection of the HTML forms: a signed double-submit token in a hidden field."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from site_support import CHINESE, TOKEN_RE, Site, running
from support import KEY, id_number, make_settings

from core.settings import ConfigError, Settings, load_settings

FORM_PAGES = ("/", "/status")
FORM_RE = re.compile(r"<form\b[^>]*>.*?</form>", re.S)
STATUS = {"caseCode": "(2023)京0105执1234号", "name": "张伟", "cardNum": id_number()}


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    with running(settings) as s:
        yield s


def test_every_post_form_carries_the_token(site: Site) -> None:
    for path in FORM_PAGES:
        forms = FORM_RE.findall(site.client.get(path).text)
        posts = [form for form in forms if 'method="post"' in form]
        assert posts, path
        for form in posts:
            assert TOKEN_RE.search(form), (path, form[:80])


def test_the_cookie_is_httponly_and_samesite(site: Site) -> None:
    response = site.client.get("/status")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("shixin_csrf=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    # A browser that already has one keeps it: the page does not issue another.
    assert "shixin_csrf" not in site.client.get("/status").headers.get("set-cookie", "")


def test_a_genuine_post_is_accepted(site: Site) -> None:
    response = site.post_form("/status", STATUS)
    assert response.status_code == 200
    assert "没有找到与这三项信息同时相符的条目" in response.text


def assert_forbidden(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert "请求未通过安全校验" in response.text and CHINESE.search(response.text)
    assert "没有找到与这三项信息" not in response.text  # the request was not processed


@pytest.mark.parametrize("path", ["/status", "/search"])
def test_a_post_without_token_is_403(site: Site, path: str) -> None:
    site.client.get("/status")  # the browser has a cookie, the forger no token
    assert_forbidden(site.client.post(path, data={**STATUS}))
    assert_forbidden(site.client.post(path, data={**STATUS, "csrf_token": "0" * 64}))


def test_a_post_without_cookie_is_403(site: Site) -> None:
    token = site.token()
    site.client.cookies.clear()
    assert_forbidden(site.client.post("/status", data={**STATUS, "csrf_token": token}))


def test_a_token_from_another_browser_is_403(site: Site, settings: Settings) -> None:
    attacker_token = site.token()  # the attacker's own, genuine token
    site.client.cookies.clear()
    site.client.get("/status")  # the victim's browser, with its own cookie
    assert_forbidden(site.client.post("/status", data={**STATUS, "csrf_token": attacker_token}))


def test_a_planted_cookie_without_the_secret_is_403(site: Site) -> None:
    site.client.cookies.set("shixin_csrf", "A" * 43)
    forged = "A" * 43  # copying the cookie value is not enough: the field is a signature
    assert_forbidden(site.client.post("/status", data={**STATUS, "csrf_token": forged}))


def test_tokens_do_not_survive_a_new_secret(tmp_path: Path, database_url: str) -> None:
    first = make_settings(tmp_path, database_url, SHIXIN_SECRET_KEY="first-secret-0123456789")
    second = make_settings(tmp_path, database_url, SHIXIN_SECRET_KEY="second-secret-012345678")
    with running(first) as site:
        token, cookies = site.token(), dict(site.client.cookies)
    with running(second) as site:
        site.client.cookies.update(cookies)
        assert_forbidden(site.client.post("/status", data={**STATUS, "csrf_token": token}))


# --- SHIXIN_SECRET_KEY ----------------------------------------------------------------------


def test_secret_key_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    env = {"SHIXIN_DATA_DIR": str(tmp_path / "data"), "SHIXIN_ID_HASH_KEY": KEY}
    first = load_settings(env).secret_key.reveal()
    assert len(first) >= 32
    assert load_settings(env).secret_key.reveal() == first  # every worker shares it
    key_file = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first not in repr(load_settings(env))


def test_secret_key_from_the_environment(tmp_path: Path) -> None:
    env = {"SHIXIN_DATA_DIR": str(tmp_path), "SHIXIN_ID_HASH_KEY": KEY}
    chosen = load_settings({**env, "SHIXIN_SECRET_KEY": "a-long-enough-secret"})
    assert chosen.secret_key.reveal() == "a-long-enough-secret"
    with pytest.raises(ConfigError, match="SHIXIN_SECRET_KEY"):
        load_settings({**env, "SHIXIN_SECRET_KEY": "short"})
