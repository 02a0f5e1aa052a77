"""For media and republishers: the public list as a file (``/api/v1/export``), the change
feed (``/api/v1/changes``) and the latest full snapshot (``/api/v1/snapshot``).

One export route with ``?format=csv|xlsx|jsonl`` rather than three paths: the filters, the
limits and the document are the same for every format. The file streams from one read
transaction (``ListService.export``); the snapshot time and feed cursor are in the
response's headers as well as in the file, so a mirror need not parse the file to know
where to follow the feed from.
"""

from __future__ import annotations

from anyio import to_thread
from starlette.concurrency import iterate_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route

from portal.api_query import empty_date, strict_query
from portal.responses import JSONResponse, api_error
from portal.translations import FIELD_LABELS
from search_index.export_formats import FORMATS
from search_index.feed import DEFAULT_LIMIT, MAX_LIMIT, CursorError
from search_index.query import QueryError
from search_index.service import ListService

# The site's labels (portal/translations.py) for the export's columns; the ID column holds
# organizations' codes too, and persons' numbers only masked.
EXPORT_LABELS = {
    **FIELD_LABELS,
    "id": "条目编号",
    "status": "状态",
    "cardNum": "证件号码（身份证号码已打码）",
}
KEYS = ("zh", "en")


def _service(request: Request) -> ListService:
    return request.app.state.service


async def export(request: Request) -> Response:
    params = request.query_params
    fmt = params.get("format", "csv")
    if fmt not in FORMATS:
        return api_error(400, "bad_query", "format 应为 csv、xlsx 或 jsonl", field="format")
    keys = params.get("keys", "zh")
    if keys not in KEYS:
        return api_error(
            400, "bad_query", "keys 应为 zh（中文表头）或 en（英文字段名）", field="keys"
        )
    labels = EXPORT_LABELS if keys == "zh" else None
    if (refused := empty_date(params)) is not None:
        return refused
    try:
        snap, body = await to_thread.run_sync(_service(request).export, params, fmt, labels)
    except QueryError as exc:
        return api_error(400, exc.code, exc.message, field=exc.field)
    stamp = f"{snap.taken_at:%Y%m%dT%H%M%SZ}"
    headers = {
        "Content-Disposition": f'attachment; filename="shixin-{stamp}.{fmt}"',
        "X-Snapshot-At": snap.taken_at.isoformat(timespec="seconds"),
        "X-Feed-Cursor": snap.cursor,
        "Cache-Control": "no-store",
    }
    return StreamingResponse(iterate_in_threadpool(body), media_type=FORMATS[fmt], headers=headers)


async def changes(request: Request) -> Response:
    params = request.query_params
    raw_limit = params.get("limit", str(DEFAULT_LIMIT))
    if not (raw_limit.isascii() and raw_limit.isdigit() and 1 <= int(raw_limit) <= MAX_LIMIT):
        return api_error(400, "bad_query", f"limit 应为 1 到 {MAX_LIMIT} 的整数", field="limit")
    try:
        page = await to_thread.run_sync(
            _service(request).changes, params.get("since", ""), int(raw_limit)
        )
    except CursorError:
        return api_error(
            400, "bad_query", "since 不是本接口给出的游标（next 或快照的 cursor）", field="since"
        )
    return JSONResponse(page.as_dict(), headers={"Cache-Control": "no-store"})


async def latest_snapshot(request: Request) -> Response:
    path = await to_thread.run_sync(_service(request).latest_snapshot)
    if path is None:
        return api_error(404, "not_found", "还没有快照（由 shixin snapshot 每日生成）")
    checksum = path.with_name(path.name + ".sha256").read_text(encoding="ascii").split()[0]
    headers = {"X-Checksum-Sha256": checksum, "Cache-Control": "no-cache"}
    return FileResponse(path, media_type=FORMATS["jsonl"], filename=path.name, headers=headers)


routes = strict_query(
    [
        Route("/api/v1/export", export, methods=["GET"]),
        Route("/api/v1/changes", changes, methods=["GET"]),
        Route("/api/v1/snapshot", latest_snapshot, methods=["GET"]),
    ]
)
