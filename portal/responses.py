"""Response helpers: fast JSON, and the one error shape of the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from starlette.responses import Response

from search_index.events import mask_full_ids
from search_index.types import SearchPage

# What the 400 of an empty ingest body says (portal/api.py, and its example in the document).
EMPTY_BATCH = "请求体中没有任何数据行（空文件、只有空行或只有表头），未处理任何内容"
SHOWN_NAMES = 10  # unknown names listed in a message, at most
NAME_CHARS = 40  # characters of each unknown name shown
# Pages for people that live under /api/ (asking for an API key): HTML, the forms' budget.
KEY_PAGES = "/api/keys"


def is_api_path(path: str) -> bool:
    """Whether an address is the JSON API's (errors in its JSON shape, its budget)."""
    return path.startswith("/api/") and not (path == KEY_PAGES or path.startswith(KEY_PAGES + "/"))


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def api_error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """``{"error": {"code": ..., "message": ...}}``: a machine code and a sentence for people."""
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


def shown_name(name: str) -> str:
    """A name the client sent, as an answer may repeat it: shortened, ID numbers masked
    (answers get logged)."""
    return mask_full_ids(name[:NAME_CHARS])


def unknown_names_message(what: str, unknown: Sequence[str], known: Sequence[str]) -> str:
    """``未知的查询参数：id；可用的查询参数：q、exact、…`` (``what`` is 查询参数 or 字段): the
    names as sent (shortened, ID numbers masked: the answer may be logged), then the known
    ones."""
    names = [shown_name(n) or "（空）" for n in unknown[:SHOWN_NAMES]]
    more = f" 等 {len(unknown)} 个" if len(unknown) > SHOWN_NAMES else ""
    usable = f"可用的{what}：{'、'.join(known)}" if known else f"本接口不接受{what}"
    return f"未知的{what}：{'、'.join(names)}{more}；{usable}"


def search_page_json(page: SearchPage, items: Sequence[bytes] | None = None) -> bytes:
    """``{"total", "page", "perPage", "items"}`` of a results page, byte for byte what
    ``JSONResponse`` makes of it, but from each item's stored JSON when the backend has it
    (or from ``items``, that JSON as extended by the caller)."""
    if items is None:
        items = page_item_json(page)
    head = b'{"total":%d,"page":%d,"perPage":%d,"items":[' % (page.total, page.page, page.per_page)
    return b"".join((head, b",".join(items), b"]}"))


def page_item_json(page: SearchPage) -> Sequence[bytes]:
    """Each item's API JSON: stored by the backend, or encoded now."""
    if page.api_items is not None:
        return page.api_items
    return [orjson.dumps(doc.to_api(), option=orjson.OPT_NON_STR_KEYS) for doc in page.items]


def search_page_items(page: SearchPage) -> list[dict[str, Any]]:
    """The API JSON of each item of a results page, as dicts: decoded from the stored JSON
    when the backend has it (cheaper than building them from documents)."""
    if page.api_items is not None:
        return [orjson.loads(item) for item in page.api_items]
    return [doc.to_api() for doc in page.items]


def search_response(page: SearchPage, items: Sequence[bytes] | None = None) -> Response:
    return Response(search_page_json(page, items), media_type=JSONResponse.media_type)
