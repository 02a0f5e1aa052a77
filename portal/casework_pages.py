"""Filing and following complaints and reports: /reports/new, /complaints/new and /track.

- The forms post with a CSRF token. A validation error re-renders the form with everything
  typed (autoescaped) and the error, in Chinese, next to its field.
- The intake forms are multipart: evidence files (casework/evidence.py) are checked by
  content; files typed on a form that fails validation must be chosen again (browsers cannot
  refill a file input), and the error says so.
- A successful submission answers 303 to GET /receipt (Post/Redirect/Get), which shows the
  ticket number and the secret access code from a short-lived signed cookie
  (portal/receipts.py): a refresh shows the receipt again and files nothing. The code never
  travels in an address, is never logged, and the receipt is ``Cache-Control: no-store``.
  Each form carries a one-time key; a second post of it (a double click) files nothing and
  is sent to /receipt too.
- /track takes the number and the code by POST. An unknown number and a wrong code get the
  same answer. The pages that show a ticket keep the code only in hidden fields of their
  own forms (to add information or contest a reply) and are not stored by any cache.
"""

from __future__ import annotations

import secrets
from typing import Any

from anyio import to_thread
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from casework.errors import InvalidInput, InvalidTransition, NotFound
from casework.evidence import ACCEPT_ATTR, Upload, size_text
from casework.intake import AlreadySubmitted, Submission
from casework.notice_texts import KIND_NAMES
from casework.routing import MEASURE_UNIT, Category
from casework.service import CaseService
from casework.telegram_links import deep_link
from casework.text_limits import MAX_SHORT, MAX_TEXT
from casework.ticket_views import TicketView
from casework.tickets import DEADLINE_NAMES, State
from portal import altcha, receipts
from portal.csrf import CsrfError, checked_form
from portal.render import forbidden, render
from search_index.service import EntryGone, EntryNotFound, ListService

FIELDS = (
    "category",
    "measure",
    "entry_id",
    "debtor_name",
    "what",
    "when",
    "where",
    "email",
    "telegram_link",
    "once_key",
)
# Parts the parser takes beyond the policy's file count, so that choosing a few too many
# files gets the Chinese message of casework.evidence.check, not a bare 400.
EXTRA_FILE_PARTS = 10
CHOOSE_AGAIN = "附件需要重新选择（出于安全原因，浏览器不会保留已选择的文件）。"
# Display names and messages in Chinese: the public templates translate them at render time
# (``_(kind_name)``, portal/translations.py); the unit back office and the API show them as is.
NEW_PATHS = {"report": "/reports/new", "complaint": "/complaints/new"}
ACTION_NAMES = {
    "submit": "提交",
    "accept": "受理",
    "transfer": "转办",
    "decline": "不予受理",
    "reply": "答复",
    "close": "办结",
    "contest": "提出异议",
    "add_info": "补充材料",
    "correction": "完成更正",
    "overdue": "办理超期",
    "note": "内部备注",
}
CONTESTABLE = frozenset({State.REPLIED, State.DECLINED, State.CLOSED})
NOT_FOUND = (
    "没有找到该事项，或查询码不正确。请核对事项编号和查询码（不区分大小写，短横线和空格可省略）。"
)
DONE = {"add_info": "补充材料已提交。", "contest": "异议已提交，办理单位将重新办理。"}


def _cases(request: Request) -> CaseService:
    return request.app.state.cases


def _clean(value: object) -> str:
    """A form value as text, with surrounding space removed; a value of the wrong type (a
    file) counts as empty. Over-long values are kept whole, for the service to refuse."""
    return value.strip() if isinstance(value, str) else ""


async def public_entry(request: Request, entry_id: str) -> dict[str, Any] | None:
    """The entry as the public sees it, or None when it is unknown, never public or removed
    (those must not be described on a form anyone can open)."""
    if not entry_id or len(entry_id) > MAX_SHORT:
        return None
    service: ListService = request.app.state.service
    try:
        view = await to_thread.run_sync(service.entry, entry_id)
    except (EntryNotFound, EntryGone):
        return None
    return view.to_api()


# --- the intake forms -----------------------------------------------------------------------


async def report_form(request: Request) -> Response:
    return await _blank_form(request, "report")


async def complaint_form(request: Request) -> Response:
    return await _blank_form(request, "complaint")


async def _blank_form(request: Request, kind: str) -> Response:
    typed: dict[str, str] = {"once_key": secrets.token_urlsafe(24)}
    entry = await public_entry(request, request.query_params.get("entry", ""))
    if entry:
        typed["entry_id"] = entry["id"]
    return render(request, "casework/new.html", _form_context(request, kind, typed, entry))


async def report_submit(request: Request) -> Response:
    return await _submit(request, "report")


async def complaint_submit(request: Request) -> Response:
    return await _submit(request, "complaint")


async def _submit(request: Request, kind: str) -> Response:
    cases = _cases(request)
    try:
        form = await checked_form(request, cases.evidence_policy.max_files + EXTRA_FILE_PARTS)
    except CsrfError:
        return forbidden(request)
    typed = {name: _clean(form.get(name)) for name in FIELDS}
    if typed["once_key"] and await to_thread.run_sync(cases.already_submitted, typed["once_key"]):
        return RedirectResponse(receipts.PATH, status_code=303)  # a double click
    uploads = await _uploads(form)
    category = cases.routing.category(typed["category"])
    entry = await public_entry(request, typed["entry_id"])
    submission = Submission(
        kind=kind,
        category=typed["category"],
        what=typed["what"],
        entry_id=typed["entry_id"] or None,
        # A named entry brings its own name; the field is not on the form then.
        debtor_name=None if entry else typed["debtor_name"] or None,
        when=typed["when"] or None,
        where=typed["where"] or None,
        # Only complaints about a measure name one; a stale choice elsewhere is ignored.
        measure=(typed["measure"] or None)
        if category is not None and category.route == MEASURE_UNIT
        else None,
        email=typed["email"] or None,
        # The link is made only where a bot exists to receive it.
        telegram_link=bool(typed["telegram_link"]) and _bot(request) is not None,
        evidence=uploads,
        once_key=typed["once_key"] or None,
    )
    try:
        # A typo must not spend the proof of work (or a slot of the unproven budget).
        await to_thread.run_sync(cases.validate, submission)
    except InvalidInput as exc:
        return _refused(request, kind, typed, entry, exc, uploads)
    proof = await altcha.check(request, form.get("altcha"))  # 429 past the unproven budget
    if not proof.accepted:
        refusal = InvalidInput("altcha", altcha.INVALID_MESSAGE)
        return _refused(request, kind, typed, entry, refusal, uploads)
    try:
        receipt = await to_thread.run_sync(cases.submit, submission)
    except AlreadySubmitted:
        return RedirectResponse(receipts.PATH, status_code=303)
    except InvalidInput as exc:
        return _refused(request, kind, typed, entry, exc, uploads)
    response = RedirectResponse(receipts.PATH, status_code=303)
    issued = receipts.ReceiptCookie(
        kind, receipt.number, receipt.access_code, receipt.telegram_token
    )
    receipts.attach(request, response, issued)
    return response


def _refused(
    request: Request,
    kind: str,
    typed: dict[str, str],
    entry: dict[str, Any] | None,
    exc: InvalidInput,
    uploads: tuple[Upload, ...],
) -> Response:
    """The form again, everything typed kept, the error next to its field."""
    error = exc.detail + (CHOOSE_AGAIN if uploads else "")
    field = exc.field if exc.field != "once_key" else None
    if exc.field == "once_key":
        typed["once_key"] = secrets.token_urlsafe(24)
    context = _form_context(request, kind, typed, entry, error=error, field=field)
    context["files_lost"] = bool(uploads)
    return render(request, "casework/new.html", context, status_code=422, private=True)


async def receipt_page(request: Request) -> Response:
    """The receipt, as often as the page is reloaded while its cookie lasts."""
    issued = receipts.read(request)
    cases = _cases(request)
    view = None
    if issued is not None and issued.kind in KIND_NAMES:
        view = await to_thread.run_sync(cases.track, issued.number, issued.code)
    if issued is None or view is None:
        return render(request, "casework/receipt.html", {"receipt": None}, private=True)
    bot = _bot(request)
    context = {
        "receipt": issued,
        "ticket": view,
        "kind": issued.kind,
        "kind_name": KIND_NAMES[issued.kind],
        "kind_names": KIND_NAMES,
        "deadline_names": DEADLINE_NAMES,
        "telegram_url": deep_link(bot, issued.telegram_token)
        if bot and issued.telegram_token
        else None,
        **_evidence_context(request),
    }
    return render(request, "casework/receipt.html", context, private=True)


def _bot(request: Request) -> str | None:
    return request.app.state.settings.telegram_bot_username


async def _uploads(form: FormData) -> tuple[Upload, ...]:
    """The files of the form's evidence input. A file input left empty still sends one
    part, with no name and no bytes: that is no file."""
    out = []
    for value in form.getlist("evidence"):
        if not isinstance(value, UploadFile):
            continue
        data = await value.read()
        await value.close()
        if value.filename or data:
            out.append(Upload(value.filename or "", data))
    return tuple(out)


def _form_context(
    request: Request,
    kind: str,
    typed: dict[str, str],
    entry: dict[str, Any] | None,
    *,
    error: str | None = None,
    field: str | None = None,
) -> dict[str, Any]:
    routing = _cases(request).routing
    reports = routing.reports()
    groups: list[tuple[str, list[Category]]] = []
    for code, name in routing.areas.items():
        members = [c for c in reports if c.area == code]
        if members:
            groups.append((name, members))
    return {
        "kind": kind,
        "kind_name": KIND_NAMES[kind],
        "action": NEW_PATHS[kind],
        "other_path": NEW_PATHS["complaint" if kind == "report" else "report"],
        "typed": typed,
        "entry": entry,
        "groups": groups,
        "complaints": routing.complaints(),
        "jurisdiction": routing.jurisdiction,
        "error": error,
        "error_field": _form_field(field),
        "max_text": MAX_TEXT,
        "max_short": MAX_SHORT,
        "telegram_bot": _bot(request),
        **_evidence_context(request),
    }


def _evidence_context(request: Request) -> dict[str, Any]:
    policy = _cases(request).evidence_policy
    return {
        "evidence_max_files": policy.max_files,
        "evidence_max_size": size_text(policy.max_file_bytes),
        "evidence_accept": ACCEPT_ATTR,
        "size_text": size_text,
    }


def _form_field(field: str | None) -> str | None:
    """The form field an error of the service belongs next to."""
    if field == "unit":
        return "category"
    return field


# --- tracking ----------------------------------------------------------------------------


async def track_form(request: Request) -> Response:
    number = request.query_params.get("number", "")[:32]
    return render(request, "casework/track.html", _track_context({"number": number}))


async def track_lookup(request: Request) -> Response:
    try:
        form = await checked_form(request)
    except CsrfError:
        return forbidden(request)
    number, code = _credentials(form)
    view = await to_thread.run_sync(_cases(request).track, number, code)
    if view is None:
        return _not_found(request, number)
    return _ticket(request, view, code)


async def track_add_info(request: Request) -> Response:
    return await _submitter_act(request, "add_info")


async def track_contest(request: Request) -> Response:
    return await _submitter_act(request, "contest")


async def _submitter_act(request: Request, action: str) -> Response:
    cases = _cases(request)
    files = cases.evidence_policy.max_files + EXTRA_FILE_PARTS if action == "add_info" else 0
    try:
        form = await checked_form(request, files)
    except CsrfError:
        return forbidden(request)
    number, code = _credentials(form)
    text = _clean(form.get("text"))
    uploads = await _uploads(form)
    try:
        if action == "add_info":
            view = await to_thread.run_sync(cases.add_info, number, code, text, uploads)
        else:
            view = await to_thread.run_sync(cases.contest, number, code, text)
    except NotFound:
        return _not_found(request, number)
    except (InvalidInput, InvalidTransition) as exc:
        current = await to_thread.run_sync(cases.track, number, code)
        if current is None:
            return _not_found(request, number)
        error = exc.detail + (CHOOSE_AGAIN if uploads else "")
        extra = {"error": error, "error_action": action, "typed_text": text}
        return _ticket(request, current, code, status_code=exc.status, **extra)
    return _ticket(request, view, code, done=DONE[action])


def _credentials(form: FormData) -> tuple[str, str]:
    return _clean(form.get("number"))[:64], _clean(form.get("code"))[:64]


def _not_found(request: Request, number: str) -> Response:
    # The same page for an unknown number and a wrong code; the code is never written back.
    context = _track_context({"number": number}, error=NOT_FOUND)
    return render(request, "casework/track.html", context, status_code=404, private=True)


def _ticket(
    request: Request, view: TicketView, code: str, *, status_code: int = 200, **extra: Any
) -> Response:
    context = _track_context(
        {"number": view.number},
        ticket=view,
        code=code,
        contestable=view.state in CONTESTABLE,
        **_evidence_context(request),
        **extra,
    )
    return render(request, "casework/track.html", context, status_code=status_code, private=True)


def _track_context(typed: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "typed": typed,
        "ticket": None,
        "error": None,
        "error_action": None,
        "typed_text": "",
        "done": None,
        "action_names": ACTION_NAMES,
        "deadline_names": DEADLINE_NAMES,
        "kind_names": KIND_NAMES,
        "max_text": MAX_TEXT,
        **extra,
    }


routes = [
    Route("/reports/new", report_form, methods=["GET"]),
    Route("/reports/new", report_submit, methods=["POST"]),
    Route("/complaints/new", complaint_form, methods=["GET"]),
    Route("/complaints/new", complaint_submit, methods=["POST"]),
    Route("/receipt", receipt_page, methods=["GET"]),
    Route("/track", track_form, methods=["GET"]),
    Route("/track", track_lookup, methods=["POST"]),
    Route("/track/add-info", track_add_info, methods=["POST"]),
    Route("/track/contest", track_contest, methods=["POST"]),
]
