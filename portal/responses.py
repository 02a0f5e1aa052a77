"""Response helpers: fast JSON, and the one error shape of the API."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from search_index.types import SearchPage


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def api_error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """``{"error": {"code": ..., "message": ...}}``: a machine code and a sentence for people."""
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


def search_page_json(page: SearchPage) -> bytes:
    """``{"total", "page", "perPage", "items"}`` of a results page, byte for byte what
    ``JSONResponse`` makes of it, but from each item's stored JSON when the backend has it."""
    items = page.api_items
    if items is None:
        items = [orjson.dumps(doc.to_api(), option=orjson.OPT_NON_STR_KEYS) for doc in page.items]
    head = b'{"total":%d,"page":%d,"perPage":%d,"items":[' % (page.total, page.page, page.per_page)
    return b"".join((head, b",".join(items), b"]}"))


def search_page_items(page: SearchPage) -> list[dict[str, Any]]:
    """The API JSON of each item of a results page, as dicts: decoded from the stored JSON
    when the backend has it (cheaper than building them from documents)."""
    if page.api_items is not None:
        return [orjson.loads(item) for item in page.api_items]
    return [doc.to_api() for doc in page.items]


def search_response(page: SearchPage) -> Response:
    return Response(search_page_json(page), media_type=JSONResponse.media_type)
