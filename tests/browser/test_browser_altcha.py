"""The proof-of-work widget on the report form, in headless Chromium, against a real
``shixin serve`` of each test's own whose unproven budget (SHIXIN_RATE_LIMIT_UNPROVEN) is one
submission an hour: every report a browser files without solving a challenge uses it up.

With JavaScript the widget (served from /static/vendor/altcha/) solves a challenge when the
form is submitted, without anything to do; without JavaScript the form still files, within
that budget."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import data_set, navigate, new_page, open_page, seed, update_screenshots
from liveserver import portal_env, portal_process

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"
GENEROUS_LIMITS = {
    "SHIXIN_RATE_LIMIT_PAGES": "100000/minute",
    "SHIXIN_RATE_LIMIT_FORMS": "100000/minute",
    "SHIXIN_RATE_LIMIT_API": "100000/minute",
}
PAYLOAD = re.compile(rb'name="altcha"\r\n\r\n([A-Za-z0-9+/=]*)\r\n')


@pytest.fixture
def portal(browser: Any, tmp_path: Path) -> Iterator[str]:
    """Asks for ``browser`` first, so without Chromium nothing is started."""
    seed(tmp_path / "data", data_set())
    env = portal_env(tmp_path / "data", SHIXIN_RATE_LIMIT_UNPROVEN="1/hour", **GENEROUS_LIMITS)
    with portal_process(env, log=tmp_path / "serve.log") as base:
        yield base


def fill_report(page: Any) -> None:
    page.select_option("#f-category", "consumption.hotel")
    page.fill("#f-what", "被执行人于2026年10月1日入住某五星级酒店。")


def submit(page: Any) -> Any:
    return lambda: page.get_by_role("button", name="提交举报").click()


def file_report(page: Any, posted: list[bytes]) -> str:
    """Fill in and submit the report form on ``page``; the receipt page's main text."""
    fill_report(page)

    def remember(request: Any) -> None:
        if request.method == "POST":
            posted.append(request.post_data_buffer or b"")

    page.on("request", remember)
    navigate(page, submit(page))
    page.remove_listener("request", remember)
    assert page.url.endswith("/receipt")
    return page.locator("main").inner_text()


def test_with_javascript_a_report_carries_a_solved_challenge_and_nothing_leaves_the_site(
    browser: Any, portal: str, tmp_path: Path
) -> None:
    requests: list[str] = []
    problems: list[str] = []
    posted: list[bytes] = []
    for _ in range(2):  # twice: more than the unproven budget allows
        for page in new_page(browser, portal, viewport={"width": 390, "height": 844}):
            page.on("request", lambda request: requests.append(request.url))
            page.on("pageerror", lambda error: problems.append(f"script error: {error}"))

            def console(message: Any) -> None:
                if message.type in ("error", "warning"):
                    problems.append(f"console {message.type}: {message.text}")

            page.on("console", console)
            open_page(page, "/reports/new?entry=zw")
            widget = page.get_by_role("checkbox", name="提交时自动验证，无需操作")
            widget.wait_for()
            # Reachable by keyboard, in the form's order: after the fields, before submitting.
            page.focus("#f-what")
            for _ in range(12):
                if widget.evaluate("el => el === document.activeElement"):
                    break
                page.keyboard.press("Tab")
            else:
                pytest.fail("the widget's checkbox is not reachable with Tab")
            if not posted:
                fill_report(page)
                save_screenshot(page, tmp_path)
            text = file_report(page, posted)
            assert "已收到您的举报" in text and re.search(r"JB-\d{4}-\w+", text)

    assert problems == []
    assert requests and all(url.startswith(portal + "/") for url in requests), requests
    assert sum("/altcha/challenge" in url for url in requests) == 2
    # Each post carried a solution (base64 of the challenge and its answer).
    assert len(posted) == 2
    payloads = [PAYLOAD.search(body) for body in posted]
    assert all(p and len(p.group(1)) > 200 for p in payloads), posted
    assert payloads[0].group(1) != payloads[1].group(1)  # type: ignore[union-attr]

    # Neither report was charged to the unproven budget: it still has its one submission.
    for page in new_page(browser, portal, java_script_enabled=False):
        open_page(page, "/reports/new?entry=zw")
        assert "已收到您的举报" in file_report(page, [])


def save_screenshot(page: Any, tmp_path: Path) -> None:
    """The form around the widget; into docs/ with SHIXIN_UPDATE_SCREENSHOTS=1."""
    page.locator("#f-altcha").scroll_into_view_if_needed()
    options = {"full_page": False, "animations": "disabled"}
    page.screenshot(path=str(tmp_path / "screenshot-altcha.png"), **options)
    assert (tmp_path / "screenshot-altcha.png").stat().st_size > 10_000
    if update_screenshots():
        page.screenshot(path=str(DOCS / "screenshot-altcha.png"), **options)


def test_without_javascript_the_form_files_within_the_unproven_budget(
    browser: Any, portal: str
) -> None:
    for page in new_page(browser, portal, java_script_enabled=False):
        open_page(page, "/reports/new?entry=zw")
        assert page.get_by_role("checkbox", name="提交时自动验证，无需操作").count() == 0
        assert "未启用 JavaScript 也可以提交" in page.locator("main").inner_text()
        posted: list[bytes] = []
        assert "已收到您的举报" in file_report(page, posted)
        assert b'name="altcha"' not in posted[0]

        # The second one in the hour is turned away, with what to do about it.
        open_page(page, "/reports/new?entry=zw")
        fill_report(page)
        text = navigate(page, submit(page), 429)
        assert "请求过于频繁" in text
        main = page.locator("main").inner_text()
        assert "需要启用 JavaScript" in main and "或稍后再试" in main


def test_the_widget_speaks_english_on_english_pages(browser: Any, portal: str) -> None:
    for page in new_page(browser, portal):
        open_page(page, "/complaints/new?lang=en")
        page.get_by_role("checkbox", name="Checked automatically when you submit").wait_for()
