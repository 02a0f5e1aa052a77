"""The 429 page as a person meets it in Chromium, on a portal of its own with a page budget of
three a minute (SHIXIN_RATE_LIMIT_PAGES)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import data_set, new_page, open_page, seed
from liveserver import portal_env, portal_process

pytestmark = pytest.mark.browser

PAGES_PER_MINUTE = 3


@pytest.fixture(scope="module")
def limited_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser-ratelimit")
    seed(root / "data", data_set())
    env = portal_env(root / "data", SHIXIN_RATE_LIMIT_PAGES=f"{PAGES_PER_MINUTE}/minute")
    with portal_process(env, log=root / "serve.log") as base:
        yield base


@pytest.fixture
def limited_page(browser: Any, limited_portal: str) -> Iterator[Any]:
    yield from new_page(browser, limited_portal, viewport={"width": 1280, "height": 800})


def test_too_many_pages_get_the_chinese_429_page_with_the_retry_time(limited_page: Any) -> None:
    page = limited_page
    for path in ["/", "/?q=张伟", "/entries/zw"][:PAGES_PER_MINUTE]:
        open_page(page, path)  # the stylesheet and unknown addresses do not count

    response = page.goto("/?q=陈国强")
    assert response is not None and response.status == 429
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= 60
    assert page.get_by_role("heading", level=1).inner_text() == "请求过于频繁"
    text = page.locator("main").inner_text()
    # It says how long to wait, and until when (Beijing time), in the same numbers.
    waited = re.search(r"请在 (\d+) 秒后（北京时间 (\d{1,2}:\d{2}(:\d{2})?) 以后）再试", text)
    assert waited, text
    assert abs(int(waited.group(1)) - retry_after) <= 1
    assert "陈国强" not in page.content()  # no results behind the limit
    # Still the site's page, styled (static files have no budget), with a way back.
    assert page.locator("main").get_by_role("link", name="返回查询").get_attribute("href") == "/"
    border = page.evaluate(
        "() => getComputedStyle(document.querySelector('header.site')).borderBottomStyle"
    )
    assert border == "solid"


def test_the_api_has_its_own_budget(limited_page: Any) -> None:
    page = limited_page
    for _ in range(PAGES_PER_MINUTE + 1):  # over the page budget, whatever ran before
        last = page.goto("/stats")
    assert last is not None and last.status == 429
    api = page.goto("/api/v1/entries?q=张伟")
    assert api is not None and api.status == 200
    assert api.json()["total"] == 2
