"""The Jinja environment of the pages: autoescaping, and the globals every template may use.

- ``csrf_field()``: the hidden CSRF input; every ``<form method="post">`` includes it.
- ``_("…")``, ``lang()``, ``switch_lang_url()``: the language of the static text.
- ``has_route("/complaints/new")``: link to a page only once it exists.
- ``label(field)``: the Chinese (or English) label of a disclosed field.
- ``duration(seconds)``: a latency in words.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.routing import Match
from starlette.templating import Jinja2Templates

from portal import csrf, i18n
from portal.messages import FIELD_LABELS
from portal.search_form import is_private_identifier
from search_index.dates import CST


def make_templates(directory: Path) -> Jinja2Templates:
    templates = Jinja2Templates(directory=directory)
    env = templates.env
    env.autoescape = True  # every template, whatever its file name
    env.globals.update(
        csrf_field=csrf.csrf_field,
        _=i18n.gettext,
        lang=i18n.current_lang,
        html_lang=_html_lang,
        switch_lang_url=_switch_lang_url,
        has_route=_has_route,
        label=_label,
        duration=_duration,
    )
    env.filters["cst"] = _cst
    return templates


@pass_context
def _html_lang(context: Context) -> str:
    return i18n.HTML_LANG[i18n.lang_of(context["request"])]


@pass_context
def _label(context: Context, field: str) -> str:
    return i18n.translate(i18n.lang_of(context["request"]), FIELD_LABELS.get(field, field))


@pass_context
def _switch_lang_url(context: Context) -> str:
    """This page in the other language. A posted page links to its blank form, and a full ID
    number someone put in the address is not copied into the link."""
    request: Request = context["request"]
    other = "en" if i18n.lang_of(request) == "zh" else "zh"
    if request.method != "GET":
        return f"{request.url.path}?lang={other}"
    kept = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k != "lang" and not (k == "cardNum" and is_private_identifier(v))
    ]
    return f"{request.url.path}?{urlencode([*kept, ('lang', other)])}"


@pass_context
def _has_route(context: Context, path: str) -> bool:
    request: Request = context["request"]
    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in request.app.routes)


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


@pass_context
def _duration(context: Context, seconds: float | None) -> str:
    if seconds is None:
        return "—"
    english = i18n.lang_of(context["request"]) == "en"
    if seconds < 1:
        return "under 1 second" if english else "不到 1 秒"
    for bound, size, zh, en in _UNITS:
        if seconds < bound:
            amount = f"{seconds / size:.1f}".removesuffix(".0")
            return f"{amount} {en}" if english else f"{amount} {zh}"
    raise AssertionError("unreachable")
