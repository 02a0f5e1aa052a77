"""The screening upload: ``/screening`` takes a CSV or XLSX list of counterparties and
answers at once with the job's page, ``/screening/<token>``, which refreshes itself (a meta
refresh, no JavaScript) until the background rounds have matched every row, then shows a
summary, the rows that could not be checked and the result file as CSV and XLSX.

The token in the address is the only way to a job: jobs are never listed, and every page
and file of one is ``Cache-Control: no-store``. An anonymous upload may have
``ANONYMOUS_ROWS`` rows, and a client address ``ANONYMOUS_FILES`` uploads a day; a unit
logged in to the back office may upload up to ``UNIT_ROWS`` at ``/unit/screening`` (the
session cookie is sent under /unit/ only: portal/sessions.py); its job page is the same.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from anyio import to_thread
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import sessions
from portal.csrf import CsrfError, checked_form
from portal.i18n import lang_of, translate
from portal.render import forbidden, render
from portal.unit_pages import LOGIN_PATH
from screening import results
from screening.jobs import Screenings
from screening.upload import UploadError, read_upload

ANONYMOUS_ROWS = 200
ANONYMOUS_FILES = 3  # uploads a day per client address
UNIT_ROWS = 10_000
REFRESH_SECONDS = 3
ROUND_ROWS = 1000  # rows one background round matches (a few seconds), then the next round
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What is wrong with the file as a whole (screening/upload.py), by code.
FILE_ERRORS = {
    "no_file": "请选择要上传的文件",
    "wrong_type": "文件类型不对：请上传 CSV（.csv）或 Excel（.xlsx）文件",
    "bad_encoding": (
        "无法识别文件的编码（第 {line} 行）：请在 Excel 中“另存为”“CSV UTF-8（逗号分隔）”后重新上传"
    ),
    "bad_xlsx": "无法读取这个 Excel 文件（不是有效的 .xlsx 文件，或已损坏）",
    "too_large": "这个 Excel 文件解压后过大，不像一份名单：请只保留需要核对的列和行",
    "no_name_column": (
        "找不到姓名或名称一列：请在第一行写列名，如“姓名/名称”“证件号码”“备注”（或 name、id、ref）"
    ),
    "no_rows": "文件中没有要核对的行",
    "too_many_rows": "行数过多：一次最多 {limit} 行",
    "too_many_rows_anonymous": "行数过多：未登录时一次最多 {limit} 行；单位登录后最多 {units} 行",
    "too_many_files": (
        "今天的上传次数已用完（未登录时每天 {limit} 个文件），请明天再试或登录单位账号"
    ),
}
# Why a row could not be checked (screening/queries.py, search_index/identifiers.py).
ROW_ERRORS = {
    "too_long": "内容过长",
    "no_name": "缺少姓名或名称",
    "no_letters": "姓名或名称中没有可检索的文字或数字",
    "number_lost_digits": "证件号码存为数字，Excel 已丢失末尾几位：请把该列设为“文本”后重新录入",
    "bad_id_checksum": "身份证号码校验位不对",
    "bad_id_birthdate": "身份证号码中的出生日期不存在",
    "bad_id_region": "身份证号码前六位不能全为 0",
    "bad_credit_code_checksum": "统一社会信用代码校验位不对",
    "bad_credit_code_charset": "统一社会信用代码不使用字母 I、O、S、V、Z",
    "bad_org_code_checksum": "组织机构代码校验位不对",
    "unrecognized_identifier": "不是证件号码：应为身份证号码、统一社会信用代码或组织机构代码",
}
ROW_ERROR = "无法核对"


def _screenings(request: Request) -> Screenings:
    return request.app.state.screenings


UNIT_PATH = "/unit/screening"


async def upload_form(request: Request) -> Response:
    if _for_units(request) and await sessions.current_actor(request) is None:
        return _see_other(LOGIN_PATH)
    return await _form(request)


async def upload(request: Request) -> Response:
    try:
        form = await checked_form(request, max_files=1)
    except CsrfError:
        return forbidden(request)
    file = form.get("file")
    if not isinstance(file, UploadFile) or not (file.filename or file.size):
        return await _form(request, ("no_file", {}), status_code=400)
    data = await file.read()
    await file.close()
    actor = await sessions.current_actor(request) if _for_units(request) else None
    if _for_units(request) and actor is None:
        return _see_other(LOGIN_PATH)
    jobs = _screenings(request)
    client = f"unit:{actor.unit_code}" if actor else request.app.clients.resolve(request.scope)
    if actor is None:
        used = await to_thread.run_sync(jobs.files_today, client)
        if used >= ANONYMOUS_FILES:
            return await _form(request, ("too_many_files", {"limit": ANONYMOUS_FILES}), 429)
    limit = UNIT_ROWS if actor else ANONYMOUS_ROWS
    filename = file.filename or ""
    try:
        rows = await to_thread.run_sync(read_upload, filename, data, limit)
    except UploadError as exc:
        code, params = exc.code, exc.params
        if code == "too_many_rows" and actor is None:
            code, params = "too_many_rows_anonymous", {**params, "units": UNIT_ROWS}
        return await _form(request, (code, params), status_code=400)
    token = await to_thread.run_sync(jobs.create, rows, filename, client)
    return _see_other(f"/screening/{token}")


async def job_page(request: Request) -> Response:
    jobs = _screenings(request)
    token = request.path_params["token"]
    progress = await to_thread.run_sync(jobs.progress, token)
    if progress is None:
        return render(request, "404.html", status_code=404, private=True)
    bad: list[dict[str, Any]] = []
    if progress.finished:
        rows = await to_thread.run_sync(jobs.results, token) or []
        lang = lang_of(request)
        bad = [
            {"row_no": row.row_no, "problem": translate(lang, ROW_ERRORS.get(row.error, ROW_ERROR))}
            for row in rows
            if row.error
        ]
    context = {
        "progress": progress,
        "token": token,
        "bad": bad,
        "refresh": None if progress.finished else REFRESH_SECONDS,
        "retention_hours": _hours(progress.expires_at - progress.created_at),
    }
    return render(request, "screening_job.html", context, private=True)


async def result_file(request: Request) -> Response:
    token, kind = request.path_params["token"], request.path_params["kind"]
    lang = lang_of(request)
    body = await to_thread.run_sync(
        results.result_file,
        _screenings(request),
        token,
        kind,
        lang,
        base_url(request),
        row_errors(lang),
    )
    if body is None:
        return render(request, "404.html", status_code=404, private=True)
    return result_response(body, kind)


def base_url(request: Request) -> str:
    """The site's address for the result file's links."""
    return request.app.state.settings.public_url or str(request.base_url).rstrip("/")


def row_errors(lang: str) -> dict[str, str]:
    return {code: translate(lang, text) for code, text in ROW_ERRORS.items()}


def result_response(body: bytes, kind: str) -> Response:
    media = "text/csv; charset=utf-8" if kind == "csv" else XLSX
    return Response(
        body,
        media_type=media,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="screening-result.{kind}"',
        },
    )


async def _form(
    request: Request, error: tuple[str, dict[str, Any]] | None = None, status_code: int = 200
) -> Response:
    actor = await sessions.current_actor(request) if _for_units(request) else None
    message = None
    if error is not None:
        code, params = error
        message = translate(lang_of(request), FILE_ERRORS[code]).format(**params)
    context = {
        "error": message,
        "action": UNIT_PATH if actor else "/screening",
        "unit_path": UNIT_PATH,
        "unit": actor is not None,
        "anonymous_rows": ANONYMOUS_ROWS,
        "anonymous_files": ANONYMOUS_FILES,
        "unit_rows": UNIT_ROWS,
    }
    return render(request, "screening.html", context, status_code=status_code, private=True)


def _for_units(request: Request) -> bool:
    return request.url.path == UNIT_PATH


def _see_other(url: str) -> Response:
    return Response(status_code=303, headers={"Location": url, "Cache-Control": "no-store"})


def _hours(span: timedelta) -> int:
    return max(1, round(span.total_seconds() / 3600))


routes = [
    Route("/screening", upload_form, methods=["GET"]),
    Route("/screening", upload, methods=["POST"]),
    Route(UNIT_PATH, upload_form, methods=["GET"]),
    Route(UNIT_PATH, upload, methods=["POST"]),
    Route("/screening/{token:str}", job_page, methods=["GET"]),
    Route("/screening/{token:str}/result.{kind:str}", result_file, methods=["GET"]),
]
