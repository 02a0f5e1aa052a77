"""Accessibility of every public page and the back office, checked by axe-core in headless
Chromium (the axe-playwright-python package carries axe-core): any violation fails, with its
rule, impact and the elements it names. Desktop and a 360-px phone, Chinese and English."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from browser_support import add_unit_account, navigate, new_page, open_page, seed
from liveserver import portal_env, portal_process
from support import org, person, removal

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
LIMITS = {
    "SHIXIN_RATE_LIMIT_PAGES": "100000/minute",
    "SHIXIN_RATE_LIMIT_FORMS": "100000/minute",
    "SHIXIN_RATE_LIMIT_API": "100000/minute",
}
PUBLIC = [
    ("/", 200),
    ("/?q=张伟", 200),
    ("/?q=张伟&view=compact", 200),
    ("/?q=没有这个人", 200),
    ("/entries/ax1", 200),
    ("/entries/axo", 200),
    ("/entries/gone", 410),
    ("/entries/nobody", 404),
    ("/status", 200),
    ("/stats", 200),
    ("/stats/units", 200),
    ("/quarterly", 200),
    ("/quarterly/2023Q1", 200),  # person()'s publish date: a quarter long published
    ("/quarterly/2099Q1", 404),  # not published yet
    ("/about", 200),
    ("/api", 200),
    ("/reports/new", 200),
    ("/complaints/new?entry=ax1", 200),
    ("/track", 200),
    ("/unit/login", 200),
]
BACK_OFFICE = ["/unit/", "/unit/admin/", "/unit/admin/routing"]


@dataclass
class AxePortal:
    url: str
    password: str


@pytest.fixture(scope="module")
def axe_portal(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AxePortal]:
    root = tmp_path_factory.mktemp("browser-axe")
    entries = [person("ax1", iname="张伟"), org("axo"), person("gone", iname="王芳")]
    seed(root / "data", entries, [removal("revoke", "gone")])
    env = portal_env(root / "data", **LIMITS)
    password = add_unit_account(env, "platform", "--name", "管理员", "--admin")
    with portal_process(env, log=root / "serve.log") as base:
        yield AxePortal(base, password)


def violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_public_pages_have_no_accessibility_violations(
    browser: Any, axe_portal: AxePortal, device: str, lang: str
) -> None:
    options = PHONE if device == "phone" else DESKTOP
    found: dict[str, list[str]] = {}
    for page in new_page(browser, axe_portal.url, **options):
        if lang == "en":
            open_page(page, "/?lang=en")  # remembered in a cookie for the pages below
        for path, status in PUBLIC:
            open_page(page, path, status)
            if problems := violations(page):
                found[path] = problems
    assert found == {}


def test_the_back_office_has_no_accessibility_violations(
    browser: Any, axe_portal: AxePortal
) -> None:
    found: dict[str, list[str]] = {}
    for page in new_page(browser, axe_portal.url, **PHONE):
        open_page(page, "/unit/login")
        page.get_by_label("登录名").fill("platform")
        page.get_by_label("密码").fill(axe_portal.password)
        navigate(page, lambda p=page: p.keyboard.press("Enter"))
        for path in BACK_OFFICE:
            open_page(page, path)
            if problems := violations(page):
                found[path] = problems
    assert found == {}
