"""The JSON API (``/api/v1``): search, entries, ingest and the compliance report."""

from __future__ import annotations

import hashlib
import io
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import api_ingest_jobs, api_page, openapi, related, search_threads
from portal.api_query import empty_date, strict_query
from portal.openapi_paths import search_body_schema
from portal.responses import (
    EMPTY_BATCH,
    JSONResponse,
    api_error,
    page_item_json,
    search_page_items,
    search_response,
    shown_name,
    unknown_names_message,
)
from search_index.ingest import (
    XLSX_TYPE,
    IngestReport,
    Record,
    csv_records,
    jsonl_records,
    sniff_format,
    xlsx_records,
)
from search_index.normalize import normalize_place
from search_index.query import QueryError
from search_index.service import EntryGone, EntryNotFound, ListService

SEARCH_BODY_LIMIT = 16 * 1024
JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/json", "text/plain")
# Read by their content (and X-Filename): what browsers and upload tools send for files.
SNIFFED_TYPES = ("application/octet-stream", "application/vnd.ms-excel")
INGEST_TYPES = (*JSONL_TYPES, "text/csv", XLSX_TYPE, *SNIFFED_TYPES)
BOM = b"\xef\xbb\xbf"
# The fields of a search body and their schemas: the document's own (portal/openapi_paths.py).
SEARCH_FIELDS: dict[str, dict[str, Any]] = search_body_schema()["properties"]


def _service(request: Request) -> ListService:
    return request.app.state.service


async def search_entries(request: Request) -> Response:
    service = _service(request)
    if (refused := empty_date(request.query_params)) is not None:
        return refused
    try:
        return await _searched(request, service, request.query_params)
    except QueryError as exc:
        return api_error(400, exc.code, exc.message, field=exc.field)


async def search_entries_posted(request: Request) -> Response:
    """The same search with its parameters in a JSON body, so that an ID number stays out
    of URLs (proxy and server logs, histories)."""
    body = await request.body()
    if len(body) > SEARCH_BODY_LIMIT:
        return _too_large(SEARCH_BODY_LIMIT)
    try:
        params = _search_params(orjson.loads(body or b"{}"))
    except orjson.JSONDecodeError:
        params = None
    except QueryError as exc:
        return api_error(400, exc.code, exc.message, field=exc.field)
    if params is None:
        return api_error(
            400, "bad_query", '请求体应为 JSON 对象，各值为文本或整数，如 {"cardNum": "…"}'
        )
    if (refused := empty_date(params)) is not None:
        return refused
    try:
        response = await _searched(request, _service(request), params)
    except QueryError as exc:
        return api_error(400, exc.code, exc.message, field=exc.field)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _searched(request: Request, service: ListService, params: Mapping[str, str]) -> Response:
    """The results page of ``params``, each person on it with the organizations their name
    represents (if any). One trip to a worker thread for both lookups: on a busy worker the
    hop costs about as much as the related lookup itself."""

    def run() -> Response:
        page = service.search(params)
        shown = search_page_items(page)
        found = related.lookup(service, shown)
        return search_response(page, related.with_related(page_item_json(page), shown, found))

    return await to_thread.run_sync(run, limiter=search_threads.limiter(request))


def _search_params(body: object) -> dict[str, str] | None:
    """The search parameters of a JSON body, as text (what the query string would carry);
    None when the body is not an object. Each field must be one the body schema names, of a
    JSON type it allows (``QueryError`` naming the field otherwise): ``{"region": 0}`` or a
    misspelt ``{"perpage": 5}`` is refused, not read as something else or dropped."""
    if not isinstance(body, dict):
        return None
    params = {}
    for name, value in body.items():
        schema = SEARCH_FIELDS.get(name)
        if schema is None:
            message = unknown_names_message("字段", [name], list(SEARCH_FIELDS))
            raise QueryError(shown_name(name), message)
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_json_type(value, kind) for kind in types):
            wanted = "整数或整数的文本" if "integer" in types else "文本"
            raise QueryError(name, f"{name} 应为{wanted}")
        params[name] = str(value)
    return params


def _is_json_type(value: object, kind: str) -> bool:
    if kind == "integer":  # bool is an int in Python, not in JSON
        return isinstance(value, int) and not isinstance(value, bool)
    return kind == "string" and isinstance(value, str)


async def get_entry(request: Request) -> JSONResponse:
    service = _service(request)
    entry_id = request.path_params["entry_id"]
    try:
        view = await to_thread.run_sync(service.entry, entry_id)
    except EntryNotFound:
        return api_error(404, "not_found", "没有这个条目")
    except EntryGone:
        return api_error(410, "removed", "该条目已依法屏蔽、删除、撤销或有效期届满，不再公开")
    entry = view.to_api()
    found = await to_thread.run_sync(related.lookup, service, [entry])
    if found:
        entry["relatedOrganizations"] = related.for_api(found[0])
    return JSONResponse(entry)


async def ingest(request: Request) -> Response:
    service = _service(request)
    token = _bearer(request)
    info = await to_thread.run_sync(service.authenticate_token, token) if token else None
    if info is None:
        response = api_error(401, "unauthorized", "缺少或无效的令牌（Authorization: Bearer …）")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not (content_type in INGEST_TYPES or not content_type):
        return api_error(  # before reading a body we would not understand
            415,
            "unsupported_media_type",
            "请以 application/x-ndjson（JSON Lines）、text/csv 或"
            " application/vnd.openxmlformats-officedocument.spreadsheetml.sheet（.xlsx）提交",
        )
    limit = request.app.state.settings.ingest_max_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        return _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return _too_large(limit)
    if not bytes(body).removeprefix(BOM).strip():  # whatever the format: nothing was sent
        return api_error(400, "bad_request", EMPTY_BATCH)
    records = _ingest_records(content_type, request.headers.get("x-filename"), bytes(body))
    digest = hashlib.sha256(body).hexdigest()
    if api_ingest_jobs.goes_async(request, body):  # kept, then run in the background: 202
        accepted = await api_ingest_jobs.submit(request, info, records, digest)
        return accepted or api_error(400, "bad_request", EMPTY_BATCH)

    def run() -> IngestReport | None:  # reading the first line may parse a whole XLSX file
        lines = iter(records)
        first = next(lines, None)
        if first is None:  # nothing to record: not a batch of zero lines
            return None
        return service.ingest(
            itertools.chain([first], lines),
            source=f"api:{info.unit}",
            filename=request.headers.get("x-filename"),
            sha256=digest,
            court_scope=info.court_scope,
        )

    report = await to_thread.run_sync(run)
    if report is None:
        return api_error(400, "bad_request", EMPTY_BATCH)
    status = 422 if report.rejected and not (report.accepted or report.duplicates) else 200
    return JSONResponse(report.answer(), status_code=status)


def _ingest_records(content_type: str, filename: str | None, body: bytes) -> Iterable[Record]:
    """The records of an ingest body: JSON Lines, CSV (UTF-8 or GB 18030, found out from the
    bytes) or XLSX. Without a content type, or with a generic one (a browser's upload), the
    file name's extension (X-Filename) and then the first bytes decide."""
    if content_type in JSONL_TYPES:
        fmt = "jsonl"
    elif content_type in ("text/csv", XLSX_TYPE):
        fmt = sniff_format(None, content_type)
    else:
        fmt = sniff_format(filename, None, body[:4096])
    if fmt == "csv":
        return csv_records(body)
    if fmt == "xlsx":
        return xlsx_records(io.BytesIO(body))
    return jsonl_records(body.splitlines())


async def compliance_report(request: Request) -> JSONResponse:
    """Public: counts, latencies and every problem removal by reference number. With a
    unit's ingest token: also which entry and the court's reason, for follow-up (a court's
    token: for that court's entries only)."""
    service = _service(request)
    token = _bearer(request)
    unit = await to_thread.run_sync(service.authenticate_token, token) if token else None
    report = await to_thread.run_sync(service.compliance)
    if unit is None:
        return JSONResponse(report.as_dict(public=True))
    scope = normalize_place(unit.court_scope) if unit.court_scope else None
    return JSONResponse(report.as_dict(court_scope=scope))


async def health(request: Request) -> JSONResponse:
    result = await to_thread.run_sync(_service(request).health)
    return JSONResponse(result, status_code=200 if result["ok"] else 503)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _too_large(limit: int) -> JSONResponse:
    size = f"{limit / 2**20:.1f} MB" if limit >= 2**20 else f"{limit / 1024:.1f} KB"
    return api_error(413, "too_large", f"提交内容过大（上限 {size}），请分批提交")


# Every /api/v1 endpoint refuses query parameters its operation does not name (api_query).
routes = strict_query(
    [
        Route("/api/v1/entries", search_entries, methods=["GET"]),
        Route("/api/v1/search", search_entries_posted, methods=["POST"]),
        Route("/api/v1/entries/{entry_id:str}", get_entry, methods=["GET"]),
        Route("/api/v1/ingest", ingest, methods=["POST"]),
        Route("/api/v1/compliance", compliance_report, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/api/v1/openapi.json", openapi.openapi_json, methods=["GET"]),
        Route("/api", api_page.api_page, methods=["GET"]),  # the same document, for people
    ]
)
