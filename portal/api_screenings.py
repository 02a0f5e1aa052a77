"""Screenings through the API, for a client holding an API key (portal/api_key_auth.py):

- ``POST /api/v1/screenings``: a list of up to ``API_ROWS`` counterparties, as a CSV or XLSX
  file (multipart ``file``, read as the upload page reads it) or as JSON rows
  ``{"rows": [{"name", "cardNum", "ref"}]}``; answered at once with 202 and the job;
- ``GET /api/v1/screenings/{id}``: its status and progress, and once done the summary and
  the rows that could not be checked;
- ``GET /api/v1/screenings/{id}/result.csv`` and ``…/result.xlsx``: the upload page's
  result files.

The job is the upload page's (screening/jobs.py: matched by the same background rounds,
deleted after the same retention); its id is the job's token. A job belongs to the key that
sent it: under any other key, and without one, it does not exist (404). A request without a
key is refused with 401 ``api_key_required`` and where to get one: the anonymous budget of
the upload page (``/screening``) is for people, ``POST /api/v1/match`` for a hundred names
without a key. A key may start ``API_FILES`` screenings a day.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from anyio import to_thread
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.api_lang import api_lang
from portal.api_match import BodyError, known_fields
from portal.api_query import strict_query
from portal.api_screening_texts import (
    API_FILES,
    API_ROWS,
    NEEDS_KEY,
    PATH,
    ROW_FIELDS,
    UNSUPPORTED,
)
from portal.i18n import translate
from portal.openapi_base import size_text
from portal.ratelimit import API_KEY_SCOPE
from portal.responses import JSONResponse, api_error
from portal.screening_pages import (
    FILE_ERRORS,
    ROW_ERROR,
    ROW_ERRORS,
    base_url,
    result_response,
    row_errors,
)
from screening import results
from screening.jobs import Progress, Screenings
from screening.upload import UploadError, UploadRow, read_rows, read_upload


def _jobs(request: Request) -> Screenings:
    return request.app.state.screenings


def _client(request: Request) -> str | None:
    """Whose jobs these are: the key's (the middleware checked it), or nobody's."""
    key_id = request.scope.get(API_KEY_SCOPE)
    return None if key_id is None else f"api-key:{key_id}"


def _needs_key(request: Request) -> Response:
    response = api_error(401, "api_key_required", NEEDS_KEY[api_lang(request)])
    response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return _private(response)


def _not_found(request: Request) -> Response:
    en = api_lang(request) == "en"
    message = "No such screening (or not yours)" if en else "没有这个筛查任务（或不属于这个密钥）"
    return _private(api_error(404, "not_found", message))


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # rows and results carry names
    return response


async def create(request: Request) -> Response:
    client = _client(request)
    if client is None:
        return _needs_key(request)
    lang = api_lang(request)
    jobs = _jobs(request)
    if await to_thread.run_sync(jobs.files_today, client) >= API_FILES:
        zh = f"这个密钥今天的筛查次数已用完（每天 {API_FILES} 次），请明天再试"
        en = f"This key has started its {API_FILES} screenings for today: try again tomorrow"
        return _private(api_error(429, "quota_exceeded", en if lang == "en" else zh))
    limit = request.app.state.settings.upload_max_bytes
    body = await _body(request, limit)
    if body is None:
        zh, en = f"提交内容过大（上限 {size_text(limit)}）", f"The body is over {size_text(limit)}"
        return _private(api_error(413, "too_large", en if lang == "en" else zh))
    try:
        filename, rows = await _rows(request, body, lang)
    except BodyError as exc:
        return _private(exc.response(lang))
    token = await to_thread.run_sync(jobs.create, rows, filename, client)
    progress = await to_thread.run_sync(jobs.progress, token)
    assert progress is not None  # just written
    response = JSONResponse(_job(token, progress, []), status_code=202)
    response.headers["Location"] = f"{PATH}/{token}"
    return _private(response)


async def _body(request: Request, limit: int) -> bytes | None:
    """The body, or None once it is over ``limit`` bytes (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _rows(request: Request, body: bytes, lang: str) -> tuple[str, list[UploadRow]]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        return "api.json", await to_thread.run_sync(json_rows, body)
    if kind != "multipart/form-data":
        raise _unsupported()
    name, data = await _file(request, body)
    try:
        return name, await to_thread.run_sync(read_upload, name, data, API_ROWS)
    except UploadError as exc:
        params = {"limit": API_ROWS, **exc.params}
        text = FILE_ERRORS[exc.code]
        zh, en = text.format(**params), translate("en", text).format(**params)
        raise BodyError(422, "file", zh, en) from None


def _unsupported() -> BodyError:
    return BodyError(415, None, *UNSUPPORTED)


async def _file(request: Request, body: bytes) -> tuple[str, bytes]:
    async def once() -> AsyncIterator[bytes]:
        yield body

    parser = MultiPartParser(
        request.headers, once(), max_files=1, max_fields=10, max_part_size=64 * 1024
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise BodyError(400, "file", f"无法读取上传的表单：{exc.message}", exc.message) from exc
    file = form.get("file")
    if not isinstance(file, UploadFile):
        await form.close()
        raise BodyError(400, "file", "缺少文件（字段 file）", "No file (field file)")
    data = await file.read()
    await form.close()
    return file.filename or "upload", data


def json_rows(body: bytes) -> list[UploadRow]:
    """The rows of a JSON body, or ``BodyError``. A row that cannot be matched (an empty
    name, an invalid identifier) is kept with its error, as a file's row is."""
    try:
        data = orjson.loads(body or b"null")
    except orjson.JSONDecodeError:
        data = None
    example = '{"rows": [{"name": "张伟", "cardNum": "…", "ref": "…"}]}'
    if not isinstance(data, dict):
        raise BodyError(400, None, f"请求体应为 JSON 对象，如 {example}", f"Send {example}")
    known_fields(data, ("rows",), "")
    rows = data.get("rows")
    if not isinstance(rows, list):
        raise BodyError(400, "rows", "rows 应为数组（缺少或类型不对）", "rows must be an array")
    if not rows:
        raise BodyError(422, "rows", "rows 中没有要核对的行", "rows is empty")
    if len(rows) > API_ROWS:
        zh = f"行数过多：一次最多 {API_ROWS} 行，本次 {len(rows)} 行"
        raise BodyError(422, "rows", zh, f"At most {API_ROWS} rows ({len(rows)} sent)")
    items = []
    for i, row in enumerate(rows):
        where = f"rows[{i}]"
        if not isinstance(row, dict):
            raise BodyError(400, where, f"{where} 应为 JSON 对象", f"{where} must be an object")
        known_fields(row, ROW_FIELDS, f"{where}.")
        for key in ROW_FIELDS:
            if not isinstance(row.get(key), str | None):
                field = f"{where}.{key}"
                raise BodyError(400, field, f"{field} 应为文本", f"{field} must be a string")
        items.append((row.get("name") or "", row.get("cardNum"), row.get("ref")))
    return read_rows(items)


async def status(request: Request) -> Response:
    client = _client(request)
    if client is None:
        return _needs_key(request)
    jobs, token = _jobs(request), request.path_params["token"]
    progress = await to_thread.run_sync(lambda: jobs.progress(token, client=client))
    if progress is None:
        return _not_found(request)
    problems: list[dict[str, Any]] = []
    if progress.finished:
        rows = await to_thread.run_sync(lambda: jobs.results(token, client=client)) or []
        lang = api_lang(request)
        problems = [
            {
                "row": row.row_no,
                "code": row.error,
                "message": translate(lang, ROW_ERRORS.get(row.error, ROW_ERROR)),
            }
            for row in rows
            if row.error
        ]
    return _private(JSONResponse(_job(token, progress, problems)))


async def result(request: Request) -> Response:
    client = _client(request)
    if client is None:
        return _needs_key(request)
    jobs, token, kind = _jobs(request), request.path_params["token"], request.path_params["kind"]
    progress = await to_thread.run_sync(lambda: jobs.progress(token, client=client, summary=False))
    if progress is None or kind not in ("csv", "xlsx"):
        return _not_found(request)
    lang = api_lang(request)
    if not progress.finished:
        zh = f"筛查尚未完成（已核对 {progress.done}/{progress.total} 行），请稍后再取"
        en = f"Not finished yet ({progress.done} of {progress.total} rows): try again later"
        return _private(api_error(409, "conflict", en if lang == "en" else zh))
    body = await to_thread.run_sync(
        lambda: results.result_file(
            jobs, token, kind, lang, base_url(request), row_errors(lang), client
        )
    )
    if body is None:  # swept meanwhile
        return _not_found(request)
    return result_response(body, kind)


def _job(token: str, progress: Progress, problems: list[dict[str, Any]]) -> dict[str, Any]:
    url = f"{PATH}/{token}"
    return {
        "id": token,
        "status": "done" if progress.finished else "running",
        "filename": progress.filename,
        "total": progress.total,
        "done": progress.done,
        "createdAt": progress.created_at.isoformat(),
        "finishedAt": progress.finished_at.isoformat() if progress.finished_at else None,
        "expiresAt": progress.expires_at.isoformat(),
        "summary": progress.summary if progress.finished else None,
        "problems": problems,
        "links": {
            "self": url,
            "csv": f"{url}/result.csv" if progress.finished else None,
            "xlsx": f"{url}/result.xlsx" if progress.finished else None,
        },
    }


# Like every /api/v1 endpoint, they refuse query parameters (api_query).
routes = strict_query(
    [
        Route(PATH, create, methods=["POST"]),
        Route(PATH + "/{token:str}", status, methods=["GET"]),
        Route(PATH + "/{token:str}/result.{kind:str}", result, methods=["GET"]),
    ]
)
