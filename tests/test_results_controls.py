"""The results page's controls as HTML: sort order, page numbers and the compact view. Every
control is a plain link whose address holds the whole search (bookmarkable, no JavaScript);
a search by full ID number gets none, since no link may carry the number."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from site_support import Site, full_ids_in, running
from support import id_number, namesakes, ranked_names

from core.settings import Settings
from portal import search_form

# 45 people named 张伟<something>, published on different days (newest: the highest number),
# and three names whose relevance order is the reverse of their publication order.
MANY = 45
ID_OLD = id_number("110105", "19700101", "901")


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    with running(settings) as s:
        s.publish(*namesakes(MANY), *ranked_names())
        yield s


def get(site: Site, **params: str) -> str:
    response = site.client.get("/", params=params)
    assert response.status_code == 200, response.text
    return response.text


def entry_links(page: str) -> list[str]:
    return re.findall(r'<a href="/entries/([^"]+)">', page)


def pager(page: str) -> str:
    found = re.search(r'<nav class="pager".*?</nav>', page, re.S)
    assert found, "no pager"
    return found.group(0)


def page_numbers(page: str) -> list[str]:
    """The pager's items as shown: numbers, "…", 上一页 and 下一页."""
    return re.findall(r"<li[^>]*>(?:<a [^>]*>)?([^<]+)", pager(page))


def href(page: str, pattern: str) -> str:
    found = re.search(r'<a href="([^"]+)"' + pattern, page)
    assert found, pattern
    return html.unescape(found.group(1))


# --- Sort ----------------------------------------------------------------------------------


def test_sort_links_change_the_order_and_keep_the_search(site: Site) -> None:
    relevance = get(site, q="刘芳", region="北京")
    assert entry_links(relevance) == ["exact", "starts", "inside"]
    assert '<span class="chosen" aria-current="true">最相关</span>' in relevance
    newest = href(relevance, r' data-sort="publish_date"')
    assert newest == "/?q=%E5%88%98%E8%8A%B3&region=%E5%8C%97%E4%BA%AC&sort=publish_date"
    by_date = site.client.get(newest).text
    assert entry_links(by_date) == ["inside", "starts", "exact"]
    assert '<span class="chosen" aria-current="true">最新发布</span>' in by_date
    # Back to the default: the short address, without sort=.
    assert href(by_date, r' data-sort="relevance"') == relevance_url()


def relevance_url() -> str:
    return "/?q=%E5%88%98%E8%8A%B3&region=%E5%8C%97%E4%BA%AC"


def test_a_new_order_starts_from_the_first_page(site: Site) -> None:
    third = get(site, q="张伟", page="3")
    assert "page=" not in href(third, r' data-sort="publish_date"')


def test_no_sort_control_without_a_name(site: Site) -> None:
    """Without a name every order is newest first: a control that changes nothing is noise."""
    by_court = get(site, court="朝阳")
    assert 'id="sort-label"' not in by_court and 'id="view-label"' in by_court
    assert 'id="sort-label"' not in get(site, q="刘芳", exact="true")


def test_an_unknown_sort_is_a_clear_error(site: Site) -> None:
    response = site.client.get("/", params={"q": "张伟", "sort": "name"})
    assert response.status_code == 400 and "排序应为" in response.text


# --- Page numbers --------------------------------------------------------------------------


def test_page_numbers_first_last_and_the_current_page(site: Site) -> None:
    first = get(site, q="张伟", perPage="5")  # 45 results: 9 pages
    assert page_numbers(first) == ["1", "2", "3", "…", "9", "下一页"]
    assert '<nav class="pager" id="pager" aria-label="翻页">' in first
    assert re.search(
        r'<a href="[^"]+page=1[^"]*" aria-current="page" aria-label="第 1 页，当前页">1<', first
    )
    assert href(first, r' aria-label="第 9 页"').endswith("page=9&perPage=5")
    middle = get(site, q="张伟", perPage="2", page="10")  # 23 pages
    shown = ["上一页", "1", "…", "8", "9", "10", "11", "12", "…", "23", "下一页"]
    assert page_numbers(middle) == shown
    last = get(site, q="张伟", perPage="5", page="9")
    assert page_numbers(last) == ["上一页", "1", "…", "7", "8", "9"]
    assert 'rel="next"' not in last


def test_page_links_keep_every_condition_and_the_view(site: Site) -> None:
    first = get(site, q="张伟", court="朝阳", perPage="10", sort="publish_date", view="compact")
    second = href(first, r' aria-label="第 2 页"')
    assert second == (
        "/?q=%E5%BC%A0%E4%BC%9F&court=%E6%9C%9D%E9%98%B3&page=2"
        "&sort=publish_date&perPage=10&view=compact"
    )
    page = site.client.get(second).text
    assert "共 45 条，第 2 页" in page and 'class="results-compact stack"' in page


def test_one_page_has_no_pager(site: Site) -> None:
    assert 'class="pager"' not in get(site, q="刘芳")


def test_past_the_last_page_previous_goes_to_the_last(site: Site) -> None:
    beyond = get(site, q="张伟", perPage="20", page="7")
    assert href(beyond, r' rel="prev"').endswith("page=3&perPage=20")
    assert 'rel="next"' not in beyond


def test_page_numbers_stop_at_the_last_page_the_query_accepts() -> None:
    assert search_form.last_page(0, 20, 500) == 1
    assert search_form.last_page(41, 20, 500) == 3
    assert search_form.last_page(1_000_000, 20, 500) == 500
    numbers = [p.number for p in search_form.page_links({"q": "x"}, 4, 7)]
    assert numbers == [1, 2, 3, 4, 5, 6, 7]  # a gap of one page shows the page, not "…"


# --- Compact view --------------------------------------------------------------------------


def test_compact_view_is_one_row_per_entry_with_labelled_cells(site: Site) -> None:
    page = get(site, q="张伟", view="compact")
    table = re.search(r'<table class="results-compact stack".*?</table>', page, re.S)
    assert table, "no compact table"
    rows = re.findall(r"<tr>\s*<th scope=\"row\">", table.group(0))
    assert len(rows) == 20
    for name in ("证件号码", "案号", "执行法院", "发布日期"):
        assert table.group(0).count(f'data-label="{name}"') == 20
    assert '<ol class="results"' not in page and full_ids_in(page) == []
    assert '<span class="chosen" aria-current="true">紧凑列表</span>' in page
    # The switch back to cards leaves view= out of the address.
    assert "view=" not in href(page, r' data-view="cards"')


def test_cards_are_the_default_and_an_unknown_view_is_cards(site: Site) -> None:
    for page in (get(site, q="张伟"), get(site, q="张伟", view="table")):
        assert '<ol class="results" id="results">' in page
        assert "results-compact" not in page


def test_a_new_search_keeps_the_view(site: Site) -> None:
    page = get(site, q="张伟", view="compact")
    assert '<input type="hidden" name="view" value="compact">' in page


def test_a_search_by_full_id_number_has_no_controls(site: Site) -> None:
    answer = site.post_form("/search", {"cardNum": ID_OLD}, form_page="/")
    assert answer.status_code == 200 and "共 1 条" in answer.text
    assert "results-controls" not in answer.text and 'class="pager"' not in answer.text


def test_controls_in_english(site: Site) -> None:
    page = get(site, q="张伟", lang="en", perPage="5")
    for text in ("Sort", "Best match", "Newest first", "Show as", "Compact list", "Page 2"):
        assert text in page, text
