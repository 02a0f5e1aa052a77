"""Atom feeds for feed readers and newsrooms: new listings (``/feeds/new.atom``, filtered by
``region``, ``court``, ``partyType``, ``publishedFrom`` and ``publishedTo`` as the search
reads them) and removals (``/feeds/removals.atom``).

A thin view over the change feed's domain code (``ListService.new_listings`` and
``recent_removals``, search_index/feed.py), written by feedgen. Each entry has a tag: URI
that never changes (a listing's is its entry id; a removal's adds when it took effect, so a
listing removed twice is announced twice) and links to the entry's public page. A listing's
summary holds only what the entry page shows (the ID number masked); a removal holds the
entry id, ``removedAt`` and ``mustDeleteBy`` and nothing of the person. The language is
``?lang=en`` or Chinese, never the cookie: a feed reader sends none, and a cached copy must
not depend on one. Feeds are cacheable for a few minutes and answer ``If-None-Match``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from anyio import to_thread
from feedgen.feed import FeedGenerator
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from portal import i18n
from portal.translations import FIELD_LABELS
from search_index.dates import CST
from search_index.exports import DEMO_NOTE, FILTER_PARAMS, TERMS_EN, TERMS_ZH
from search_index.feed import Listing
from search_index.query import QueryError
from search_index.service import ListService

NEW_PATH = "/feeds/new.atom"
REMOVALS_PATH = "/feeds/removals.atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
NEW_LIMIT = 50
REMOVALS_LIMIT = 100
# Readers poll every few minutes at most; the list itself changes in batches.
CACHE_CONTROL = "public, max-age=300"
TAG_DATE = "2026"  # the tag: URIs' date (RFC 4151): when the name was first used
# What a listing's summary shows, in this order: the public fields of the entry page.
SUMMARY_FIELDS = (
    "caseCode",
    "cardNum",
    "partyTypeName",
    "courtName",
    "areaName",
    "disruptTypeName",
    "performance",
    "publishDate",
    "validUntil",
)


def _service(request: Request) -> ListService:
    return request.app.state.service


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "zh"


def _t(lang: str, text: str) -> str:
    return i18n.translate(lang, text)


def _label(lang: str, field: str) -> str:
    return _t(lang, FIELD_LABELS.get(field, field))


def feed_links(params: Mapping[str, str], lang: str) -> list[dict[str, str]]:
    """The feeds a page names in ``<link rel="alternate">``: new listings with the page's
    filters, and the removals."""
    kept = [(k, params[k]) for k in FILTER_PARAMS if params.get(k)]
    if lang == "en":
        kept.append(("lang", "en"))
    query = f"?{urlencode(kept)}" if kept else ""
    removals = "?lang=en" if lang == "en" else ""
    return [
        {"title": _t(lang, "新增失信被执行人（Atom）"), "href": NEW_PATH + query},
        {"title": _t(lang, "已移除的条目（Atom）"), "href": REMOVALS_PATH + removals},
    ]


async def new_listings(request: Request) -> Response:
    lang = _lang(request)
    params = {k: v for k, v in request.query_params.items() if k in FILTER_PARAMS}
    try:
        found = await to_thread.run_sync(_service(request).new_listings, params, NEW_LIMIT)
    except QueryError as exc:
        return PlainTextResponse(f"{exc.field}: {_t(lang, exc.message)}", status_code=400)
    site = _Site(request, lang)
    feed = site.feed("new", _t(lang, "新增失信被执行人"), _filters_text(params, lang))
    for item in found:
        _listing_entry(feed, site, item)
    return site.respond(feed, [item.updated for item in found])


async def removals(request: Request) -> Response:
    lang = _lang(request)
    events = await to_thread.run_sync(_service(request).recent_removals, REMOVALS_LIMIT)
    site = _Site(request, lang)
    note = _t(lang, "转载者须在 mustDeleteBy 之前删除这些条目（移除生效后 3 个工作日）。")
    feed = site.feed("removals", _t(lang, "已移除的条目"), note)
    for event in events:
        _removal_entry(feed, site, event)
    return site.respond(feed, [datetime.fromisoformat(e["removedAt"]) for e in events])


class _Site:
    """What every feed of one request shares: the site's address, language and demo mark."""

    def __init__(self, request: Request, lang: str) -> None:
        settings = request.app.state.settings
        self.request = request
        self.lang = lang
        self.base = settings.public_url or str(request.base_url).rstrip("/")
        self.authority = urlsplit(self.base).hostname or "localhost"
        self.demo: bool = settings.demo
        self.operator: str = settings.operator_name or "shixin"

    def tag(self, *parts: str) -> str:
        return f"tag:{self.authority},{TAG_DATE}:" + ":".join(quote(p, safe="") for p in parts)

    def entry_url(self, entry_id: str) -> str:
        return f"{self.base}/entries/{quote(entry_id, safe='')}"

    def feed(self, name: str, title: str, subtitle: str) -> FeedGenerator:
        lang = self.lang
        feed = FeedGenerator()
        feed.id(self.tag("feed", name, *self._filter_parts()))
        if self.demo:
            title = f"{title}{_t(lang, '（演示数据，非真实名单）')}"
            subtitle = f"{DEMO_NOTE}。{subtitle}"
        feed.title(f"{title} · {_t(lang, '失信被执行人名单查询')}")
        feed.subtitle(subtitle)
        feed.author({"name": self.operator})
        query = self.request.url.query  # behind a proxy, the public address, not ours
        here = f"{self.base}{self.request.url.path}" + (f"?{query}" if query else "")
        feed.link(href=here, rel="self", type="application/atom+xml")
        feed.link(href=f"{self.base}/", rel="alternate", type="text/html")
        feed.language("en" if lang == "en" else "zh-CN")
        feed.rights(TERMS_EN if lang == "en" else TERMS_ZH)
        feed.generator("shixin")
        return feed

    def respond(self, feed: FeedGenerator, times: list[datetime]) -> Response:
        feed.updated(max(times, default=None) or datetime.now(UTC))
        body = feed.atom_str(pretty=True)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag}
        if etag in self.request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=ATOM_TYPE, headers=headers)

    def _filter_parts(self) -> list[str]:
        params = self.request.query_params
        return [f"{k}={params[k]}" for k in FILTER_PARAMS if params.get(k)]


def _listing_entry(feed: FeedGenerator, site: _Site, item: Listing) -> None:
    e, lang = item.entry, site.lang
    entry = feed.add_entry(order="append")
    entry.id(site.tag("entry", e["id"]))
    entry.title(f"{_t(lang, '新增失信被执行人：')}{e['iname']}（{e['caseCode']}）")
    entry.updated(item.updated)
    entry.published(datetime.combine(date.fromisoformat(e["publishDate"]), time(0), CST))
    entry.link(href=site.entry_url(e["id"]), rel="alternate", type="text/html")
    entry.category(term=e["partyType"], label=_t(lang, e["partyTypeName"]))
    lines = [f"{_label(lang, k)}：{_shown(lang, e, k)}" for k in SUMMARY_FIELDS if e.get(k)]
    if site.demo:
        lines.insert(0, DEMO_NOTE)
    entry.summary("\n".join(lines))


def _removal_entry(feed: FeedGenerator, site: _Site, event: dict[str, Any]) -> None:
    lang = site.lang
    entry = feed.add_entry(order="append")
    entry.id(site.tag("removal", event["id"], event["removedAt"]))
    entry.title(f"{_t(lang, '条目已移除：')}{event['id']}")
    entry.updated(datetime.fromisoformat(event["removedAt"]))
    entry.link(href=site.entry_url(event["id"]), rel="alternate", type="text/html")
    entry.summary(
        "\n".join(
            [
                f"{_t(lang, '条目编号')}：{event['id']}",
                f"{_t(lang, '移除时间')}（removedAt）：{event['removedAt']}",
                f"{_t(lang, '转载者删除期限')}（mustDeleteBy）：{event['mustDeleteBy']}",
            ]
        )
    )


def _shown(lang: str, entry: dict[str, Any], key: str) -> str:
    value = str(entry[key])
    return _t(lang, value) if key == "partyTypeName" else value


def _filters_text(params: Mapping[str, str], lang: str) -> str:
    names = {
        "region": "地区",
        "court": "执行法院",
        "partyType": "当事人类型",
        "publishedFrom": "发布日期起",
        "publishedTo": "发布日期止",
    }
    shown = [f"{_t(lang, names[k])}：{params[k]}" for k in FILTER_PARAMS if params.get(k)]
    newest = _t(lang, "按发布日期最新的 {n} 条公开条目").format(n=NEW_LIMIT)
    return ("; " if lang == "en" else "；").join([newest, *shown])


routes = [
    Route(NEW_PATH, new_listings, methods=["GET"]),
    Route(REMOVALS_PATH, removals, methods=["GET"]),
]
