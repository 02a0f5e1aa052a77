"""The language of the static text: Simplified Chinese, with English where it is cheap.

Templates write the Chinese text and wrap it: ``{{ _("查询") }}``. The Chinese is the key,
so a page reads naturally in its template and a string missing from the English catalogue
simply stays Chinese. Data (names, courts, duties) is never translated: it stays as the
court published it.

``?lang=en`` (or ``?lang=zh``) on any page switches and is remembered in a cookie, so the
switch works without JavaScript.
"""

from __future__ import annotations

from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import Response

from portal import cookies
from portal.translations import EN

LANGS = ("zh", "en")
DEFAULT = "zh"
COOKIE = "shixin_lang"
HTML_LANG = {"zh": "zh-CN", "en": "en"}


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    remembered = request.cookies.get(COOKIE)
    return remembered if remembered in LANGS else DEFAULT


def translate(lang: str, text: str) -> str:
    if lang == "en":
        return EN.get(text, text)
    return text


@pass_context
def gettext(context: Context, text: str) -> str:
    """``_("…")`` in templates: plain text, so Jinja still escapes it (and what it formats)."""
    return translate(lang_of(context["request"]), text)


@pass_context
def current_lang(context: Context) -> str:
    return lang_of(context["request"])


def remember(request: Request, response: Response) -> None:
    """Keep an explicit ``?lang=`` choice for the following pages."""
    asked = request.query_params.get("lang")
    if asked in LANGS and request.cookies.get(COOKIE) != asked:
        response.set_cookie(
            COOKIE,
            asked,
            max_age=365 * 24 * 3600,
            **cookies.options(request),
        )
