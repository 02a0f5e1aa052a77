"""The public portal in real headless Chromium, as a person uses it: search, entry pages, the
410 for a removed entry, the debtor's status check, the keyboard, no JavaScript, a 360-px
phone. Every page opened is also checked for full ID numbers (browser_support.checked)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    ALL_IDS,
    CASE_TECH,
    CASE_WANG,
    CASE_ZHANG,
    CASE_ZHANG_FULLWIDTH,
    CODE_TECH,
    CORRECTED_AT,
    DOCS,
    ID_WANG,
    ID_ZHANG,
    SHIELDED_AT,
    WANG_DATA,
    fits_width,
    navigate,
    open_page,
    result_links,
    result_names,
    update_screenshots,
)
from site_support import masked

from core.workdays import default_calendar
from search_index.dates import parse_instant

pytestmark = pytest.mark.browser


def search_by_name(page: Any, name: str) -> str:
    open_page(page, "/")
    page.get_by_label("姓名或名称", exact=True).fill(name)
    return navigate(page, lambda: page.get_by_role("button", name="查询", exact=True).click())


# --- Search ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "names", "links"),
    [
        pytest.param("张伟", ["张伟", "张伟"], {"/entries/zw", "/entries/zw2"}, id="simplified"),
        pytest.param("張偉", ["张伟", "张伟"], {"/entries/zw", "/entries/zw2"}, id="traditional"),
        # Published in traditional script, found by the simplified spelling, and shown as
        # the court published it.
        pytest.param("陈国强", ["陳國強"], {"/entries/chen"}, id="simplified-finds-traditional"),
        pytest.param("陳國強", ["陳國強"], {"/entries/chen"}, id="traditional-as-published"),
    ],
)
def test_search_by_name_in_either_script_finds_the_same_entries(
    page: Any, typed: str, names: list[str], links: set[str]
) -> None:
    search_by_name(page, typed)
    assert page.get_by_text(f"共 {len(names)} 条，第 1 页").is_visible()
    assert result_names(page) == names
    assert set(result_links(page)) == links
    # What was searched is said back, and the form keeps it for a second try.
    assert f"姓名或名称「{typed}」" in page.locator(".searched").inner_text()
    assert page.get_by_label("姓名或名称", exact=True).input_value() == typed


def test_results_show_disclosed_fields_with_masked_ids(page: Any) -> None:
    search_by_name(page, "张伟")
    first = page.locator("#results > li").filter(has_text=CASE_ZHANG)
    text = first.inner_text()
    assert masked(ID_ZHANG) in text
    for shown in ("北京市朝阳区人民法院", "严重程度：严重", "2023-03-20", "2099-03-20", "部分履行"):
        assert shown in text, shown
    assert first.get_by_text("已更正").is_visible()


def test_search_by_credit_code_through_the_identifier_form(page: Any) -> None:
    open_page(page, "/")
    page.get_by_label("身份证号码 / 统一社会信用代码 / 组织机构代码").fill(CODE_TECH)
    # A credit code is public: the form's POST is redirected to a bookmarkable address.
    navigate(page, lambda: page.get_by_role("button", name="按证件号码查询").click())
    assert f"/?cardNum={CODE_TECH}" in page.url
    assert result_names(page) == ["上海某某科技有限公司"]
    assert CODE_TECH in page.locator("#results").inner_text()


def test_search_by_full_id_number_never_puts_it_in_the_address(page: Any) -> None:
    open_page(page, "/")
    page.get_by_label("身份证号码 / 统一社会信用代码 / 组织机构代码").fill(ID_ZHANG)
    navigate(page, lambda: page.get_by_role("button", name="按证件号码查询").click())
    assert ID_ZHANG not in page.url
    assert result_links(page) == ["/entries/zw"]
    assert masked(ID_ZHANG) in page.locator("#results").inner_text()
    assert page.get_by_label("身份证号码 / 统一社会信用代码 / 组织机构代码").input_value() == ""


def test_search_by_case_number_typed_with_full_width_brackets(page: Any) -> None:
    open_page(page, "/")
    page.get_by_text("更多条件").click()  # the <details> with the optional conditions
    page.get_by_label("案号", exact=True).fill(CASE_ZHANG_FULLWIDTH)
    navigate(page, lambda: page.get_by_role("button", name="查询", exact=True).click())
    assert result_links(page) == ["/entries/zw"]
    assert CASE_ZHANG in page.locator("#results").inner_text()


def test_no_match_says_what_was_searched_and_invents_nothing(page: Any) -> None:
    search_by_name(page, "欧阳不存在")
    assert page.get_by_role("heading", name="没有找到符合条件的公开条目").is_visible()
    assert "姓名或名称「欧阳不存在」" in page.locator(".searched").inner_text()
    assert page.locator("#no-match-help").get_by_text("繁体与简体").is_visible()
    assert page.locator("#results").count() == 0


# --- Entry pages and removed entries ---------------------------------------------------------


def dl_pairs(section: Any) -> dict[str, str]:
    terms = section.locator("dt").all_inner_texts()
    values = section.locator("dd").all_inner_texts()
    return dict(zip(terms, values, strict=True))


def test_entry_page_shows_disclosed_fields_masked_id_and_correction_history(page: Any) -> None:
    search_by_name(page, "张伟")
    result = page.get_by_role("listitem").filter(has_text=CASE_ZHANG)
    navigate(page, lambda: result.get_by_role("link", name="张伟").click())
    assert page.url.endswith("/entries/zw")
    assert page.get_by_role("heading", level=1).inner_text() == "张伟"
    assert page.locator(".badges").get_by_text("公布中，已更正").is_visible()

    party = dl_pairs(page.get_by_role("region", name="被执行人", exact=True))
    assert party["姓名"] == "张伟"
    assert party["身份证号码"] == masked(ID_ZHANG)
    assert party["性别"] == "男" and party["年龄"] == "43"
    case = dl_pairs(page.get_by_role("region", name="案件与义务"))
    assert case["案号"] == CASE_ZHANG
    assert case["执行法院"] == "北京市朝阳区人民法院"
    assert case["生效法律文书确定的义务"] == "支付货款人民币十万元"
    assert case["履行情况"] == "部分履行"  # as corrected
    assert case["未履行部分"] == "六万元"
    listing = dl_pairs(page.get_by_role("region", name="公布与有效期"))
    assert listing["发布日期"] == "2023-03-20" and listing["有效期至"] == "2099-03-20"

    history = page.get_by_role("region", name="更正记录").get_by_role("listitem")
    corrections = history.filter(has_text="更正了")
    assert corrections.count() == 1
    correction = corrections.inner_text()
    assert correction.startswith(CORRECTED_AT[:10])
    assert "履行情况" in correction and "未履行部分" in correction

    remedies = page.get_by_role("region", name="如何提出异议或申请更正")
    assert "10 日内" in remedies.inner_text() and "3 个工作日" in remedies.inner_text()
    assert remedies.locator("strong").inner_text() == "北京市朝阳区人民法院"  # whom to ask


def test_old_link_to_a_removed_entry_answers_410_with_an_explanation_and_no_data(
    page: Any,
) -> None:
    html = open_page(page, "/entries/wang", status=410)
    assert page.get_by_role("heading", level=1).inner_text() == "该条目已不再公开"
    assert page.get_by_text("依照规定，其信息不再公开").is_visible()
    assert page.get_by_role("link", name="移除进度查询").first.is_visible()
    for data in WANG_DATA:
        assert data not in html, data
    # Nor does a search show it.
    search_by_name(page, "王秀英")
    assert page.get_by_role("heading", name="没有找到符合条件的公开条目").is_visible()


def test_unknown_entry_is_a_plain_404(page: Any) -> None:
    open_page(page, "/entries/nobody", status=404)
    assert page.get_by_role("heading", level=1).is_visible()


# --- Removal status for debtors ----------------------------------------------------------------


def check_status(page: Any, case: str, name: str, card: str) -> str:
    open_page(page, "/status")
    page.get_by_label("案号").fill(case)
    page.get_by_label("姓名或名称").fill(name)
    page.get_by_label("完整的身份证号码或统一社会信用代码").fill(card)
    return navigate(page, lambda: page.get_by_role("button", name="查询移除进度").click())


def step_name(step: str) -> str:
    """'2024-10-12 09:30 更正：履行情况' -> '更正'"""
    return re.sub(r"^[0-9: -]+", "", step).split("：")[0]


@pytest.mark.clock
def test_status_check_with_matching_identifiers_shows_state_and_timeline(page: Any) -> None:
    html = check_status(page, CASE_WANG, "王秀英", ID_WANG)
    result = page.locator("#status-result")
    assert result.get_by_role("heading", name="当前状态：已屏蔽").is_visible()
    assert result.get_by_text("该条目已不再公开").is_visible()
    steps = result.locator("ol.timeline > li").all_inner_texts()
    assert [step_name(s) for s in steps] == ["公布", "屏蔽"], steps
    assert SHIELDED_AT[:10] in steps[1]
    table = result.get_by_role("table")
    headers = table.get_by_role("columnheader").all_inner_texts()
    assert headers == ["移除方式", "法院决定生效", "本网站收到", "法定期限", "在本网站生效", "结果"]
    row = table.locator("tbody tr").first.locator("td").all_inner_texts()
    assert row[0] == "已屏蔽"
    # The end of the third working day after the shield took effect, on China's calendar.
    deadline = default_calendar().removal_deadline(parse_instant(SHIELDED_AT))
    assert row[3].startswith(f"{deadline:%Y-%m-%d} 23:59"), row
    assert row[4] != "尚未生效" and row[5] == "在法定期限内生效"
    # The number typed is not written back, in the form or anywhere else.
    assert ID_WANG not in html
    assert page.get_by_label("完整的身份证号码或统一社会信用代码").input_value() == ""


@pytest.mark.clock
def test_status_check_of_a_listed_entry_links_to_it(page: Any) -> None:
    check_status(page, CASE_ZHANG_FULLWIDTH, "張偉", ID_ZHANG)
    result = page.locator("#status-result")
    assert result.get_by_role("heading", name="当前状态：公布中，已更正").is_visible()
    steps = result.locator("ol.timeline > li").all_inner_texts()
    assert [step_name(s) for s in steps] == ["公布", "更正"], steps
    assert steps[1].startswith(CORRECTED_AT[:10]) and "履行情况、未履行部分" in steps[1]
    assert result.get_by_role("link", name="查看条目").get_attribute("href") == "/entries/zw"


@pytest.mark.clock
def test_status_check_mismatch_reveals_nothing(page: Any) -> None:
    check_status(page, CASE_WANG, "王秀英", ID_ZHANG)  # a real case, the wrong person's ID
    wrong_id = page.locator("#status-result").inner_text()
    cards = page.locator(".status-card, ol.timeline, table").count()
    check_status(page, "(2022)沪0115执9999号", "王秀英", ID_WANG)  # no such case
    no_case = page.locator("#status-result").inner_text()

    assert wrong_id == no_case
    assert "没有找到与这三项信息同时相符的条目" in wrong_id
    for shown in ("当前状态", "屏蔽", "法定期限", SHIELDED_AT[:10], "查看条目"):
        assert shown not in wrong_id, shown
    assert cards == 0
    assert page.get_by_label("完整的身份证号码或统一社会信用代码").input_value() == ""


# --- Keyboard, no JavaScript ----------------------------------------------------------------


def focused_id(page: Any) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id || ''")


def tab_to(page: Any, element_id: str, limit: int = 25) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused_id(page) == element_id:
            return
    raise AssertionError(f"#{element_id} not reached with {limit} presses of Tab")


def test_search_form_works_with_the_keyboard_alone(page: Any) -> None:
    open_page(page, "/")
    page.keyboard.press("Tab")
    first = page.evaluate("() => document.activeElement.textContent")
    assert first == "跳到正文"  # the skip link comes first

    tab_to(page, "q")
    page.keyboard.type("張偉")
    page.keyboard.press("Tab")  # to the summary of the optional conditions
    assert page.evaluate("() => document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Enter")  # opens them
    tab_to(page, "caseCode", limit=2)
    page.keyboard.type(CASE_ZHANG_FULLWIDTH)
    tab_to(page, "search-submit")
    navigate(page, lambda: page.keyboard.press("Enter"))
    assert result_links(page) == ["/entries/zw"]

    # Enter in the name box submits too.
    open_page(page, "/")
    tab_to(page, "q")
    page.keyboard.type("陈国强")
    navigate(page, lambda: page.keyboard.press("Enter"))
    assert result_links(page) == ["/entries/chen"]


@pytest.mark.clock
def test_pages_work_without_javascript(nojs_page: Any) -> None:
    page = nojs_page
    search_by_name(page, "张伟")
    assert len(result_links(page)) == 2
    navigate(page, lambda: page.get_by_role("link", name="张伟").first.click())
    assert page.get_by_role("heading", level=1).inner_text() == "张伟"

    # The POST forms, CSRF token included, need no script either.
    open_page(page, "/")
    page.get_by_label("身份证号码 / 统一社会信用代码 / 组织机构代码").fill(CODE_TECH)
    navigate(page, lambda: page.get_by_role("button", name="按证件号码查询").click())
    assert result_names(page) == ["上海某某科技有限公司"]

    check_status(page, CASE_TECH, "上海某某科技有限公司", CODE_TECH)
    heading = page.locator("#status-result").get_by_role("heading", level=3)
    assert heading.inner_text() == "当前状态：公布中"

    open_page(page, "/stats")
    assert page.get_by_role("heading", level=1).inner_text() == "公开数据"
    assert page.locator("#stat-listed").inner_text() == "6"
    # 王秀英's shielding, effective here within the 3-working-day deadline.
    assert page.locator("#stat-removed").inner_text() == "1"
    assert page.locator("#stat-on-time").inner_text() == "1"
    assert page.locator("#stat-late").inner_text() == "0"


# --- No full ID anywhere --------------------------------------------------------------------


PUBLIC_PATHS = [
    "/",
    "/?q=张伟",
    "/?q=陈国强",
    "/?caseCode=" + CASE_ZHANG_FULLWIDTH,
    "/?q=王秀英",
    "/?partyType=person",
    "/?region=广东",
    "/entries/zw",
    "/entries/zw2",
    "/entries/chen",
    "/entries/liu",
    "/entries/tech",
    "/entries/wang",
    "/status",
    "/stats",
    "/?lang=en",
]


def test_no_page_shows_a_full_id_number(page: Any) -> None:
    for path in PUBLIC_PATHS:
        html = open_page(page, path, status=410 if path == "/entries/wang" else 200)
        text = page.locator("body").inner_text()
        for full in ALL_IDS:
            assert full not in html and full not in text, (path, full)


# --- A 360-px phone -------------------------------------------------------------------------


def save(page: Any, name: str, tmp_path: Path, **options: Any) -> None:
    """A screenshot beside the test's files, and into docs/ with SHIXIN_UPDATE_SCREENSHOTS=1."""
    page.screenshot(path=str(tmp_path / name), **options)
    if update_screenshots():
        DOCS.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS / name), **options)


def test_phone_layout_has_no_horizontal_scrolling(phone_page: Any, tmp_path: Path) -> None:
    page = phone_page
    visits = [
        ("/", 200),
        ("/?q=张伟", 200),
        ("/?q=欧阳不存在", 200),
        ("/entries/zw", 200),
        ("/entries/tech", 200),
        ("/entries/wang", 410),
        ("/status", 200),
        ("/stats", 200),
    ]
    for path, status in visits:
        open_page(page, path, status=status)
        assert fits_width(page) == (360, 360), path

    # The status answer has a six-column table: it may scroll inside its box, never the page.
    check_status(page, CASE_WANG, "王秀英", ID_WANG)
    assert fits_width(page) == (360, 360)

    open_page(page, "/?q=张伟")
    # Results are readable: the name links are not squeezed off screen.
    for box in [link.bounding_box() for link in page.locator("#results h2 a").all()]:
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    save(page, "screenshot-phone.png", tmp_path, full_page=False)  # the first screen
    assert (tmp_path / "screenshot-phone.png").stat().st_size > 10_000


def test_desktop_screenshot(page: Any, tmp_path: Path) -> None:
    search_by_name(page, "张伟")
    assert re.fullmatch(r"共 2 条，第 1 页", page.locator("#results-heading").inner_text())
    save(page, "screenshot.png", tmp_path, full_page=False)
    assert (tmp_path / "screenshot.png").stat().st_size > 10_000
