"""/about (who runs the site, privacy, where the data comes from, when it last changed), the
footer's link to it on every page, and the home page's "last updated" line (SQLite and
PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from casework_site import case_site
from site_support import running
from support import make_settings, person, removal

from core.settings import Settings
from search_index.dates import CST
from search_index.service import ListService

FOOTER_LINK = '<a id="about-link" href="/about">'
LAWS = (
    "《最高人民法院关于公布失信被执行人名单信息的若干规定》",
    "《中华人民共和国个人信息保护法》",
)
NOTHING_YET = "本站尚未收到任何名单数据。"


def section(html: str, element_id: str) -> str:
    """The element with this id, up to its closing tag (dd, p or div without nesting)."""
    match = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, element_id
    return match.group(2)


def shown_time(service: ListService) -> str:
    updated = service.last_updated()
    assert updated is not None
    return updated.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def test_an_unconfigured_operator_is_said_to_be_unconfigured(settings: Settings) -> None:
    with running(settings) as site:
        html = site.client.get("/about").text
        for field in ("operator-name", "operator-contact", "operator-address", "privacy-contact"):
            assert section(html, field) == '<span class="unset">未配置</span>', field
        assert "本站运营者（未配置）" not in html  # the placeholder is no name
        assert section(html, "site-operator") == "本站运营者：未配置"
        english = site.client.get("/about?lang=en").text
        assert section(english, "operator-name") == '<span class="unset">not configured</span>'
        assert section(english, "site-operator") == "Run by: not configured"


def test_the_operator_comes_from_the_settings_escaped(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(
        tmp_path,
        database_url,
        SHIXIN_OPERATOR_NAME='某市<script>alert("x")</script>信用中心',
        SHIXIN_OPERATOR_CONTACT="xinyong@example.cn & 010-1234",
        SHIXIN_OPERATOR_ADDRESS="某市某路 1 号 <b>",
    )
    with running(settings) as site:
        html = site.client.get("/about").text
        assert "<script>" not in html and "<b>" not in html
        name = "某市&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;信用中心"
        assert section(html, "operator-name") == name
        assert section(html, "operator-contact") == "xinyong@example.cn &amp; 010-1234"
        assert section(html, "operator-address") == "某市某路 1 号 &lt;b&gt;"
        # Privacy requests go to the operator unless a privacy contact is set.
        assert section(html, "privacy-contact") == "xinyong@example.cn &amp; 010-1234"
        assert section(site.client.get("/").text, "site-operator") == f"本站运营者：{name}"


def test_a_privacy_contact_of_its_own(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(
        tmp_path,
        database_url,
        SHIXIN_OPERATOR_CONTACT="office@example.cn",
        SHIXIN_PRIVACY_CONTACT="privacy@example.cn",
    )
    with running(settings) as site:
        html = site.client.get("/about").text
        assert section(html, "operator-contact") == "office@example.cn"
        assert section(html, "privacy-contact") == "privacy@example.cn"


def test_the_privacy_notice_says_what_is_stored_and_cites_the_law(settings: Settings) -> None:
    with running(settings) as site:
        html = site.client.get("/about").text
        privacy = section(html, "privacy")
        assert "从不保存完整的证件号码" in privacy and "带密钥的散列值和打码后的形式" in privacy
        assert "不记录查询内容" in privacy
        assert "本站目前不会自动删除" in privacy  # what happens to complaints and reports
        assert "查阅、复制、更正或删除" in privacy
        for law in LAWS:
            assert law in privacy
        assert "seed" not in html.lower()  # the real documents, never our file names
        assert '<a href="/status">' in privacy and '<a href="/complaints/new">' in html


def test_the_source_is_the_courts_on_real_data_and_the_demo_on_demo_data(
    tmp_path: Path, database_url: str
) -> None:
    with running(make_settings(tmp_path / "real", database_url)) as site:
        source = section(site.client.get("/about").text, "data-source")
        assert "各执行法院" in source and LAWS[0] in source and "演示" not in source
    demo = make_settings(tmp_path / "demo", f"sqlite:///{tmp_path}/demo.sqlite3", SHIXIN_DEMO="1")
    with running(demo) as site:
        source = section(site.client.get("/about").text, "data-source")
        assert "演示数据，非真实名单" in source and "程序生成的" in source


def test_last_updated_on_the_about_and_home_pages(settings: Settings) -> None:
    with running(settings) as site:
        assert section(site.client.get("/about").text, "last-updated") == NOTHING_YET
        home = section(site.client.get("/").text, "list-updated")
        assert home.startswith(NOTHING_YET)
        assert '<a href="/about#data-source">数据来源</a>' in home

        site.publish(person("p1"))
        when = shown_time(site.service)
        about = section(site.client.get("/about").text, "last-updated")
        assert about == f"名单最近一次更新于 {when}（北京时间）。"
        home = section(site.client.get("/").text, "list-updated")
        assert home.startswith(f"名单最近更新：{when}（北京时间）")
        assert section(site.client.get("/?q=张伟").text, "list-updated") == home
        english = section(site.client.get("/?lang=en").text, "list-updated")
        assert english.startswith(f"List last updated {when} (Beijing time)")


def test_last_updated_is_the_newest_batch_or_applied_change(service: ListService) -> None:
    assert service.last_updated() is None
    before = datetime.now(UTC)
    service.ingest([(1, person("p1"))], source="test")
    first = service.last_updated()
    assert first is not None and before <= first <= datetime.now(UTC)
    # A batch that changes nothing (a duplicate) still says the list was refreshed.
    service.ingest([(1, person("p1"))], source="test")
    second = service.last_updated()
    assert second is not None and second >= first
    # A removal moves it on too.
    effective = datetime.now(CST).isoformat(timespec="seconds")
    service.ingest([(1, removal("shield", "p1", effective))], source="test")
    third = service.last_updated()
    assert third is not None and third >= second


def test_every_page_links_to_the_about_page(tmp_path: Path, database_url: str) -> None:
    with case_site(tmp_path, database_url) as cs:
        paths = ["/", "/entries/p1", "/entries/p2", "/nowhere", "/status", "/stats", "/about"]
        paths += ["/stats/units", "/api", "/reports/new", "/complaints/new", "/track"]
        paths += ["/receipt", "/unit/login"]
        for path in paths:
            assert FOOTER_LINK in cs.client.get(path).text, path
        forged = cs.client.post("/status", data={"caseCode": "x"})
        assert forged.status_code == 403 and FOOTER_LINK in forged.text
        unit = cs.login("tourism")
        assert FOOTER_LINK in unit.get("/unit/").text
        about = cs.client.get("/about")
        assert about.status_code == 200 and '<html lang="zh-CN">' in about.text
        assert "<h1>关于本站</h1>" in about.text
        english = cs.client.get("/about?lang=en").text
        assert "<h1>About this site</h1>" in english and FOOTER_LINK in english
