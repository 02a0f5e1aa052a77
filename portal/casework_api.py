"""The JSON API for complaints and reports: the forms of portal/casework_pages.py for apps
and the Telegram bot, over the same CaseService.

- ``GET /api/v1/casework/categories``: what a client needs to build a form.
- ``POST /api/v1/reports`` and ``/api/v1/complaints`` file a ticket; the 201 answer carries
  the access code, this once, and is ``Cache-Control: no-store``.
- ``POST /api/v1/track`` (and ``/track/add-info``, ``/track/contest``): number and code go in
  the body, never in an address. An unknown number and a wrong code get the same 404.

No cookies are read or set, so there is no CSRF token. What a cookie-less API still has to
refuse is a post a *browser* makes from another site's page (a plain HTML form may send
``multipart/form-data`` cross-site without a preflight): such a post would file tickets
from visitors' addresses, spreading a flood over many rate-limit budgets. Browsers say where
a post comes from (``Origin``, ``Sec-Fetch-Site``); apps send neither, so a foreign origin
is refused (403) and everything else is served. The site's session cookie is ignored rather
than refused: nothing here acts on a session, and a unit clerk's browser calling the API from
our own pages should not fail because it is logged in.

Bodies are limited before they are parsed (``form_max_bytes`` for JSON, ``upload_max_bytes``
for multipart with evidence files); the content type is checked before any body is read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
from anyio import to_thread
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message

from casework.errors import InvalidInput, InvalidTransition, NotFound
from casework.evidence import Upload
from casework.intake import Receipt, Submission
from casework.routing import MEASURE_UNIT, Category, Routing
from casework.service import CaseService
from casework.ticket_views import TicketView
from casework.tickets import STATE_NAMES, State
from portal import altcha
from portal.api_query import strict_query
from portal.casework_pages import ACTION_NAMES, CONTESTABLE, NOT_FOUND, public_entry
from portal.openapi_casework import ADD_INFO_REQUEST, CONTEST_REQUEST, SUBMISSION, TRACK_REQUEST
from portal.responses import JSONResponse, api_error
from search_index.dates import CST
from search_index.events import mask_full_ids

JSON_TYPE = "application/json"
MULTIPART = "multipart/form-data"
TRACK_PATH = "/track"
MAX_PARTS = 64
# Body fields (camelCase) and the Submission field each fills.
SUBMISSION_FIELDS = {
    "category": "category",
    "entryId": "entry_id",
    "debtorName": "debtor_name",
    "what": "what",
    "when": "when",
    "where": "where",
    "measure": "measure",
    "unit": "unit",
    "email": "email",
}
CAMEL = {service: api for api, service in SUBMISSION_FIELDS.items()}


class BadRequest(Exception):
    """A request this API answers with an error before reaching the domain."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _cases(request: Request) -> CaseService:
    return request.app.state.cases


# --- categories -----------------------------------------------------------------------------


async def categories(request: Request) -> Response:
    return JSONResponse(categories_json(_cases(request).routing))


def categories_json(routing: Routing) -> dict[str, Any]:
    reports = routing.reports()
    return {
        "routingVersion": routing.version,
        "jurisdiction": routing.jurisdiction,
        "areas": [
            {
                "code": code,
                "name": name,
                "categories": [_category(routing, c) for c in reports if c.area == code],
            }
            for code, name in routing.areas.items()
        ],
        "complaints": [_category(routing, c) for c in routing.complaints()],
        "measures": [{"code": c.code, "name": c.name} for c in reports],
    }


def _category(routing: Routing, category: Category) -> dict[str, Any]:
    deadlines = category.deadlines
    out: dict[str, Any] = {
        "code": category.code,
        "name": category.name,
        "route": category.route,
        "units": [_unit(routing, code) for code in category.units],
        "receivingUnit": category.receiving_unit,
        "needsMeasure": category.route == MEASURE_UNIT,
        "deadlines": {
            "accept": deadlines.accept.chinese(),
            "reply": deadlines.reply.chinese(),
            "correct": deadlines.correct.chinese() if deadlines.correct else None,
        },
        "basis": category.basis,
        "note": category.note,
    }
    if category.kind == "complaint":
        out["requiresEntryStatus"] = sorted(category.requires_entry_status)
    return out


def _unit(routing: Routing, code: str) -> dict[str, str]:
    unit = routing.unit(code)
    return {"code": code, "name": unit.name if unit else code}


# --- filing ---------------------------------------------------------------------------------


async def file_report(request: Request) -> Response:
    return await _file(request, "report")


async def file_complaint(request: Request) -> Response:
    return await _file(request, "complaint")


async def _file(request: Request, kind: str) -> Response:
    try:
        _same_site(request)
        body, files = await _submission_body(request)
        fields = _fields(body, SUBMISSION)
        payload = fields.pop("altcha", None)
        submission = await _submission(request, kind, fields, files)
    except BadRequest as exc:
        return exc.response
    cases = _cases(request)
    try:  # the checks that need no database first: a typo must not use up the proof
        await to_thread.run_sync(cases.validate, submission)
    except InvalidInput as exc:
        return _invalid(exc)
    refusal = await _proof(request, payload)
    if refusal is not None:
        return refusal
    try:
        receipt = await to_thread.run_sync(cases.submit, submission)
    except InvalidInput as exc:
        return _invalid(exc)
    response = JSONResponse(receipt_json(receipt), status_code=201)
    response.headers["Cache-Control"] = "no-store"  # the access code is in it
    return response


async def _submission(
    request: Request, kind: str, fields: dict[str, str | None], files: list[Upload]
) -> Submission:
    cases = _cases(request)
    # Every field present, absent ones as None: a body without "what" is the service's
    # "此项必填", not a TypeError.
    values: dict[str, str | None] = dict.fromkeys(SUBMISSION_FIELDS.values())
    values.update({SUBMISSION_FIELDS[name]: value for name, value in fields.items()})
    category = cases.routing.category(values.get("category") or "")
    entry_id = values.get("entry_id")
    entry = await public_entry(request, entry_id) if entry_id else None
    if entry_id and entry is None and (category is None or category.kind == "report"):
        # A report is about a debtor listed now: once removed, the measures are lifted.
        # Complaints may name a removed entry (credit repair needs one); the service checks.
        raise BadRequest(_invalid(InvalidInput("entry_id", "未找到该条目，或该条目已不再公开")))
    if entry is not None:  # a listed entry brings its own name, as on the form
        values["debtor_name"] = None
    return Submission(kind=kind, **values, evidence=tuple(files))  # type: ignore[arg-type]


def receipt_json(receipt: Receipt) -> dict[str, Any]:
    return {
        "number": receipt.number,
        "accessCode": receipt.access_code,
        "unit": {"code": receipt.unit_code, "name": receipt.unit_name},
        "acceptDue": _time(receipt.accept_due),
        "track": TRACK_PATH,
    }


# --- tracking ---------------------------------------------------------------------------------


async def track(request: Request) -> Response:
    try:
        _same_site(request)
        fields = _fields(await _json_body(request), TRACK_REQUEST)
    except BadRequest as exc:
        return exc.response
    number, code = _credentials(fields)
    view = await to_thread.run_sync(_cases(request).track, number, code)
    if view is None:
        return _not_found()
    return _ticket(view)


async def add_info(request: Request) -> Response:
    return await _submitter_act(request, "add_info", "text")


async def contest(request: Request) -> Response:
    return await _submitter_act(request, "contest", "reason")


async def _submitter_act(request: Request, action: str, field: str) -> Response:
    try:
        _same_site(request)
        schema = ADD_INFO_REQUEST if action == "add_info" else CONTEST_REQUEST
        if action == "add_info":  # information may come with files, as on the page
            body, files = await _submission_body(request)
        else:
            body, files = await _json_body(request), []
        fields = _fields(body, schema)
    except BadRequest as exc:
        return exc.response
    number, code = _credentials(fields)
    # A contest's reason may come as "reason" (the domain's word) or "text" (as add-info).
    sent = "reason" if "reason" in fields else "text"
    text = fields.get(sent) or ""
    cases = _cases(request)
    try:
        if action == "add_info":
            view = await to_thread.run_sync(cases.add_info, number, code, text, tuple(files))
        else:
            view = await to_thread.run_sync(cases.contest, number, code, text)
    except NotFound:
        return _not_found()
    except InvalidTransition as exc:
        return api_error(409, "conflict", exc.detail)
    except InvalidInput as exc:
        if exc.field == field:
            exc.field = sent
        return _invalid(exc)
    return _ticket(view)


def _credentials(fields: dict[str, str | None]) -> tuple[str, str]:
    return (fields.get("number") or "")[:64], (fields.get("code") or "")[:64]


def _not_found() -> Response:
    response = api_error(404, "not_found", NOT_FOUND)
    response.headers["Cache-Control"] = "no-store"
    return response


def _ticket(view: TicketView) -> Response:
    response = JSONResponse(ticket_json(view))
    response.headers["Cache-Control"] = "no-store"
    return response


def ticket_json(view: TicketView) -> dict[str, Any]:
    """The submitter's view: what /track shows. TicketView's public form already has no
    internal notes and no contact details; staff names are never in it."""
    state = State(view.state)
    return {
        "number": view.number,
        "kind": view.kind,
        "category": {"code": view.category, "name": view.category_name},
        "measure": view.measure,
        "state": view.state,
        "stateName": view.state_name,
        "unit": {"code": view.unit_code, "name": view.unit_name},
        "entryId": view.entry_id,
        "debtorName": view.debtor_name,
        "courtName": view.court_name,
        "what": view.what,
        "when": view.when,
        "where": view.where,
        "receivedAt": _time(view.received_at),
        "deadlines": [
            {
                "kind": d.kind,
                "unitCode": d.unit_code,
                "period": d.period,
                "dueAt": _time(d.due_at),
                "overdue": d.overdue,
            }
            for d in view.deadlines
        ],
        "timeline": [
            {
                "at": _time(item.at),
                "action": item.action,
                "actionName": ACTION_NAMES.get(item.action, item.action),
                "by": item.actor_kind,
                "state": item.state,
                "stateName": STATE_NAMES[State(item.state)] if item.state else None,
                "unitCode": item.unit_code,
                "message": item.message,
            }
            for item in view.timeline
        ],
        "evidence": _evidence_json(view),
        "canAddInfo": True,  # any state: on an answered ticket it reopens it
        "canContest": state in CONTESTABLE,
    }


# --- request bodies ---------------------------------------------------------------------------


def _same_site(request: Request) -> None:
    """Refuse a post that a browser made from another site's page (see the module doc)."""
    origin = request.headers.get("origin")
    foreign = request.headers.get("sec-fetch-site") == "cross-site" or (
        origin is not None and urlsplit(origin).netloc != request.headers.get("host", "")
    )
    if foreign:
        raise BadRequest(api_error(403, "forbidden", "不接受其他网站的页面发起的提交"))


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _json_body(request: Request) -> object:
    if _media_type(request) != JSON_TYPE:  # before reading a body we would not understand
        raise BadRequest(_unsupported(JSON_TYPE))
    return _parse(await _read(request, request.app.state.settings.form_max_bytes))


async def _submission_body(request: Request) -> tuple[object, list[Upload]]:
    """The submission's JSON, and the evidence files of a multipart request."""
    if _media_type(request) == JSON_TYPE:
        return _parse(await _read(request, request.app.state.settings.form_max_bytes)), []
    if _media_type(request) != MULTIPART:
        raise BadRequest(_unsupported(f"{JSON_TYPE} 或 {MULTIPART}"))
    settings = request.app.state.settings
    raw = await _read(request, settings.upload_max_bytes)
    try:
        # The body is in memory and within its limit already; the file cap only bounds the
        # temporary files, leaving "too many files" to the service's Chinese message.
        form = await _replayed(request, raw).form(
            max_files=MAX_PARTS, max_fields=MAX_PARTS, max_part_size=settings.form_max_bytes
        )
    except HTTPException:
        raise BadRequest(
            api_error(400, "bad_request", f"无法解析 {MULTIPART} 请求体（格式有误或部分过多）")
        ) from None
    try:
        submission = form.get("submission")
        if not isinstance(submission, str):
            raise BadRequest(
                _invalid(InvalidInput("submission", "缺少 submission 部分（提交内容的 JSON）"))
            )
        uploads = [await _upload(part) for part in form.getlist("evidence")]
    finally:
        await form.close()
    return _parse(submission.encode()), uploads


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BadRequest(_too_large(limit))
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise BadRequest(_too_large(limit))
    return bytes(body)


def _replayed(request: Request, body: bytes) -> Request:
    """The request again, its body from memory (it has been read, within the limit)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


def _parse(body: bytes) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest(api_error(400, "bad_request", "请求体不是有效的 JSON")) from None


def _fields(body: object, schema: dict[str, Any]) -> dict[str, str | None]:
    """The body's fields as text (surrounding space removed; empty as absent), checked
    against the body's schema in the document (portal/openapi_casework.py): a field it does
    not name is refused (a misspelt name must not be dropped silently), and so is a value
    of another JSON type (null only where the schema allows it)."""
    if not isinstance(body, dict):
        raise BadRequest(api_error(400, "bad_request", "请求体应为 JSON 对象"))
    properties: dict[str, dict[str, Any]] = schema["properties"]
    out: dict[str, str | None] = {}
    for name, value in body.items():
        if name not in properties:
            shown = mask_full_ids(name[:40])
            message = f"未知字段：{shown}；可用字段：{'、'.join(sorted(properties))}"
            raise BadRequest(api_error(422, "invalid", message, field=shown))
        if value is None and "null" not in properties[name]["type"]:
            raise BadRequest(_invalid(InvalidInput(name, "应为文本（不能为 null）")))
        if value is not None and not isinstance(value, str):
            raise BadRequest(_invalid(InvalidInput(name, "应为文本")))
        out[name] = (value.strip() or None) if value is not None else None
    return out


def _invalid(exc: InvalidInput) -> Response:
    return api_error(422, "invalid", exc.detail, field=CAMEL.get(exc.field, exc.field))


def _unsupported(types: str) -> Response:
    return api_error(415, "unsupported_media_type", f"请以 {types} 提交")


def _too_large(limit: int) -> Response:
    size = f"{limit / 2**20:.1f} MB" if limit >= 2**20 else f"{limit / 1024:.1f} KB"
    return api_error(413, "too_large", f"提交内容过大（上限 {size}）")


def _time(value: datetime) -> str:
    return value.astimezone(CST).isoformat(timespec="seconds")


# --- proof of work and evidence (the modules other work provides) -----------------------------


async def _proof(request: Request, payload: str | None) -> Response | None:
    """The proof of work (portal/altcha.py), as the forms check it: None to go on, or the
    refusal. A missing proof is charged to the small unproven budget, whose 429 is raised
    from here and answered as JSON by the app."""
    if (await altcha.check(request, payload)).accepted:
        return None
    return api_error(422, "invalid", altcha.INVALID_MESSAGE, field="altcha")


async def _upload(part: object) -> Upload:
    if not isinstance(part, UploadFile):
        raise BadRequest(_invalid(InvalidInput("evidence", "evidence 部分应为文件")))
    return Upload(part.filename or "", await part.read())


def _evidence_json(view: TicketView) -> list[dict[str, Any]]:
    # Names and sizes only: the files are never served to the public, by API or page.
    return [
        {
            "filename": f.filename,
            "mediaType": f.media_type,
            "size": f.size,
            "uploadedAt": _time(f.uploaded_at),
        }
        for f in view.evidence
    ]


routes = strict_query(
    [
        Route("/api/v1/casework/categories", categories, methods=["GET"]),
        Route("/api/v1/reports", file_report, methods=["POST"]),
        Route("/api/v1/complaints", file_complaint, methods=["POST"]),
        Route("/api/v1/track", track, methods=["POST"]),
        Route("/api/v1/track/add-info", add_info, methods=["POST"]),
        Route("/api/v1/track/contest", contest, methods=["POST"]),
    ]
)
