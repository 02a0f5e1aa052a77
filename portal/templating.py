"""The Jinja environments of the pages: autoescaping, and the globals every template may use.

- ``csrf_field()``: the hidden CSRF input; every ``<form method="post">`` includes it.
- ``_("…")``, ``lang()``, ``html_lang()``, ``switch_lang_url()``: the language of the static
  text.
- ``has_route("/complaints/new")``: link to a page only once it exists.
- ``label(field)``: the Chinese (or English) label of a disclosed field.
- ``duration(seconds)``: a latency in words.
- ``list_updated()``: when the list last changed (the home and about pages), or None.
- ``site_operator()``: who runs the site (portal/about_page.py), for the footer.
- ``demo``: True when the portal runs on demo data (base.html shows the banner).

The unit back office (``/unit/…``) is Chinese only: its pages are rendered in Chinese
whatever language the visitor chose on the public pages.

There is one environment per language, each with its own compiled templates: a literal
``_("…")`` or ``label('…')`` is replaced by its translation when a template is loaded (see
``_Translated``), so a page calls no function for its static text, and the language is read
from the request once, to choose the environment. ``_(variable)`` still translates at
render time. Templates are compiled once: editing one takes a restart (``auto_reload`` off).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.routing import Match
from starlette.templating import Jinja2Templates, _TemplateResponse

from core.settings import Settings
from portal import atom_feeds, csrf, i18n
from portal.about_page import Operator
from portal.search_form import is_private_identifier
from portal.translations import FIELD_LABELS
from search_index.dates import CST
from search_index.events import mask_full_ids
from search_index.service import StoreError

log = logging.getLogger("shixin.portal")

# ``_("…")`` / ``label('…')`` with a literal argument (the same strings test_i18n checks).
_MARKED = re.compile(r"""(?<![\w.])(_|label)\((?:"([^"]+)"|'([^']+)')\)""")
_LANG_CALL = re.compile(r"(?<![\w.])(lang|html_lang)\(\)")
# The back office's pages: staff of the units, who work in Chinese.
BACK_OFFICE_PREFIX = "/unit/"
# How long a worker reuses the time the list last changed: the home page is the busiest
# page, and the value only moves when a batch arrives or entries expire.
LIST_UPDATED_SECONDS = 60.0


class LocalizedTemplates(Jinja2Templates):
    """``Jinja2Templates`` that renders each request with the environment of its language.
    ``env`` is the Chinese one (the default language)."""

    def __init__(self, directory: Path, static_url: Callable[[str], str]) -> None:
        self.envs = {lang: _environment(directory, lang) for lang in i18n.LANGS}
        super().__init__(env=self.envs[i18n.DEFAULT])
        for env in self.envs.values():
            self._setup_env_defaults(env)
            env.globals["static_url"] = static_url  # portal/static_assets.py

    def TemplateResponse(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> _TemplateResponse:
        context = context or {}
        context.setdefault("request", request)
        settings = _settings(request)
        context.setdefault("demo", settings is not None and settings.demo)
        template = self.envs[page_lang(request)].get_template(name)
        return _TemplateResponse(
            template,
            context,
            status_code=status_code,
            headers=headers,
            media_type=media_type,
            background=background,
        )


def page_lang(request: Request) -> str:
    """The language a page is rendered in: the visitor's, except in the back office."""
    if request.scope["path"].startswith(BACK_OFFICE_PREFIX):  # no URL object to build
        return i18n.DEFAULT
    return i18n.lang_of(request)


def make_templates(directory: Path, static_url: Callable[[str], str]) -> LocalizedTemplates:
    """The site's templates; ``static_url`` names a static file under its hashed address."""
    return LocalizedTemplates(directory, static_url)


def _environment(directory: Path, lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=True,  # every template, whatever its file name
        auto_reload=False,
        cache_size=-1,  # never evict a compiled template
        extensions=[_Translated],
    )
    env.lang = lang  # type: ignore[attr-defined]  # read by _Translated
    translate = partial(i18n.translate, lang)
    env.globals.update(
        csrf_field=csrf.csrf_field,
        _=translate,
        lang=lambda: lang,
        html_lang=lambda: i18n.HTML_LANG[lang],
        switch_lang_url=_switch_lang_url,
        has_route=_has_route,
        label=partial(label, lang),
        duration=partial(duration, lang),
        list_updated=_list_updated,
        site_operator=_site_operator,
        feed_links=_feed_links,
    )
    env.filters["cst"] = _cst
    env.filters["mask_ids"] = mask_full_ids  # what a visitor typed, echoed back masked
    return env


class _Translated(Extension):
    """Replaces each literal ``_("…")`` and ``label('…')`` of a template's source by a string
    literal of its translation in the environment's language, and ``lang()`` and
    ``html_lang()`` by the language's codes."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        lang: str = self.environment.lang  # type: ignore[attr-defined]

        def literal(match: re.Match[str]) -> str:
            text = match[2] or match[3]
            shown = label(lang, text) if match[1] == "label" else i18n.translate(lang, text)
            return orjson.dumps(shown).decode()  # JSON string syntax is a Jinja string literal

        def lang_literal(match: re.Match[str]) -> str:
            return orjson.dumps(lang if match[1] == "lang" else i18n.HTML_LANG[lang]).decode()

        return _LANG_CALL.sub(lang_literal, _MARKED.sub(literal, source))


def label(lang: str, field: str) -> str:
    """The label of a disclosed field in ``lang``."""
    return i18n.translate(lang, FIELD_LABELS.get(field, field))


@pass_context
def _switch_lang_url(context: Context) -> str:
    """This page in the other language. A posted page links to its blank form, and a full ID
    number someone put in the address (a search field, or a path that is then a 404) is not
    copied into the link: the link drops that parameter, or goes to the home page."""
    request: Request = context["request"]
    other = "en" if i18n.lang_of(request) == "zh" else "zh"
    path = request.url.path
    if _carries_full_id(path):
        path = "/"
    if request.method != "GET":
        return f"{path}?lang={other}"
    kept = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k != "lang"
        and not (k == "cardNum" and is_private_identifier(v))
        and not _carries_full_id(v)
    ]
    return f"{path}?{urlencode([*kept, ('lang', other)])}"


def _carries_full_id(text: str) -> bool:
    """Whether ``text`` holds anything shaped like a full ID number (masking would change it)."""
    return mask_full_ids(text) != text


@pass_context
def _feed_links(context: Context) -> list[dict[str, str]]:
    """The Atom feeds for ``<link rel="alternate">``, with the page's search filters (worked
    out once per request: the results page names them twice)."""
    request: Request = context["request"]
    links: list[dict[str, str]] | None = getattr(request.state, "feed_links", None)
    if links is None:
        links = atom_feeds.feed_links(request.query_params, i18n.lang_of(request))
        request.state.feed_links = links
    return links


@pass_context
def _has_route(context: Context, path: str) -> bool:
    request: Request = context["request"]
    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in request.app.routes)


def _settings(request: Request) -> Settings | None:
    """The portal's settings; None in an app assembled without them (as some tests do)."""
    return getattr(request.app.state, "settings", None)


@pass_context
def _site_operator(context: Context) -> Operator:
    settings = _settings(context["request"])
    return Operator.of(settings) if settings else Operator(None, None, None, None)


@pass_context
def _list_updated(context: Context) -> datetime | None:
    """When the list last changed (ListService.last_updated), reused for
    LIST_UPDATED_SECONDS. It is asked while the template renders, on the event loop: the
    cache keeps that to one small query a minute per worker, and a store that does not
    answer leaves the page up (showing the last known time, or none) rather than failing."""
    state = context["request"].app.state
    if not hasattr(state, "service"):  # an app without the list (as some tests assemble)
        return None
    cached: tuple[float, datetime | None] | None = getattr(state, "list_updated", None)
    if cached is not None and time.monotonic() - cached[0] < LIST_UPDATED_SECONDS:
        return cached[1]
    try:
        value = state.service.last_updated()
    except StoreError:
        log.warning("could not read when the list was last updated", exc_info=True)
        return cached[1] if cached is not None else None
    if value is not None:  # an empty store answers at once; its first batch shows at once
        state.list_updated = (time.monotonic(), value)
    return value


def _cst(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time in Beijing time, the way the courts' documents write it."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(CST).strftime(fmt)


# (upper bound in seconds, unit size, Chinese unit, English unit)
_UNITS = (
    (60, 1, "秒", "seconds"),
    (3600, 60, "分钟", "minutes"),
    (86400, 3600, "小时", "hours"),
    (float("inf"), 86400, "天", "days"),
)


def duration(lang: str, seconds: float | None) -> str:
    if seconds is None:
        return "—"
    english = lang == "en"
    if seconds < 1:
        return "under 1 second" if english else "不到 1 秒"
    for bound, size, zh, en in _UNITS:
        if seconds < bound:
            amount = f"{seconds / size:.1f}".removesuffix(".0")
            return f"{amount} {en}" if english else f"{amount} {zh}"
    raise AssertionError("unreachable")
