"""The language of an API error message: Chinese, or English when the client prefers it.

The JSON API takes no ``?lang=`` (it refuses parameters it does not name) and sets no
cookies, so the client says it with ``Accept-Language``: English when the language it
ranks highest is English (``en``, ``en-US``, …), Chinese otherwise, and whenever the header
is missing or unreadable.
"""

from __future__ import annotations

from starlette.requests import Request


def api_lang(request: Request) -> str:
    """``"en"`` or ``"zh"``."""
    best, best_q = "", 0.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        q = _quality(params)
        if tag and q > best_q:
            best, best_q = tag.strip().lower(), q
    return "en" if best == "en" or best.startswith("en-") else "zh"


def _quality(params: str) -> float:
    name, _, value = params.strip().partition("=")
    if name.strip() != "q":
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0
