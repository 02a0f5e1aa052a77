"""Filing and following complaints and reports: /reports/new, /complaints/new and /track.

- The forms post with a CSRF token. A validation error re-renders the form with everything
  typed (autoescaped) and the error, in Chinese, next to its field.
- A successful submission answers with the receipt in that same response: the ticket number
  and the secret access code, shown this once. The code never travels in an address (no
  redirect carries it), is never logged, and the receipt is ``Cache-Control: no-store``.
- /track takes the number and the code by POST. An unknown number and a wrong code get the
  same answer. The pages that show a ticket keep the code only in hidden fields of their
  own forms (to add information or contest a reply) and are not stored by any cache.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casework.errors import InvalidInput, InvalidTransition, NotFound
from casework.routing import MEASURE_UNIT, Category
from casework.service import MAX_SHORT, MAX_TEXT, CaseService, Submission, TicketView
from casework.tickets import State
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
    "telegram",
)
KIND_NAMES = {"report": "举报", "complaint": "投诉"}
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
DEADLINE_NAMES = {"accept": "受理", "reply": "答复", "correct": "更正"}
CONTESTABLE = frozenset({State.REPLIED, State.DECLINED, State.CLOSED})
NOT_FOUND = (
    "没有找到该事项，或查询码不正确。请核对事项编号和查询码（不区分大小写，短横线和空格可省略）。"
)


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
    typed: dict[str, str] = {}
    entry = await public_entry(request, request.query_params.get("entry", ""))
    if entry:
        typed["entry_id"] = entry["id"]
    return render(request, "casework/new.html", _form_context(request, kind, typed, entry))


async def report_submit(request: Request) -> Response:
    return await _submit(request, "report")


async def complaint_submit(request: Request) -> Response:
    return await _submit(request, "complaint")


async def _submit(request: Request, kind: str) -> Response:
    try:
        form = await checked_form(request)
    except CsrfError:
        return forbidden(request)
    typed = {name: _clean(form.get(name)) for name in FIELDS}
    cases = _cases(request)
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
        telegram=typed["telegram"] or None,
    )
    try:
        receipt = await to_thread.run_sync(cases.submit, submission)
    except InvalidInput as exc:
        context = _form_context(request, kind, typed, entry, error=exc.detail, field=exc.field)
        return render(request, "casework/new.html", context, status_code=422, private=True)
    # What was submitted, as the submitter will see it on /track.
    view = await to_thread.run_sync(cases.track, receipt.number, receipt.access_code)
    context = {
        "receipt": receipt,
        "ticket": view,
        "kind": kind,
        "kind_name": KIND_NAMES[kind],
        "kind_names": KIND_NAMES,
        "deadline_names": DEADLINE_NAMES,
    }
    return render(request, "casework/receipt.html", context, private=True)


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
    try:
        form = await checked_form(request)
    except CsrfError:
        return forbidden(request)
    number, code = _credentials(form)
    text = _clean(form.get("text"))
    cases = _cases(request)
    act = cases.add_info if action == "add_info" else cases.contest
    try:
        view = await to_thread.run_sync(act, number, code, text)
    except NotFound:
        return _not_found(request, number)
    except (InvalidInput, InvalidTransition) as exc:
        current = await to_thread.run_sync(cases.track, number, code)
        if current is None:
            return _not_found(request, number)
        extra = {"error": exc.detail, "error_action": action, "typed_text": text}
        return _ticket(request, current, code, status_code=exc.status, **extra)
    done = "补充材料已提交。" if action == "add_info" else "异议已提交，办理单位将重新办理。"
    return _ticket(request, view, code, done=done)


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
    Route("/track", track_form, methods=["GET"]),
    Route("/track", track_lookup, methods=["POST"]),
    Route("/track/add-info", track_add_info, methods=["POST"]),
    Route("/track/contest", track_contest, methods=["POST"]),
]
