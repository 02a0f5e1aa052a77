"""Related parties in Chromium, on a portal of its own: the shared data set plus a listed
company whose legal representative is named 张伟. On 张伟's search results and entry page,
on a desktop and at a phone's width, the company appears in a section of its own, headed and
explained as a name match only, apart from the results, without scrolling sideways."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import data_set, fits_width, new_page, open_page, result_names, seed
from conftest import PHONE
from liveserver import portal_env, portal_process
from support import credit_code, org

pytestmark = pytest.mark.browser

COMPANY = "北京同名法人贸易有限公司"
HEADING = "同名法定代表人的失信企业（仅姓名相同）"
CAVEAT = "不能证明是同一人"


@pytest.fixture(scope="module")
def related_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser-related")
    represented = org(
        "samename",
        iname=COMPANY,
        cardNum=credit_code("MA000031"),
        businessEntity="张伟",
        caseCode="(2025)京0105执31号",
    )
    seed(root / "data", [*data_set(), represented])
    with portal_process(portal_env(root / "data"), log=root / "serve.log") as base:
        yield base


@pytest.fixture(params=["desktop", "phone"])
def related_page(
    request: pytest.FixtureRequest, browser: Any, related_portal: str
) -> Iterator[Any]:
    options = PHONE if request.param == "phone" else {"viewport": {"width": 1280, "height": 800}}
    yield from new_page(browser, related_portal, **options)


def assert_related_section(page: Any) -> None:
    section = page.get_by_role("region", name=HEADING)
    assert section.is_visible()
    assert CAVEAT in section.locator("#related-note").inner_text()
    assert "法定代表人或负责人：张伟" in section.inner_text()
    link = section.get_by_role("link", name=COMPANY)
    assert link.get_attribute("href") == "/entries/samename"
    width, viewport = fits_width(page)
    assert width == viewport


def test_a_persons_results_show_same_name_companies_apart_and_labelled(related_page: Any) -> None:
    page = related_page
    open_page(page, "/?q=张伟")
    assert COMPANY not in result_names(page)  # not among the results themselves
    assert_related_section(page)


def test_a_persons_entry_page_shows_them_too(related_page: Any) -> None:
    page = related_page
    open_page(page, "/entries/zw")
    assert_related_section(page)
    page.get_by_role("region", name=HEADING).get_by_role("link", name=COMPANY).click()
    page.wait_for_url("**/entries/samename")
    assert page.get_by_role("heading", level=1).inner_text().startswith(COMPANY)


def test_an_organizations_results_have_no_such_section(related_page: Any) -> None:
    page = related_page
    open_page(page, "/?q=" + COMPANY)
    assert page.locator("#related-orgs").count() == 0
