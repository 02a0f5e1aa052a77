"""The demo banner in Chromium, on a portal of its own started with SHIXIN_DEMO=1: seen at the
top of every kind of page on a desktop and on a 360-px phone, announced as a note by its
title, and the API's answers marked with X-Shixin-Demo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import DOCS, data_set, fits_width, new_page, open_page, seed
from browser_support import update_screenshots as updating
from liveserver import portal_env, portal_process

pytestmark = pytest.mark.browser

TITLE = "演示数据，非真实名单"
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
# (path, status): a public page, results, the about page, an error page, the back office.
VISITS = [("/", 200), ("/?q=张伟", 200), ("/about", 200), ("/nowhere", 404), ("/unit/login", 200)]


@pytest.fixture(scope="module")
def demo_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser-demo")
    seed(root / "data", data_set())
    env = portal_env(root / "data", SHIXIN_DEMO="1", SHIXIN_RATE_LIMIT_PAGES="1000/minute")
    with portal_process(env, log=root / "serve.log") as base:
        yield base


@pytest.fixture
def demo_page(browser: Any, demo_portal: str) -> Iterator[Any]:
    yield from new_page(browser, demo_portal, viewport={"width": 1280, "height": 800})


@pytest.fixture
def demo_phone(browser: Any, demo_portal: str) -> Iterator[Any]:
    yield from new_page(browser, demo_portal, **PHONE)


def save(page: Any, name: str, tmp_path: Path) -> None:
    """The first screen beside the test's files, and into docs/ with SHIXIN_UPDATE_SCREENSHOTS=1."""
    page.screenshot(path=str(tmp_path / name))
    if updating():
        DOCS.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS / name))
    assert (tmp_path / name).stat().st_size > 10_000


def banner_on_first_screen(page: Any, width: int, height: int) -> None:
    banner = page.get_by_role("note", name=TITLE)
    assert banner.is_visible()
    box = banner.bounding_box()
    assert box is not None
    assert box["y"] < height / 4  # at the top, not below the fold
    assert box["x"] >= 0 and box["x"] + box["width"] <= width  # nothing cut off at the side
    title = page.locator("#demo-banner-title").bounding_box()
    assert title is not None and title["height"] > 0 and title["x"] + title["width"] <= width


def test_the_banner_is_at_the_top_of_every_page_on_a_desktop(
    demo_page: Any, tmp_path: Path
) -> None:
    page = demo_page
    for path, status in VISITS:
        open_page(page, path, status=status)
        banner_on_first_screen(page, 1280, 800)
    open_page(page, "/?q=张伟")
    save(page, "screenshot-demo.png", tmp_path)


def test_the_banner_fits_a_360_px_phone(demo_phone: Any, tmp_path: Path) -> None:
    page = demo_phone
    for path, status in VISITS:
        open_page(page, path, status=status)
        banner_on_first_screen(page, 360, 740)
        assert fits_width(page) == (360, 360), path
    open_page(page, "/")
    # The search box is still on the first screen below the banner.
    box = page.locator("#q").bounding_box()
    assert box is not None and box["y"] + box["height"] < 740
    save(page, "screenshot-demo-phone.png", tmp_path)


def test_the_back_office_header_and_the_api_are_marked_too(demo_page: Any) -> None:
    page = demo_page
    open_page(page, "/unit/login")
    header = page.locator("header.site")
    assert header.get_by_role("link", name="单位工作台").is_visible()
    assert page.locator(".site-nav").count() == 0 and page.locator("#lang-switch").count() == 0
    answer = page.request.get("/api/v1/entries?q=张伟")
    assert answer.status == 200 and answer.headers["x-shixin-demo"] == "1"
