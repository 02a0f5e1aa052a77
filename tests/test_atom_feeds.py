"""The Atom feeds as a feed reader and a newsroom use them: valid Atom 1.0 (feedparser reads
it without complaint), new listings filtered like the search, removals that say only the
entry id, when it was removed and when a republisher must have deleted it, the feeds named
by the search page and the API page, in Chinese or English, demo data marked."""

from __future__ import annotations

import re
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import feedparser
import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support import id_number, ingest, make_settings, org, person, removal

from portal.app import create_app
from search_index.exports import DEMO_NOTE

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

ID_ZHANG = id_number("110105", "19800101", "123")
ID_LI = id_number("440106", "19900220", "345")
FULL_ID = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")


def seed(service: Any) -> None:
    ingest(
        service,
        person("zw", cardNum=ID_ZHANG, publishDate="2023-03-20"),
        person(
            "sh",
            iname="王上海",
            cardNum=ID_LI,
            caseCode="(2024)沪0115执9号",
            courtName="上海市浦东新区人民法院",
            areaName="上海",
            publishDate="2024-06-01",
        ),
        org("abc", publishDate="2024-05-06"),
        person("secret", iname="王秘密", caseCode="(2020)京0105执8号", disclose=False),
    )


def app_client(tmp_path: Path, database_url: str, **env: str) -> Any:
    settings = make_settings(tmp_path, database_url, SHIXIN_RATE_LIMIT_ENABLED="0", **env)
    return TestClient(create_app(settings, background=False))


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Any:
    with app_client(tmp_path, database_url) as client:
        seed(client.app.state.service)
        yield client


def parsed(client: Any, path: str) -> Any:
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(answer.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def ids(feed: Any) -> list[str]:
    return [e.link.rsplit("/", 1)[1] for e in feed.entries]


def test_new_listings_are_valid_atom_newest_first_with_public_fields_only(client: Any) -> None:
    feed = parsed(client, "/feeds/new.atom")
    assert "新增失信被执行人" in feed.feed.title and feed.feed.language == "zh-CN"
    assert "不得用于营利" in feed.feed.rights
    assert ids(feed) == ["sh", "abc", "zw"]  # by publish date, newest first
    entry = feed.entries[2]
    assert entry.id == "tag:testserver,2026:entry:zw"
    assert entry.title == "新增失信被执行人：张伟（(2023)京0105执1234号）"
    assert entry.link == "http://testserver/entries/zw"
    assert entry.updated_parsed and entry.published.startswith("2023-03-20")
    assert (
        "案号：(2023)京0105执1234号" in entry.summary
        and "执行法院：北京市朝阳区人民法院" in entry.summary
    )
    assert f"{ID_ZHANG[:10]}****{ID_ZHANG[14:]}" in entry.summary  # masked, as the page shows
    body = client.get("/feeds/new.atom").text
    assert not FULL_ID.search(body) and "王秘密" not in body


def test_an_entrys_id_stays_the_same_and_readers_may_cache(client: Any) -> None:
    first = client.get("/feeds/new.atom")
    assert first.headers["cache-control"] == "public, max-age=300"
    again = client.get("/feeds/new.atom", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and not again.content
    before = {e.link: e.id for e in feedparser.parse(first.content).entries}
    ingest(client.app.state.service, person("new", iname="赵新", publishDate="2024-07-01"))
    after = {e.link: e.id for e in parsed(client, "/feeds/new.atom").entries}
    assert all(after[link] == tag for link, tag in before.items())


def test_new_listings_take_the_searchs_filters(client: Any) -> None:
    assert ids(parsed(client, "/feeds/new.atom?region=上海")) == ["sh", "abc"]
    assert ids(parsed(client, "/feeds/new.atom?region=上海&partyType=person")) == ["sh"]
    assert ids(parsed(client, "/feeds/new.atom?court=朝阳")) == ["zw"]
    assert ids(parsed(client, "/feeds/new.atom?publishedFrom=2024-05-10")) == ["sh"]
    filtered = parsed(client, "/feeds/new.atom?partyType=org")
    assert ids(filtered) == ["abc"] and "当事人类型：org" in filtered.feed.subtitle
    assert filtered.feed.id != parsed(client, "/feeds/new.atom").feed.id
    bad = client.get("/feeds/new.atom?publishedFrom=yesterday")
    assert bad.status_code == 400 and "publishedFrom" in bad.text


def test_a_removed_entry_leaves_the_listings_and_is_announced_without_personal_data(
    client: Any,
) -> None:
    service = client.app.state.service
    ingest(service, removal("shield", "zw"))
    assert "zw" not in ids(parsed(client, "/feeds/new.atom"))
    body = client.get("/feeds/removals.atom").text
    feed = parsed(client, "/feeds/removals.atom")
    assert ids(feed) == ["zw"] and "已移除的条目" in feed.feed.title
    entry = feed.entries[0]
    removed = next(e for e in service.changes("").events if e["id"] == "zw")
    assert entry.id == "tag:testserver,2026:removal:zw:" + quote(removed["removedAt"], safe="")
    assert f"mustDeleteBy）：{removed['mustDeleteBy']}" in entry.summary
    assert entry.title == "条目已移除：zw"
    for private in ("张伟", "(2023)京0105执1234号", ID_ZHANG, ID_ZHANG[:6], "朝阳"):
        assert private not in body
    assert not FULL_ID.search(body)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.feeds: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "link" and found.get("type") == "application/atom+xml":
            self.feeds.append(found)


def alternates(client: Any, path: str) -> dict[str, dict[str, list[str]]]:
    links = _Links()
    links.feed(client.get(path).text)
    assert all(link["rel"] == "alternate" for link in links.feeds)
    return {urlsplit(f["href"]).path: parse_qs(urlsplit(f["href"]).query) for f in links.feeds}


def test_the_search_and_api_pages_name_the_feeds_with_the_current_filters(client: Any) -> None:
    home = alternates(client, "/")
    assert home == {"/feeds/new.atom": {}, "/feeds/removals.atom": {}}
    searched = alternates(client, "/?q=张伟&region=北京&partyType=person&view=compact")
    assert searched["/feeds/new.atom"] == {"region": ["北京"], "partyType": ["person"]}
    assert alternates(client, "/api") == {"/feeds/new.atom": {}, "/feeds/removals.atom": {}}
    for href in ("/feeds/new.atom?region=北京&partyType=person", "/feeds/removals.atom"):
        parsed(client, href)


def test_english_readers_get_english_feeds_from_english_pages(client: Any) -> None:
    links = alternates(client, "/?region=上海&lang=en")
    assert links["/feeds/new.atom"] == {"region": ["上海"], "lang": ["en"]}
    assert links["/feeds/removals.atom"] == {"lang": ["en"]}
    feed = parsed(client, "/feeds/new.atom?region=上海&lang=en")
    assert feed.feed.title.startswith("New listings") and feed.feed.language == "en"
    assert feed.entries[0].title.startswith("New listing: 王上海")
    assert "Case number：(2024)沪0115执9号" in feed.entries[0].summary
    assert parsed(client, "/feeds/removals.atom?lang=en").feed.title.startswith("Removed")


def test_a_site_with_a_public_address_names_itself_by_it(tmp_path: Path, database_url: str) -> None:
    with app_client(tmp_path, database_url, SHIXIN_PUBLIC_URL="https://shixin.example.cn") as c:
        seed(c.app.state.service)
        feed = parsed(c, "/feeds/new.atom?region=上海")
        assert feed.entries[0].id == "tag:shixin.example.cn,2026:entry:sh"
        assert feed.entries[0].link == "https://shixin.example.cn/entries/sh"
        (self_link,) = [link for link in feed.feed.links if link.rel == "self"]
        assert self_link.href.startswith("https://shixin.example.cn/feeds/new.atom?region=")


def test_a_demo_sites_feeds_say_the_data_is_invented(tmp_path: Path, database_url: str) -> None:
    with app_client(tmp_path, database_url, SHIXIN_DEMO="1") as client:
        seed(client.app.state.service)
        ingest(client.app.state.service, removal("delete", "abc"))
        for path in ("/feeds/new.atom", "/feeds/removals.atom"):
            feed = parsed(client, path)
            assert "演示数据" in feed.feed.title and DEMO_NOTE in feed.feed.subtitle
        assert DEMO_NOTE in parsed(client, "/feeds/new.atom").entries[0].summary
