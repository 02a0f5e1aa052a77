"""The public pages as a visitor sees them: search, results, entries, 410, /stats, language,
accessibility basics. Data is seeded through the service; every request goes through the
real app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from site_support import Site, full_ids_in, masked, running
from support import correction, credit_code, id_number, instant_days_ago, org, person, removal

from core.settings import Settings
from search_index.dates import CST

ROOT = Path(__file__).resolve().parent.parent
ID_ZHANG = id_number("110105", "19800101", "123")
ID_ZHANG_MING = id_number("110108", "19750615", "234")
ID_GONE = id_number("110105", "19800101", "567")
CODE_ABC = credit_code("MA000001")


def people() -> list[dict]:  # type: ignore[type-arg]
    return [
        person("zw", iname="张伟", cardNum=ID_ZHANG, severity="严重", publishDate="2023-03-20"),
        person(
            "zwm",
            iname="張偉明",
            cardNum=ID_ZHANG_MING,
            caseCode="(2022)京0108执55号",
            courtName="北京市海淀区人民法院",
            publishDate="2022-06-01",
            validUntil=None,
            severity=None,
        ),
        org("abc", iname="ＡＢＣ科技有限公司", cardNum=CODE_ABC, publishDate="2024-05-06"),
    ]


@pytest.fixture
def site(settings: Settings) -> Iterator[Site]:
    with running(settings) as s:
        s.publish(*people())
        yield s


# --- Home and search ----------------------------------------------------------------------


def test_home_is_one_name_box_with_optional_conditions(site: Site) -> None:
    response = site.client.get("/")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="zh-CN">' in html
    assert '<form class="search" id="search-form" method="get" action="/" role="search"' in html
    for field in ("q", "caseCode", "court", "region", "partyType", "publishedFrom", "publishedTo"):
        assert f'<label for="{field}">' in html and f'id="{field}" name="{field}"' in html
    # The identifier goes in its own POST form, never in an address.
    assert '<form id="id-search-form" method="post" action="/search">' in html
    assert 'id="cardNum" name="cardNum"' in html
    assert "没有找到" not in html and 'id="results"' not in html


def test_pages_have_landmarks_skip_link_and_no_inline_script(site: Site) -> None:
    for path in ("/", "/?q=张伟", "/entries/zw", "/status", "/stats", "/entries/nobody"):
        html = site.client.get(path).text
        assert '<a class="skip-link" href="#main">' in html, path
        assert '<main id="main"' in html and "<header" in html and "<footer" in html, path
        assert '<nav class="site-nav" aria-label=' in html, path
        assert "<script" not in html and " style=" not in html and "<style" not in html, path
        assert re.search(r"<h1[ >]", html), path
        assert 'href="http' not in html.replace('href="http://testserver', ""), path  # no CDN
        stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
        assert len(stylesheets) == 1 and re.fullmatch(
            r"/static/site\.[0-9a-f]{10}\.css", stylesheets[0]
        ), path


def test_stylesheet_is_served_and_has_phone_and_print_rules(site: Site) -> None:
    response = site.client.get("/static/site.css")
    assert response.status_code == 200
    css = response.text
    assert "@media print" in css and "@media (max-width: 30rem)" in css
    assert ":focus-visible" in css and ".skip-link:focus" in css
    assert "url(http" not in css and "@import" not in css


def test_results_show_disclosed_fields_severity_and_validity(site: Site) -> None:
    html = site.client.get("/", params={"q": "张伟"}).text
    assert "共 2 条，第 1 页" in html
    assert "已检索：姓名或名称「张伟」" in html
    assert '<a href="/entries/zw">张伟</a>' in html and '<a href="/entries/zwm">張偉明</a>' in html
    assert masked(ID_ZHANG) in html and ID_ZHANG not in html
    assert "严重程度：严重" in html and "severity-high" in html
    assert "<dt>有效期至</dt><dd>2099-03-20</dd>" in html
    assert "<dt>有效期至</dt><dd>未载明</dd>" in html  # zwm has no listing end
    assert "(2023)京0105执1234号" in html and "北京市朝阳区人民法院" in html


def test_search_by_case_number_court_and_date_range(site: Site) -> None:
    by_case = site.client.get("/", params={"caseCode": "（2022）京0108执55号"}).text
    assert "共 1 条" in by_case and "/entries/zwm" in by_case
    dated = site.client.get(
        "/", params={"publishedFrom": "2023-01-01", "publishedTo": "2024-12-31"}
    ).text
    assert '/entries/zw"' in dated and "/entries/abc" in dated and "/entries/zwm" not in dated
    assert "发布日期起「2023-01-01」" in dated
    assert 'value="2023-01-01"' in dated  # the form keeps the range
    org_only = site.client.get("/", params={"q": "abc", "partyType": "org"}).text
    assert "当事人类型「法人或其他组织」" in org_only and "/entries/abc" in org_only


def test_bad_date_range_is_explained(site: Site) -> None:
    response = site.client.get(
        "/", params={"publishedFrom": "2024-01-01", "publishedTo": "2023-01-01"}
    )
    assert response.status_code == 400
    assert "起始日晚于截止日" in response.text and 'role="alert"' in response.text


def test_no_match_says_what_was_searched_and_invents_nothing(site: Site) -> None:
    response = site.client.get("/", params={"q": "王五", "court": "朝阳", "region": "北京"})
    assert response.status_code == 200
    html = response.text
    assert "没有找到符合条件的公开条目" in html
    assert "姓名或名称「王五」" in html and "执行法院「朝阳」" in html and "地区「北京」" in html
    assert "繁体与简体" in html and "空格" in html and "错别字" in html
    assert "不能证明对方从未被列入失信名单" in html
    assert "/entries/" not in html  # no "did you mean" entries
    # One link per condition, each dropping only that one.
    relax = re.findall(r'<li><a href="([^"]+)">去掉此条件再查：', html)
    assert len(relax) == 3
    assert all("q=%E7%8E%8B%E4%BA%94" in href for href in relax[1:])


def test_search_by_full_id_number_is_posted_and_never_shown(site: Site) -> None:
    response = site.post_form("/search", {"cardNum": ID_ZHANG}, form_page="/")
    assert response.status_code == 200
    html = response.text
    assert '<a href="/entries/zw">' in html and "共 1 条" in html
    assert f"证件号码「{masked(ID_ZHANG)}」" in html
    assert ID_ZHANG not in html and full_ids_in(html) == []
    assert response.headers["cache-control"] == "no-store"
    assert 'rel="next"' not in html  # no paging link could carry the number


def test_search_by_full_id_number_typed_with_spaces_and_name(site: Site) -> None:
    spaced = f"{ID_ZHANG[:6]} {ID_ZHANG[6:14]} {ID_ZHANG[14:]}"
    found = site.post_form("/search", {"cardNum": spaced, "q": "张伟"}, form_page="/")
    assert '<a href="/entries/zw">' in found.text
    wrong_name = site.post_form("/search", {"cardNum": ID_ZHANG, "q": "李四"}, form_page="/")
    assert "没有找到符合条件的公开条目" in wrong_name.text
    assert ID_ZHANG not in wrong_name.text


def test_search_by_public_code_gets_a_bookmarkable_address(site: Site) -> None:
    response = site.post_form("/search", {"cardNum": CODE_ABC.lower()}, form_page="/")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/?") and "cardNum=" in location
    html = site.client.get(location).text
    assert "/entries/abc" in html and CODE_ABC in html


def test_identifier_errors_do_not_echo_the_number(site: Site) -> None:
    typo = ID_ZHANG[:16] + str((int(ID_ZHANG[16]) + 1) % 10) + ID_ZHANG[17]
    response = site.post_form("/search", {"cardNum": typo}, form_page="/")
    assert response.status_code == 400
    assert "校验位" in response.text and typo not in response.text
    empty = site.post_form("/search", {"cardNum": ""}, form_page="/")
    assert empty.status_code == 400 and "请输入身份证号码" in empty.text


def test_full_id_number_put_in_the_address_stays_out_of_the_page(site: Site) -> None:
    response = site.client.get("/", params={"cardNum": ID_ZHANG, "perPage": "1"})
    assert response.status_code == 200
    html = response.text
    assert '<a href="/entries/zw">' in html
    assert ID_ZHANG not in html and full_ids_in(html) == []
    assert response.headers["cache-control"] == "no-store"


def test_paging_links_keep_conditions(site: Site) -> None:
    first = site.client.get("/", params={"q": "伟", "perPage": "1", "sort": "publish_date"})
    links = dict(
        (rel, href) for href, rel in re.findall(r'<a href="([^"]+)" rel="(prev|next)">', first.text)
    )
    assert set(links) == {"next"}
    second = site.client.get(links["next"].replace("&amp;", "&")).text
    assert "共 2 条，第 2 页" in second and 'rel="prev"' in second


# --- Entry pages --------------------------------------------------------------------------


def test_entry_page_has_every_disclosed_field_and_the_remedies(site: Site) -> None:
    site.publish(correction("zw", "2026-11-20T10:00:00+08:00", performance="部分履行"))
    response = site.client.get("/entries/zw")
    assert response.status_code == 200
    html = response.text
    assert "<h1>张伟</h1>" in html
    for shown in (
        masked(ID_ZHANG),
        "(2023)京0105执1234号",
        "<dd>男</dd>",
        "<dd>43</dd>",
        "(2022)京0105民初5678号",
        "2023-01-15",
        "支付货款人民币十万元",
        "部分履行",
        "十万元",
        "有履行能力而拒不履行生效法律文书确定义务",
        "2099-03-20",
        "公布中，已更正",
    ):
        assert shown in html, shown
    assert '<dd id="entry-court">北京市朝阳区人民法院</dd>' in html
    assert "2026-11-20 更正了：performance（履行情况）" in html
    # How to object, with the deadlines of the Rules.
    for words in ("10 日内", "15 日内", "3 个工作日内", "复议", "信用修复"):
        assert words in html, words
    assert ID_ZHANG not in html


def test_entry_page_links_to_casework_only_once_it_exists(site: Site) -> None:
    html = site.client.get("/entries/zw").text
    routes = {getattr(r, "path", None) for r in site.app.routes}
    for path, link in (("/complaints/new", "complaint-link"), ("/reports/new", "report-link")):
        if path in routes:
            assert f'id="{link}" href="{path}?entry=zw"' in html
        else:
            assert path not in html
    if not routes & {"/complaints/new", "/reports/new"}:
        assert "目前尚未开通" in html


def test_organization_entry_shows_code_and_representative(site: Site) -> None:
    html = site.client.get("/entries/abc").text
    assert "统一社会信用代码或组织机构代码" in html and CODE_ABC in html
    assert "法定代表人或负责人" in html and "<dd>李四</dd>" in html


def test_removed_entry_is_a_short_410_without_data(site: Site) -> None:
    site.publish(person("gone", iname="赵移除", cardNum=ID_GONE, caseCode="(2020)京0105执7号"))
    now = datetime.now(CST).isoformat(timespec="seconds")
    site.publish(removal("delete", "gone", now))
    response = site.client.get("/entries/gone")
    assert response.status_code == 410
    html = response.text
    assert "该条目已不再公开" in html
    for secret in ("赵移除", masked(ID_GONE), "(2020)京0105执7号", "朝阳"):
        assert secret not in html
    assert site.client.get("/", params={"q": "赵移除"}).text.count("/entries/gone") == 0


@pytest.mark.clock
def test_expired_but_unswept_entry_is_410_too(site: Site) -> None:
    yesterday = (datetime.now(CST) - timedelta(days=1)).date().isoformat()
    site.publish(person("old", iname="郑期满", cardNum=ID_GONE, validUntil=yesterday))
    assert site.client.get("/entries/old").status_code == 410


def test_unknown_entry_is_404(site: Site) -> None:
    response = site.client.get("/entries/nobody")
    assert response.status_code == 404
    assert "没有这个页面或条目" in response.text


def test_hostile_data_and_input_are_escaped(site: Site) -> None:
    hostile = "<script>alert(1)</script>"
    site.publish(org("x1", iname=f"{hostile}有限公司", cardNum=credit_code(), duty=hostile))
    for html in (
        site.client.get("/", params={"q": "有限公司"}).text,
        site.client.get("/entries/x1").text,
        site.client.get("/", params={"q": hostile, "court": hostile}).text,
        site.client.get("/", params={"q": hostile, "lang": "en"}).text,
    ):
        assert "<script>alert" not in html and "&lt;script&gt;" in html


# --- Language -----------------------------------------------------------------------------


def test_english_switch_translates_static_text_not_data(site: Site) -> None:
    response = site.client.get("/entries/zw", params={"lang": "en"})
    html = response.text
    assert '<html lang="en">' in html
    assert "How to object or request a correction" in html
    assert "Executing court" in html
    assert "北京市朝阳区人民法院" in html and "张伟" in html  # data stays as published
    assert "shixin_lang=en" in response.headers["set-cookie"]
    # Remembered: the next page is English without asking again.
    home = site.client.get("/").text
    assert '<html lang="en">' in home and "Name of person or organization" in home
    assert 'id="lang-switch" href="/?lang=zh"' in home
    assert '<html lang="zh-CN">' in site.client.get("/", params={"lang": "zh"}).text


def test_language_switch_link_never_carries_a_full_id_number(site: Site) -> None:
    html = site.client.get("/", params={"cardNum": ID_ZHANG, "q": "张伟"}).text
    [switch] = re.findall(r'id="lang-switch" href="([^"]+)"', html)
    assert "cardNum" not in switch and "lang=en" in switch


def test_a_full_id_number_in_the_address_stays_out_of_the_page(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    # Typed into the path (a 404) or into any parameter: neither the page nor its language
    # link shows it back.
    for path, params in ((f"/entries/{ID_ZHANG}", {}), ("/", {"q": f"张伟 {ID_ZHANG}"})):
        html = site.client.get(path, params=params).text
        [switch] = re.findall(r'id="lang-switch" href="([^"]+)"', html)
        assert ID_ZHANG not in html and "lang=en" in switch, (path, switch)
    logged = capsys.readouterr().out
    assert '"path":"/entries/' in logged and ID_ZHANG not in logged, "the log masks it too"


# --- /stats -------------------------------------------------------------------------------


@pytest.mark.clock
def test_stats_page_shows_the_public_numbers(site: Site) -> None:
    site.publish(person("gone", iname="赵移除", cardNum=ID_GONE))
    site.publish(removal("shield", "gone", datetime.now(CST).isoformat(timespec="seconds")))
    response = site.client.get("/stats")
    assert response.status_code == 200
    html = response.text
    assert '<dd id="stat-listed">3</dd>' in html
    assert '<dd id="stat-removed">1</dd>' in html and '<dd id="stat-late">0</dd>' in html
    assert re.search(r'<dd id="stat-median">(不到 1 秒|[0-9.]+ 秒)</dd>', html)
    assert "3 个工作日" in html and "提前" in html
    assert "赵移除" not in html and "gone" not in html


@pytest.mark.clock
def test_stats_service_counts(site: Site) -> None:
    numbers = site.service.public_numbers()
    assert (numbers.listed, numbers.removed, numbers.pending) == (3, 0, 0)
    assert numbers.median_latency_seconds is None


@pytest.mark.clock
def test_stats_count_a_late_sender_apart_from_our_own_lateness(site: Site) -> None:
    site.publish(person("gone", iname="赵移除", cardNum=ID_GONE))
    site.publish(removal("delete", "gone", instant_days_ago(30)))  # long overdue
    numbers = site.service.public_numbers()
    assert (numbers.removed, numbers.arrived_late, numbers.late, numbers.on_time) == (1, 1, 0, 0)
    assert numbers.min_margin_seconds is None  # nothing of ours to measure against
    html = site.client.get("/stats").text
    assert '<dd id="stat-arrived-late">1</dd>' in html and '<dd id="stat-late">0</dd>' in html


# --- Rendering cost -------------------------------------------------------------------------


def test_results_render_from_the_stored_json_without_documents(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The results page shows each entry's stored API JSON: no IndexDoc is rebuilt."""
    from search_index.types import IndexDoc

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the results page decoded an IndexDoc")

    monkeypatch.setattr(IndexDoc, "from_api", refuse)
    monkeypatch.setattr(IndexDoc, "to_api", refuse)
    html = site.client.get("/", params={"q": "张伟"}).text
    assert '<a href="/entries/zw">张伟</a>' in html and "severity-high" in html
    english = site.client.get("/", params={"q": "张伟", "lang": "en"}).text
    assert '<span class="badge">Person</span>' in english
    assert "<dt>Executing court</dt>" in english
    assert "<dt>Listed until</dt><dd>Not stated</dd>" in english


def test_templates_are_compiled_once_per_language_with_the_text_translated(
    site: Site,
) -> None:
    """Literal ``_("…")`` and ``label('…')`` are translated when a template is compiled; the
    result is what a call at render time would give, in both languages."""
    from portal import i18n
    from portal.templating import label

    templates = site.app.state.templates
    for lang, env in templates.envs.items():
        assert not env.auto_reload
        source = (
            """{{ _("查询") }}|{{ _('上一页') }}|{{ label('caseCode') }}|{{ lang() }}|"""
            """{{ html_lang() }}|{{ _(text) }}|"""
            """{{ _("共 {total} 条，第 {page} 页").format(total=3, page=1) }}"""
        )
        baked = env.from_string(source).render(text="下一页")  # compiling translates
        expected = "|".join(
            [
                i18n.translate(lang, "查询"),
                i18n.translate(lang, "上一页"),
                label(lang, "caseCode"),
                lang,
                i18n.HTML_LANG[lang],
                i18n.translate(lang, "下一页"),
                i18n.translate(lang, "共 {total} 条，第 {page} 页").format(total=3, page=1),
            ]
        )
        assert baked == expected
        assert env.get_template("search.html") is env.get_template("search.html")
    assert templates.envs["en"].get_template("search.html") is not templates.env.get_template(
        "search.html"
    )
