"""The results controls and the wide tables on phones, in headless Chromium against a real
``shixin serve``:

- at 360 and 390 px nothing scrolls sideways (the page, or a table inside its box) on the
  search results (cards and compact), /stats/units, the unit back office's queue and /api, no
  cell is squeezed to a few characters and no parameter name is broken inside (``cardNum``);
- the sort links change the order, the page numbers navigate, and the compact view shows
  several times as many results on the first screen as the cards.

The portal is this module's own: 45 people named 张伟…, three names whose best-match order is
the reverse of their publication order, a unit account and a few tickets in its queue.
Screenshots go into docs/ with SHIXIN_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import (
    DOCS,
    add_unit_account,
    navigate,
    new_page,
    open_page,
    seed,
    update_screenshots,
)
from liveserver import portal_env, portal_process
from support import namesakes, ranked_names

pytestmark = pytest.mark.browser

UNIT = "tourism"
CLERK = "lyj-clerk"
TRAVEL = "consumption.travel"  # routing.yaml: 旅游局 only
MANY = 45
LIMITS = {
    "SHIXIN_RATE_LIMIT_PAGES": "100000/minute",
    "SHIXIN_RATE_LIMIT_FORMS": "100000/minute",
    "SHIXIN_RATE_LIMIT_API": "100000/minute",
    "SHIXIN_RATE_LIMIT_UNPROVEN": "100000/minute",  # tickets filed by API, without altcha
}
WIDTHS = (360, 390)
NARROWEST_CELL = 40  # px: about three characters


@dataclass
class LayoutPortal:
    url: str
    clerk_password: str


def entries() -> list[dict[str, Any]]:
    return [*namesakes(MANY), *ranked_names()]


@pytest.fixture(scope="module")
def layout_portal(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LayoutPortal]:
    """Asks for ``browser`` first, so without Chromium nothing is started."""
    root = tmp_path_factory.mktemp("browser-layout")
    seed(root / "data", entries())
    env = portal_env(root / "data", **LIMITS)
    password = add_unit_account(env, UNIT, "--login", CLERK)
    with portal_process(env, log=root / "serve.log") as base:
        for n in range(4):  # tickets in the unit's queue, and its row on /stats/units
            filed = httpx.post(
                f"{base}/api/v1/reports",
                json={
                    "category": TRAVEL,
                    "entryId": f"m{n:02d}",
                    "what": f"被执行人随旅行社团队出境旅游（第 {n + 1} 次）。",
                },
                timeout=30,
            )
            assert filed.status_code == 201, filed.text
        yield LayoutPortal(base, password)


@contextmanager
def phone(browser: Any, portal: LayoutPortal, width: int) -> Iterator[Any]:
    yield from new_page(
        browser,
        portal.url,
        viewport={"width": width, "height": 780},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )


@pytest.fixture
def desktop(browser: Any, layout_portal: LayoutPortal) -> Iterator[Any]:
    yield from new_page(browser, layout_portal.url, viewport={"width": 1280, "height": 800})


def log_in(page: Any, portal: LayoutPortal) -> None:
    open_page(page, "/unit/login")
    page.get_by_label("登录名").fill(CLERK)
    page.get_by_label("密码").fill(portal.clerk_password)
    navigate(page, lambda: page.get_by_role("button", name="登录").click())
    assert page.url.endswith("/unit/")


def save(page: Any, name: str, tmp_path: Path, **options: Any) -> None:
    """A screenshot beside the test's files, and into docs/ with SHIXIN_UPDATE_SCREENSHOTS=1."""
    page.screenshot(path=str(tmp_path / name), **options)
    if update_screenshots():
        DOCS.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS / name), **options)


# What a page must not do on a phone, measured by the browser: the page wider than the
# screen, a table wider than its box (it would scroll there, its caption clipped), a shown
# cell narrower than NARROWEST_CELL, a caption running off the screen.
LAYOUT_PROBLEMS = """(narrowest) => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) problems.push(`page ${root.scrollWidth}px wide`);
  for (const wrap of document.querySelectorAll('.table-wrap')) {
    if (wrap.scrollWidth > wrap.clientWidth) problems.push(`table scrolls: ${wrap.scrollWidth}px`);
  }
  for (const cell of document.querySelectorAll('td, th, caption')) {
    const box = cell.getBoundingClientRect();
    if (cell.getClientRects().length === 0 || box.width === 0) continue;  // not shown
    if (cell.tagName !== 'CAPTION' && box.width < narrowest)
      problems.push(`${Math.round(box.width)}px cell: ${cell.textContent.trim().slice(0, 20)}`);
    if (box.left < 0 || box.right > root.clientWidth + 0.5)
      problems.push(`off screen: ${cell.textContent.trim().slice(0, 20)}`);
  }
  return problems;
}"""


def layout_problems(page: Any) -> list[str]:
    return page.evaluate(LAYOUT_PROBLEMS, NARROWEST_CELL)


@pytest.mark.parametrize("width", WIDTHS)
def test_results_tables_and_back_office_fit_a_phone(
    browser: Any, layout_portal: LayoutPortal, width: int, tmp_path: Path
) -> None:
    with phone(browser, layout_portal, width) as page:
        for path in ("/", "/?q=张伟", "/?q=张伟&view=compact", "/?q=刘芳", "/stats/units", "/api"):
            open_page(page, path)
            assert layout_problems(page) == [], f"{path} at {width}px"
        open_page(page, "/stats/units")
        assert page.locator("table.units tbody tr").count() >= 1
        if width == 390:
            page.evaluate("document.querySelector('#units').scrollIntoView()")
            save(page, "screenshot-stats-units-phone.png", tmp_path, full_page=False)
        log_in(page, layout_portal)
        assert page.locator("table.queue tbody tr").count() == 4
        assert layout_problems(page) == [], f"/unit/ at {width}px"
        if width == 360:
            save(page, "screenshot-queue-phone.png", tmp_path, full_page=False)


def test_api_parameter_names_are_never_broken(browser: Any, layout_portal: LayoutPortal) -> None:
    with phone(browser, layout_portal, 360) as page:
        open_page(page, "/api")
        names = page.locator(".api-doc th[scope=row] code")
        assert names.count() > 20
        broken = page.evaluate(
            # A long path (areas[].categories[].deadlines.correct) may break after a dot.
            """(codes) => codes.filter((c) => c.getClientRects().length > 1
                                       && !c.textContent.includes('.'))
                               .map((c) => c.textContent)""",
            names.element_handles(),
        )
        assert broken == []
        card = page.locator(".api-doc th[scope=row] code", has_text=re.compile(r"^cardNum$"))
        box = card.first.bounding_box()
        assert box is not None and box["height"] < 30  # one line


def result_order(page: Any) -> list[str]:
    return [link.get_attribute("href") or "" for link in page.locator("#results h2 a").all()]


def test_the_sort_links_change_the_order(desktop: Any) -> None:
    page = desktop
    open_page(page, "/?q=刘芳")
    assert result_order(page) == ["/entries/exact", "/entries/starts", "/entries/inside"]
    navigate(page, lambda: page.get_by_role("link", name="最新发布").click())
    assert "sort=publish_date" in page.url
    assert result_order(page) == ["/entries/inside", "/entries/starts", "/entries/exact"]
    assert (
        page.locator("[aria-labelledby=sort-label] [aria-current=true]").inner_text() == "最新发布"
    )
    navigate(page, lambda: page.get_by_role("link", name="最相关").click())
    assert result_order(page)[0] == "/entries/exact" and "sort=" not in page.url


def test_the_page_numbers_navigate(desktop: Any) -> None:
    page = desktop
    open_page(page, "/?q=张伟&perPage=5")  # 45 results, 9 pages
    pager = page.get_by_role("navigation", name="翻页")
    assert pager.get_by_role("link", name="第 1 页，当前页").get_attribute("aria-current") == "page"
    navigate(page, lambda: pager.get_by_role("link", name="第 3 页", exact=True).click())
    assert page.locator("#results-heading").inner_text() == "共 45 条，第 3 页"
    first_of_three = result_order(page)
    navigate(page, lambda: pager.get_by_role("link", name="下一页").click())
    assert page.locator("#results-heading").inner_text() == "共 45 条，第 4 页"
    assert set(result_order(page)).isdisjoint(first_of_three)
    navigate(page, lambda: pager.get_by_role("link", name="第 9 页", exact=True).click())
    assert page.locator("#results-heading").inner_text() == "共 45 条，第 9 页"
    assert pager.get_by_role("link", name="下一页").count() == 0
    assert page.locator("#pager [aria-current=page]").inner_text() == "9"
    navigate(page, lambda: pager.get_by_role("link", name="第 1 页", exact=True).click())
    assert "page=1" in page.url and "perPage=5" in page.url


def shown_on_first_screen(page: Any, rows: str) -> int:
    """How many of ``rows`` fit on one screen scrolled to the first of them."""
    return page.evaluate(
        """(sel) => {
          const tops = [...document.querySelectorAll(sel)].map((r) => r.getBoundingClientRect());
          return tops.filter((r) => r.bottom - tops[0].top <= window.innerHeight).length;
        }""",
        rows,
    )


@pytest.mark.parametrize("width", (360, 1280))
def test_the_compact_view_shows_more_per_screen(
    browser: Any, layout_portal: LayoutPortal, width: int, tmp_path: Path
) -> None:
    size = {"viewport": {"width": width, "height": 800}}
    with contextmanager(new_page)(browser, layout_portal.url, **size) as page:
        open_page(page, "/?q=张伟")
        cards = shown_on_first_screen(page, "#results > li")
        cards_height = page.evaluate("document.documentElement.scrollHeight")
        navigate(page, lambda: page.get_by_role("link", name="紧凑列表").click())
        assert "view=compact" in page.url
        assert page.locator("#results tbody tr").count() == 20
        compact = shown_on_first_screen(page, "#results tbody tr")
        assert compact >= 2 * max(cards, 1), (cards, compact)
        assert page.evaluate("document.documentElement.scrollHeight") < cards_height / 2
        # The view is kept by the page links and a new search.
        navigate(page, lambda: page.get_by_role("link", name="下一页").click())
        assert "view=compact" in page.url and page.locator("#results tbody tr").count() == 20
        if width == 360:
            page.evaluate("document.querySelector('#results-heading').scrollIntoView()")
            save(page, "screenshot-results-compact-phone.png", tmp_path, full_page=False)
